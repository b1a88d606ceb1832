"""Demo customer base for the demo workspace (WORKSPACE, made by engine.demo): ~5,000 customers with contact channels
(some missing), time zones, attributes and tags, ~30,000 behaviour events over the last 60 days, audiences,
and the workspace's documented API key. Deterministic (seeded random) and idempotent.

    python -m engine.demo                    # the workspace, its users and activities, then these customers
    python -m engine.demo_customers          # only the customers (into the demo workspace engine.demo made)

Audiences (ids 1 and 2 are guaranteed in a fresh database; the demo flows use them):
    1 All members                 rule: has a member_level tag
    2 New members last 30 days    rule: joined within 30 days and has a member_level tag
    3 VIP list                    static, imported through the CSV import (gold/platinum, spend ≥ 8,000)
    4+ Shanghai female members, High spenders (≥ 5,000), At risk or dormant, Overseas customers

The demo API key (for POST /api/v1/events and /api/v1/audiences/import) is DEMO_API_KEY below.
"""

import itertools
import random
import time
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, text
from sqlmodel import Session, col, func, select

from engine import clock
from engine.api.keys import has_api_key, set_api_key
from engine.db import write_session
from engine.models import Audience, AudienceKind, BehaviorEvent, Customer, Role, User, Workspace, row_id, table_of
from engine.services.audiences import import_csv, import_csv_for_workspace
from engine.shared.customers import upsert_customers

#: documented in the README: `curl -H "Authorization: Bearer amk_demo_retail_local_only_0001" ...`
#: the demo workspace's name: engine.demo creates it (and imports it from here, the lower of the two modules)
WORKSPACE = "Demo Retail"
DEMO_API_KEY = "amk_demo_retail_local_only_0001"
CUSTOMERS = 5000
EVENTS = 30_000
EVENT_DAYS = 60
SEED = 20260501

_SURNAMES = ["Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou", "Xu", "Sun", "Ma", "Zhu",
             "Hu", "Guo", "He", "Lin", "Gao", "Luo", "Zheng", "Liang", "Xie", "Song", "Tang", "Han", "Feng", "Deng"]
_GIVEN_F = ["Fang", "Na", "Min", "Jing", "Li", "Yan", "Xiuying", "Ting", "Xue", "Hui", "Yu", "Lan", "Qian", "Yue",
            "Meiling", "Xiaoyu", "Jiayi", "Zihan", "Yutong", "Shuang"]
_GIVEN_M = ["Wei", "Qiang", "Lei", "Jun", "Yang", "Jie", "Tao", "Ming", "Chao", "Hao", "Peng", "Bo", "Hui", "Gang",
            "Zihao", "Haoran", "Yuxuan", "Junjie", "Jianguo", "Kai"]
_WEST_F = ["Emily", "Olivia", "Sophie", "Grace", "Hannah", "Chloe", "Emma", "Lucy"]
_WEST_M = ["James", "Oliver", "Daniel", "Henry", "Jack", "Ethan", "Samuel", "Noah"]
_WEST_SUR = ["Smith", "Carter", "Brown", "Taylor", "Wilson", "Evans", "Walker", "Clarke", "Hughes", "Lee"]
_JP_F, _JP_M = ["Yui", "Haruka", "Aoi", "Sakura"], ["Haruto", "Ren", "Sota", "Kenji"]
_JP_SUR = ["Sato", "Suzuki", "Takahashi", "Tanaka", "Watanabe", "Ito"]
_CN_CITIES = [("Shanghai", 24), ("Beijing", 16), ("Guangzhou", 10), ("Shenzhen", 11), ("Hangzhou", 9),
              ("Chengdu", 8), ("Wuhan", 6), ("Nanjing", 6), ("Suzhou", 5), ("Xi'an", 5)]
#: time zone, weight, city (None: a Chinese city), phone country code, name style
_ZONES = [("Asia/Shanghai", 860, None, "+86", "cn"), ("Asia/Hong_Kong", 40, "Hong Kong", "+852", "cn"),
          ("Asia/Singapore", 30, "Singapore", "+65", "cn"), ("Asia/Tokyo", 20, "Tokyo", "+81", "jp"),
          ("Europe/London", 20, "London", "+44", "west"), ("America/Los_Angeles", 15, "Los Angeles", "+1", "west"),
          ("America/New_York", 15, "New York", "+1", "west")]
_CN_PREFIX = ["138", "139", "135", "136", "137", "150", "151", "152", "158", "159", "186", "187", "188", "189",
              "177", "199"]
_DOMAINS = ["example.com", "example.net", "example.org", "mail.example.com"]
_LEVELS = [("bronze", 45), ("silver", 30), ("gold", 17), ("platinum", 8)]
_SPEND = {"bronze": (0, 800), "silver": (500, 3000), "gold": (2000, 10_000), "platinum": (8000, 50_000)}
_STAGES = [("active", 50), ("at_risk", 20), ("dormant", 20), ("churned", 10)]
_ACTIVITY = {"new": 8.0, "active": 10.0, "at_risk": 4.0, "dormant": 0.6, "churned": 0.15}
_CATEGORIES = ["apparel", "beauty", "shoes", "electronics", "home", "snacks", "sports", "kids"]
_PAGES = ["/home", "/activity/double11", "/activity/member-day", "/category/beauty", "/category/apparel",
          "/product/detail", "/coupon/center", "/live/room", "/member/points"]
_PLATFORMS = ["ios", "android", "h5", "mini_program"]
_KEYWORDS = ["sneakers", "lipstick", "down jacket", "headphones", "yoga mat", "skincare set", "coffee", "dress"]


def _pick(rng: random.Random, weighted: list[tuple[Any, int]]) -> Any:
    return rng.choices([v for v, _ in weighted], weights=[w for _, w in weighted])[0]


def _person(rng: random.Random, i: int, now: datetime) -> dict[str, Any]:
    zone, _, city, cc, style = rng.choices(_ZONES, weights=[z[1] for z in _ZONES])[0]
    gender = "female" if rng.random() < 0.56 else "male"
    if style == "west":
        given = rng.choice(_WEST_F if gender == "female" else _WEST_M)
        surname = rng.choice(_WEST_SUR)
        name = f"{given} {surname}"
    elif style == "jp":
        given, surname = rng.choice(_JP_F if gender == "female" else _JP_M), rng.choice(_JP_SUR)
        name = f"{surname} {given}"
    else:
        given, surname = rng.choice(_GIVEN_F if gender == "female" else _GIVEN_M), rng.choice(_SURNAMES)
        name = f"{surname} {given}"
    city = city or _pick(rng, _CN_CITIES)
    if cc == "+86":
        phone = cc + rng.choice(_CN_PREFIX) + f"{rng.randrange(10**8):08d}"
    elif cc == "+1":
        phone = cc + f"{rng.randint(201, 989)}{rng.randrange(10**7):07d}"
    elif cc == "+44":
        phone = cc + "7" + f"{rng.randrange(10**9):09d}"
    elif cc == "+81":
        phone = cc + "90" + f"{rng.randrange(10**8):08d}"
    else:
        phone = cc + rng.choice("689") + f"{rng.randrange(10**7):07d}"
    openid_chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    new = rng.random() < 0.12
    joined = now - timedelta(days=rng.uniform(0.2, 29.5) if new else rng.uniform(31, 730))
    member = rng.random() < 0.92 or new
    level = "bronze" if new and member else (_pick(rng, _LEVELS) if member else None)
    low, high = _SPEND[level or "bronze"]
    spend = 0.0 if new and rng.random() < 0.6 else round(rng.uniform(low, high), 2)
    age = int(rng.triangular(18, 68, 31))
    stage = "new" if new else _pick(rng, _STAGES)
    channels = {
        "phone": phone if rng.random() < 0.93 else None,
        "email": f"{given.lower()}.{surname.lower()}{rng.randint(1, 999)}@{rng.choice(_DOMAINS)}"
        if rng.random() < 0.68 else None,
        "wechat_openid": "o" + "".join(rng.choice(openid_chars) for _ in range(27))
        if rng.random() < (0.62 if style == "cn" else 0.08) else None,
        "push_token": f"{rng.getrandbits(256):064x}" if rng.random() < 0.48 else None,
    }
    preferred = next((c for c in ("wechat_openid", "push_token", "phone", "email") if channels[c]), None)
    tags = {"gender": gender, "city": city, "lifecycle_stage": stage,
            "age_band": "18-24" if age < 25 else "25-34" if age < 35 else "35-44" if age < 45
            else "45-54" if age < 55 else "55+"}
    if level:
        tags["member_level"] = level
    if spend >= 5000:
        tags["high_value"] = "yes"
    if preferred:
        tags["preferred_channel"] = {"wechat_openid": "wechat", "push_token": "app_push", "phone": "sms",
                                     "email": "email"}[preferred]
    return {
        "qaid": f"QA{10_000_001 + i}", "name": name, **channels, "timezone": zone,
        "attributes": {"city": city, "gender": gender, "age": age, "member_level": level or "guest",
                       "total_spend": spend, "birth_month": rng.randint(1, 12),
                       "orders": 0 if spend == 0 else max(1, int(spend / rng.uniform(150, 600)))},
        "tags": tags, "created_at": joined,
    }


def _events(rng: random.Random, people: list[dict[str, Any]], ids: dict[str, int], workspace_id: int,
            now: datetime) -> list[dict[str, Any]]:
    """Sessions (login → browse → maybe cart → maybe purchase) until ~EVENTS events, newest customers
    registering the app when they joined."""
    start = now - timedelta(days=EVENT_DAYS)
    rows: list[dict[str, Any]] = []

    def add(person: dict[str, Any], name: str, when: datetime, props: dict[str, Any]) -> None:
        rows.append({"workspace_id": workspace_id, "customer_id": ids[person["qaid"]], "name": name,
                     "properties": props, "occurred_at": when, "received_at": when + timedelta(seconds=2)})

    for person in people:
        if person["created_at"] >= start:
            add(person, "register_app", person["created_at"],
                {"platform": rng.choice(_PLATFORMS), "channel": rng.choice(["app_store", "huawei", "xiaomi",
                                                                            "h5_invite", "mini_program"])})
    # accumulated once: `choices(weights=...)` re-adds all 5,000 weights on every draw (0.7 s of the demo's
    # load); the same cumulative weights draw the same customers
    cum_weights = list(itertools.accumulate(_ACTIVITY[p["tags"]["lifecycle_stage"]] for p in people))
    order = 0
    while len(rows) < EVENTS:
        person = rng.choices(people, cum_weights=cum_weights)[0]
        earliest = max(start, person["created_at"])
        t = earliest + (now - earliest) * rng.random()
        platform = rng.choice(_PLATFORMS)
        add(person, "login", t, {"platform": platform})
        for _ in range(rng.randint(1, 4)):
            t += timedelta(seconds=rng.randint(5, 240))
            add(person, "browse_h5", t, {"page": rng.choice(_PAGES), "duration_s": rng.randint(3, 300),
                                         "source": rng.choice(["direct", "sms", "wechat", "app_push", "search"])})
        if rng.random() < 0.25:
            t += timedelta(seconds=rng.randint(5, 60))
            add(person, "search", t, {"keyword": rng.choice(_KEYWORDS)})
        if rng.random() < 0.08:
            t += timedelta(seconds=rng.randint(5, 60))
            add(person, "coupon_claim", t, {"coupon": rng.choice(["NEW20", "MEMBER50", "D11-100", "FREESHIP"])})
        if rng.random() < 0.35:
            category = rng.choice(_CATEGORIES)
            price = round(rng.uniform(19, 899), 2)
            qty = rng.randint(1, 3)
            t += timedelta(seconds=rng.randint(10, 600))
            add(person, "add_to_cart", t, {"sku": f"SKU-{rng.randint(10000, 99999)}", "category": category,
                                           "price": price, "quantity": qty})
            if rng.random() < 0.45:
                order += 1
                t += timedelta(seconds=rng.randint(30, 1800))
                add(person, "purchase", t, {"order_id": f"ORD{now:%y%m}{order:06d}", "category": category,
                                            "amount": round(price * qty, 2), "items": qty,
                                            "payment": rng.choice(["alipay", "wechat_pay", "card"])})
    return [r for r in rows if r["occurred_at"] <= now]


def _rule_audience(session: Session, workspace_id: int, name: str, rule: dict[str, Any],
                   audience_id: int | None = None) -> Audience:
    audience = Audience(id=audience_id, workspace_id=workspace_id, name=name, kind=AudienceKind.RULE, rule=rule,
                        source="demo rule")
    session.add(audience)
    session.flush()
    return audience


def _audiences(session: Session, ws: Workspace, people: list[dict[str, Any]], admin: User | None) -> None:
    # ids 1 and 2 are what the demo flows reference: take them explicitly when free
    free = not session.exec(select(Audience.id).where(col(Audience.id).in_([1, 2]))).first()
    member = {"field": "tag:member_level", "op": "exists"}
    _rule_audience(session, row_id(ws), "All members", {"all": [member]}, 1 if free else None)
    _rule_audience(session, row_id(ws), "New members last 30 days",
                   {"all": [{"field": "created_at", "op": "within_days", "value": 30}, member]}, 2 if free else None)
    if free and session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT setval(pg_get_serial_sequence('audience', 'id'), "
                             "(SELECT MAX(id) FROM audience))"))
    vips = [p["qaid"] for p in people
            if p["tags"].get("member_level") in ("gold", "platinum") and p["attributes"]["total_spend"] >= 8000]
    csv_text = "qaid,tag:vip\n" + "".join(f"{q},yes\n" for q in vips)
    if admin is not None:
        import_csv(session=session, actor=admin, name="VIP list", csv_text=csv_text)
    else:
        import_csv_for_workspace(session=session, workspace_id=row_id(ws), name="VIP list", csv_text=csv_text)
    _rule_audience(session, row_id(ws), "Shanghai female members", {"all": [
        {"field": "attr:city", "op": "eq", "value": "Shanghai"}, {"field": "tag:gender", "op": "eq", "value": "female"},
        member]})
    _rule_audience(session, row_id(ws), "High spenders (5,000+)",
                   {"all": [{"field": "attr:total_spend", "op": "gte", "value": 5000}]})
    _rule_audience(session, row_id(ws), "At risk or dormant",
                   {"all": [{"field": "tag:lifecycle_stage", "op": "in", "value": ["at_risk", "dormant"]}]})
    _rule_audience(session, row_id(ws), "Overseas customers",
                   {"all": [{"field": "timezone", "op": "neq", "value": "Asia/Shanghai"}]})


def seed_customers(session: Session) -> bool:
    """Fill the demo workspace with customers, tags, events and audiences, and install DEMO_API_KEY (when the
    workspace has no key). Returns True when it created the customers; False when the demo workspace is
    missing or already has customers."""
    ws = session.exec(select(Workspace).where(Workspace.name == WORKSPACE)).first()
    if ws is None:
        return False
    if not has_api_key(session=session, workspace_id=row_id(ws)):
        set_api_key(session=session, workspace_id=row_id(ws), key=DEMO_API_KEY, name="Demo key")
    if session.exec(select(func.count()).select_from(Customer).where(Customer.workspace_id == row_id(ws))).one():
        return False
    rng = random.Random(SEED)
    now = clock.now()
    people = [_person(rng, i, now) for i in range(CUSTOMERS)]
    result = upsert_customers(session=session, workspace_id=row_id(ws), rows=people)
    session.execute(insert(table_of(BehaviorEvent)), _events(rng, people, result.ids, row_id(ws), now))
    admin = session.exec(select(User).where(User.workspace_id == row_id(ws), User.role == Role.ADMIN)
                         .order_by(col(User.id))).first()
    _audiences(session, ws, people, admin)
    session.flush()
    return True


def main() -> None:
    started = time.perf_counter()
    with write_session() as session:
        created = seed_customers(session)
    took = time.perf_counter() - started
    print(f"demo customers created in {took:.1f}s" if created else
          "demo customers already present (or no demo workspace yet: python -m engine.demo makes it)")
    print(f"demo API key: {DEMO_API_KEY}")


if __name__ == "__main__":
    main()
