"""Strategy templates: preset flows for common scenarios (seed 001, FAQ), each with the key components to
configure and a hint on each (View rules / View content). A template-based activity keeps `template_key`;
a copy of it is detached (services.activities.copy_activity)."""

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class KeyComponent:
    node_id: str
    hint: str  # the prompt shown above the component
    action: str  # "View rules" (audience filtering rules) or "View content" (recommended message)
    detail: str  # what the window opened by the action shows


@dataclass(frozen=True)
class Template:
    key: str
    name: str
    description: str
    flow: dict[str, Any]
    key_components: list[KeyComponent] = field(default_factory=list)


def _n(nid: str, type_: str, x: int, y: int, **config: Any) -> dict[str, Any]:
    return {"id": nid, "type": type_, "config": config, "position": {"x": x, "y": y}}


def _e(src: str, dst: str, branch: str = "out") -> dict[str, str]:
    return {"source": src, "branch": branch, "target": dst}


TEMPLATES: list[Template] = [
    Template(
        key="new_member_first_order",
        name="New member first-order conversion",
        description="Coupons right after registration, a care SMS once they arrive, and an expiry reminder "
                    "after the member logs in, to drive the first order.",
        flow={
            "nodes": [
                _n("n1", "behavior_event", 0, 120, event="member_registered", times=1, window_hours=24),
                _n("n2", "webhook", 260, 120, url="https://crm.example.com/coupons/issue", secret="",
                   retries=3),
                _n("n3", "result_judgment", 520, 120, node_id="n2",
                   groups=[{"name": "coupon sent", "conditions": [{"op": "eq", "value": "success"}]}]),
                _n("n4", "text_sms", 780, 40, content=""),
                _n("n5", "event_judgment", 1040, 40, groups=[{"name": "logged in", "conditions": [
                    {"event": "login", "performed": True, "times": 1, "window_hours": 72}]}]),
                _n("n6", "text_sms", 1300, 0, content=""),
                _n("n7", "end", 1560, 0), _n("n8", "end", 1300, 120), _n("n9", "end", 780, 220),
            ],
            "edges": [_e("n1", "n2"), _e("n2", "n3"), _e("n3", "n4", "group_1"), _e("n3", "n9", "others"),
                      _e("n4", "n5"), _e("n5", "n6", "group_1"), _e("n5", "n8", "others"), _e("n6", "n7")],
        },
        key_components=[
            KeyComponent("n1", "Choose the registration event that starts the flow.", "View rules",
                         "Members enter when they register (event member_registered), once."),
            KeyComponent("n4", "Write the member care SMS.", "View content",
                         "Welcome to {brand}, {name}! Your new-member coupons are in your account: {short_link}"),
            KeyComponent("n6", "Write the coupon expiry reminder.", "View content",
                         "{name}, your new-member coupon expires in 3 days — place your first order: {short_link}"),
        ],
    ),
    Template(
        key="first_purchase_repurchase",
        name="First-purchase member re-purchase",
        description="Members who made a first purchase and have not bought in 30 days get a coupon, then an "
                    "SMS reminding them to use it.",
        flow={
            "nodes": [
                _n("n1", "target_audience", 0, 80, audience_id=None, entry_mode="periodic"),
                _n("n2", "webhook", 260, 80, url="https://crm.example.com/coupons/issue", secret="", retries=3),
                _n("n3", "result_judgment", 520, 80, node_id="n2",
                   groups=[{"name": "coupon sent", "conditions": [{"op": "eq", "value": "success"}]}]),
                _n("n4", "text_sms", 780, 0, content=""),
                _n("n5", "end", 1040, 0), _n("n6", "end", 780, 160),
            ],
            "edges": [_e("n1", "n2"), _e("n2", "n3"), _e("n3", "n4", "group_1"), _e("n3", "n6", "others"),
                      _e("n4", "n5")],
        },
        key_components=[
            KeyComponent("n1", "Pick the audience: first purchase done, no order in the last 30 days.",
                         "View rules", "order_count = 1 AND last_order_at older than 30 days (member audience)."),
            KeyComponent("n4", "Write the re-purchase reminder.", "View content",
                         "{name}, a coupon for your next order is waiting in your account — {short_link}"),
        ],
    ),
    Template(
        key="high_value_low_frequency",
        name="High-value, low-frequency customers",
        description="Members with high spend but fewer than 3 orders in 12 months receive new-product "
                    "recommendations by SMS to promote re-purchase.",
        flow={
            "nodes": [
                _n("n1", "target_audience", 0, 40, audience_id=None, entry_mode="once"),
                _n("n2", "text_sms", 260, 40, content=""),
                _n("n3", "end", 520, 40),
            ],
            "edges": [_e("n1", "n2"), _e("n2", "n3")],
        },
        key_components=[
            KeyComponent("n1", "Pick the audience: spend ≥ your threshold and < 3 orders in 12 months.",
                         "View rules", "total_spend_12m >= 2000 AND order_count_12m < 3"),
            KeyComponent("n2", "Write the new-product recommendation.", "View content",
                         "{name}, new arrivals picked for you — see them first: {short_link}"),
        ],
    ),
]

BY_KEY = {t.key: t for t in TEMPLATES}


def get_template(key: str) -> Template | None:
    return BY_KEY.get(key)
