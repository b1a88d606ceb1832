"""A generated customer base for the benchmarks, written with the raw DBAPI (`executemany` in big
transactions: a million customers take seconds), plus the workspace, a marketer, an API key, a static
audience of everyone, and the activities the benchmarks run.

Customers: `B0000001`… with name, phone (1 % have none), email, push token (2 % have none), a time zone, two
attributes and two tags: `level` (vip 10 %, gold 20 %, regular 70 %) and `city` (one of four)."""

import random
import sqlite3
from datetime import UTC, datetime
from typing import Any

from engine.api.keys import set_api_key
from engine.db import write_session
from engine.models import Role, User, Workspace
from engine.services import activities as svc
from engine.services.activities import ActivityInput
from engine.services.auth import hash_password
from engine.settings import get_settings

API_KEY = "amk_bench_local_only_000000000001"
CITIES = ("Beijing", "Shanghai", "Guangzhou", "Shenzhen")


def db_path() -> str:
    url = get_settings().database_url
    assert url.startswith("sqlite:///"), "the benchmarks seed SQLite directly"
    return url.removeprefix("sqlite:///")


def workspace_and_user() -> tuple[int, int]:
    with write_session() as session:
        ws = Workspace(name="bench")
        session.add(ws)
        session.flush()
        user = User(workspace_id=ws.id, username="bench", display_name="Bench", role=Role.MARKETER,
                    password_hash=hash_password("bench-pass", rounds=4))
        session.add(user)
        set_api_key(session=session, workspace_id=ws.id, key=API_KEY)
        session.flush()
        return ws.id, user.id


def customers(workspace_id: int, n: int, *, seed: int = 1, audience_name: str = "Everyone",
              reachable: bool = False) -> tuple[list[int], int]:
    """Insert n customers with tags and a static audience of all of them; returns (ids, audience id).
    `reachable`: every customer has a phone and a push token."""
    rng = random.Random(seed)
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    con = sqlite3.connect(db_path(), isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=OFF")
    start = (con.execute("SELECT COALESCE(MAX(id), 0) FROM customer").fetchone()[0]) + 1
    ids = list(range(start, start + n))
    chunk = 100_000
    con.execute("BEGIN")
    for lo in range(0, n, chunk):
        rows = []
        tags = []
        for cid in ids[lo:lo + chunk]:
            u = rng.random()
            if reachable:
                u = min(max(u, 0.011), 0.979)  # same tag shares, every address present
            rows.append((cid, workspace_id, f"B{cid:07d}", f"Customer {cid}",
                         None if u < 0.01 else f"+86138{cid:08d}", f"c{cid}@example.com",
                         None, None if u > 0.98 else f"push-{cid:010d}", "Asia/Shanghai",
                         f'{{"age": {18 + cid % 60}, "spend": {cid % 1000}}}', now))
            level = "vip" if u < 0.1 else "gold" if u < 0.3 else "regular"
            tags.append((cid, "level", level, now))
            tags.append((cid, "city", CITIES[cid % 4], now))
        con.executemany("INSERT INTO customer (id, workspace_id, qaid, name, phone, email, wechat_openid, push_token,"
                        " timezone, attributes, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows)
        con.executemany("INSERT INTO customertag (customer_id, tag, value, updated_at) VALUES (?,?,?,?)", tags)
    cur = con.execute("INSERT INTO audience (workspace_id, name, kind, rule, source, created_at) "
                      "VALUES (?, ?, 'static', '{}', 'bench', ?)", (workspace_id, audience_name, now))
    audience_id = int(cur.lastrowid or 0)
    for lo in range(0, n, chunk):
        con.executemany("INSERT INTO audiencemember (audience_id, customer_id) VALUES (?, ?)",
                        [(audience_id, cid) for cid in ids[lo:lo + chunk]])
    con.execute("COMMIT")
    con.close()
    return ids, audience_id


def node(nid: str, type_: str, **config: Any) -> dict[str, Any]:
    return {"id": nid, "type": type_, "config": config, "position": {"x": 0, "y": 0}}


def edge(src: str, dst: str, branch: str = "out") -> dict[str, str]:
    return {"source": src, "branch": branch, "target": dst}


def throughput_flow(audience_id: int, webhook_url: str) -> dict[str, Any]:
    """Target Audience → Tag Judgment (vip, gold, others) → Random Grouping 20/30/50 (one per tag branch)
    → Text SMS / Email / APP PUSH → Result Judgment (sent: success or pending) → Webhook → End."""
    sent = [{"name": "sent", "conditions": [{"op": "in", "value": ["success", "pending"]}]}]
    nodes = [
        node("t", "target_audience", audience_id=audience_id),
        node("tj", "tag_judgment", groups=[
            {"name": "VIP", "conditions": [{"tag": "level", "op": "eq", "value": "vip"}]},
            {"name": "Gold", "conditions": [{"tag": "level", "op": "eq", "value": "gold"}]}]),
        *[node(f"rg{i}", "random_grouping", groups=[{"ratio": 20}, {"ratio": 30}, {"ratio": 50}]) for i in (1, 2, 3)],
        node("sms", "text_sms", content="Hi {name}, the spring sale starts today", signature="Shop"),
        node("mail", "email", subject="The spring sale starts today",
             body="Spring sale: everything 20% off until Sunday. See you in store!"),
        node("push", "app_push", title="Spring sale", body="Hi {name}, everything 20% off until Sunday"),
        node("rj_sms", "result_judgment", node_id="sms", groups=sent),
        node("rj_mail", "result_judgment", node_id="mail", groups=sent),
        node("rj_push", "result_judgment", node_id="push", groups=sent),
        node("hook", "webhook", url=webhook_url, fields=["name", "phone", "email"]),
        node("end_ok", "end"),
        node("end_no", "end"),
    ]
    edges = [edge("t", "tj"), edge("tj", "rg1", "group_1"), edge("tj", "rg2", "group_2"), edge("tj", "rg3", "others")]
    for i in (1, 2, 3):
        edges += [edge(f"rg{i}", "sms", "group_1"), edge(f"rg{i}", "mail", "group_2"),
                  edge(f"rg{i}", "push", "group_3")]
    for touch in ("sms", "mail", "push"):
        edges += [edge(touch, f"rj_{touch}"), edge(f"rj_{touch}", "hook", "group_1"),
                  edge(f"rj_{touch}", "end_no", "others")]
    edges.append(edge("hook", "end_ok"))
    return {"nodes": nodes, "edges": edges}


def event_flow(event: str = "bench_click") -> dict[str, Any]:
    """Behaviour Event → Text SMS → End: the first component after the trigger is a touch."""
    return {"nodes": [node("ev", "behavior_event", event=event, times=1, window_hours=1),
                      node("sms", "text_sms", content="Thanks for your visit, {name}"),
                      node("end", "end")],
            "edges": [edge("ev", "sms"), edge("sms", "end")]}


def publish(user_id: int, name: str, flow: dict[str, Any], **settings: Any) -> int:
    """Create and publish; `settings` are further basic-information fields (pacing, goal: bench/rules.py)."""
    with write_session() as session:
        user = session.get(User, user_id)
        assert user is not None
        activity = svc.create_activity(session=session, actor=user, data=ActivityInput(name=name, **settings),
                                       flow=flow)
        activity_id = activity.id
    with write_session() as session:
        svc.publish(session=session, actor=session.get(User, user_id), activity_id=activity_id)
    return int(activity_id or 0)
