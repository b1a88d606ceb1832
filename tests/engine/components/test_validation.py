"""Every component type: the registry finds it, its config schema accepts good configs and refuses bad ones
with a message naming the field, and its branches follow the config."""

import pytest

from engine.components.base import Component
from engine.components.registry import COMPONENTS, UnknownComponent, get_component
from engine.flow.registry import Category

GOOD: dict[str, list[dict]] = {
    "target_audience": [{"audience_id": 1}, {"audience_id": 3, "entry_mode": "periodic"}],
    "behavior_event": [{"event": "add_to_cart", "times": 1, "window_hours": 24},
                       {"event": "browse_h5", "times": 2, "window_hours": 48,
                        "filters": [{"property": "page", "op": "eq", "value": "/promo"}]}],
    "text_sms": [{"content": "Hi {name}"},
                 {"content": "Hi {name}, coupon: {short_link}", "link_url": "https://shop.example.com/c",
                  "signature": "Shop"}],
    "digital_sms": [{"template_id": "DS_001", "title": "Greetings", "params": {"name": "{name}"}}],
    "email": [{"subject": "Picked for you", "body": "Hello {name}"},
              {"subject": "Hi", "body": "<style>p {color: red}</style><b>Hi</b>", "html": True,
               "sender": "Shop <news@shop.example>", "reply_to": "help@shop.example"},
              {"subject": "Hi", "body": "b", "sender": "news@shop.example"}],
    "wechat_message": [{"content": "hi"}, {"msg_type": "image", "media_id": "m1"},
                       {"msg_type": "news", "title": "New", "url": "https://x.example/n"},
                       {"msg_type": "miniprogram", "title": "Shop", "appid": "wx1", "pagepath": "pages/i"}],
    "template_message": [{"template_id": "T1", "keywords": {"address": "{store_address}", "time": "Sat 10:00"}}],
    "app_push": [{"title": "Still thinking?", "body": "Your cart misses you"},
                 {"title": "Hi {name}", "body": "x", "url": "app://cart", "platform": "ios"}],
    "tag": [{"tag": "membership level", "value": "VIP"}],
    "generate_audience": [{"audience_name": "Clicked the coupon"}],
    "wait_until": [{"mode": "period", "hours": 2}, {"mode": "period", "days": 1, "minutes": 30},
                   {"mode": "clock", "at": "12:00"}, {"mode": "days_at", "days": 7, "at": "18:00"}],
    "ab_test": [{"groups": [{"ratio": 50}, {"ratio": 50}], "target_event": "purchase"},
                {"groups": [{"name": "A", "ratio": 20}, {"name": "B", "ratio": 30}, {"name": "C", "ratio": 50}],
                 "target_event": "purchase", "window_hours": 48,
                 "target_filters": [{"property": "amount", "op": "gte", "value": 100}]}],
    "random_grouping": [{"groups": [{"ratio": 50}, {"ratio": 50}]},
                        {"groups": [{"ratio": 20}, {"ratio": 30}, {"ratio": 50}]}],
    "end": [{}],
    "tag_judgment": [
        {"groups": [{"conditions": [{"tag": "gender", "op": "eq", "value": "female"},
                                    {"tag": "city", "op": "in", "value": ["Beijing", "Shanghai"]}]},
                    {"conditions": [{"tag": "gender", "op": "eq", "value": "male"}]}]},
        # a group may be written as a single condition (the demo flows do)
        {"groups": [{"tag": "gender", "op": "eq", "value": "female"}, {"tag": "vip", "op": "exists"}]},
    ],
    "event_judgment": [{"groups": [{"conditions": [{"event": "register_app", "performed": False,
                                                    "window_hours": 24}]}]}],
    "attribute_judgment": [{"groups": [{"conditions": [{"property": "source", "op": "eq", "value": "poster"}]},
                                       {"conditions": [{"property": "source", "op": "contains", "value": "search"}]}]}],
    "result_judgment": [{"node_id": "n2", "groups": [{"conditions": [{"op": "eq", "value": "failed"}]},
                                                     {"op": "in", "value": ["success", "delivered"]}]}],
    "audience_judgment": [{"groups": [{"audience_id": 1, "priority": 2}, {"audience_id": 2, "priority": 1}]},
                          {"groups": [{"audience_id": 1}, {"audience_id": 2}]}],
    "webhook": [{"url": "http://crm.example.com:8099/hook"},
                {"url": "https://crm.example.com/in", "secret": "s3cret-key", "headers": {"Authorization": "Bearer x"},
                 "fields": ["name", "phone"], "retries": 5}],
    "push_kafka": [{"bootstrap_servers": "kafka.example.com:9092", "topic": "buyers"},
                   {"bootstrap_servers": "k1:9092, k2:9093", "topic": "qa.users-v1", "fields": ["email"]}],
}

BAD: list[tuple[str, dict, str]] = [
    ("target_audience", {}, "audience_id: required"),
    ("target_audience", {"audience_id": 0}, "audience_id: Input should be greater than or equal to 1"),
    ("target_audience", {"audience_id": 1, "entry_mode": "weekly"}, "entry_mode"),
    ("behavior_event", {"event": ""}, "event: String should have at least 1 character"),
    ("behavior_event", {"event": "add to cart"}, "event: an event name is letters"),
    ("behavior_event", {"event": "x", "times": 0}, "times: Input should be greater than or equal to 1"),
    ("behavior_event", {"event": "x", "filters": [{"property": "p", "op": "in", "value": "a"}]},
     "filters.1: 'in' needs a non-empty list"),
    ("text_sms", {}, "content: required"),
    ("text_sms", {"content": "x" * 501}, "content: String should have at most 500 characters"),
    ("text_sms", {"content": "Go {short_link}"}, "link_url: the content uses {short_link}"),
    ("text_sms", {"content": "Go {short_link}", "link_url": "ftp://x"}, "link_url: must be an http"),
    ("text_sms", {"content": "Hi {name"}, "content: unmatched brace"),
    ("digital_sms", {"title": "x"}, "template_id: required"),
    ("digital_sms", {"template_id": "T", "params": {"a": "{oops"}}, "params.a: unmatched brace"),
    ("email", {"subject": "Hi"}, "body: required"),
    ("email", {"subject": "", "body": "b"}, "subject: String should have at least 1 character"),
    ("email", {"subject": "s", "body": "b", "sender": "Shop"}, "sender: write an address"),
    ("email", {"subject": "s", "body": "b", "reply_to": "nobody"}, "reply_to: not an email address"),
    ("email", {"subject": "s", "body": "Hi {name"}, "body: unmatched brace"),
    ("wechat_message", {}, "content: required for a text message"),
    ("wechat_message", {"msg_type": "video"}, "media_id: required for a video message"),
    ("wechat_message", {"msg_type": "sticker"}, "msg_type"),
    ("template_message", {"template_id": "T1", "keywords": {}}, "keywords: Dictionary should have at least 1"),
    ("template_message", {"template_id": "T1", "keywords": {"bad key": "x"}}, "'bad key' is not a keyword"),
    ("app_push", {"title": "t"}, "body: required"),
    ("tag", {"tag": "level"}, "value: required"),
    ("tag", {"tag": "  ", "value": "v"}, "tag: required"),
    ("generate_audience", {}, "audience_name: required"),
    ("wait_until", {}, "mode: required"),
    ("wait_until", {"mode": "period"}, "period: set how long to wait"),
    ("wait_until", {"mode": "period", "days": 366}, "days: Input should be less than or equal to 365"),
    ("wait_until", {"mode": "period", "days": 365, "hours": 1}, "period: at most 365 days"),
    ("wait_until", {"mode": "clock"}, "at: set the time of day"),
    ("wait_until", {"mode": "clock", "at": "25:00"}, "at: write the time as HH:MM"),
    ("wait_until", {"mode": "days_at", "at": "18:00"}, "days: at least 1 day later"),
    ("wait_until", {"mode": "soon"}, "mode"),
    ("ab_test", {"groups": [{"ratio": 50}, {"ratio": 40}], "target_event": "buy"},
     "groups: the ratios must add up to 100% (now 90%)"),
    ("ab_test", {"groups": [{"ratio": 50}, {"ratio": 50}]}, "target_event: required"),
    ("random_grouping", {"groups": [{"ratio": 99}]}, "groups: at least 2 groups"),
    ("random_grouping", {"groups": []}, "groups: List should have at least 1 item"),
    ("random_grouping", {"groups": [{"ratio": 0}, {"ratio": 100}]}, "groups.1.ratio: Input should be greater"),
    ("random_grouping", {"groups": [{"ratio": 10}] * 11}, "groups: List should have at most 10 items"),
    ("tag_judgment", {}, "groups: required"),
    ("tag_judgment", {"groups": []}, "groups: List should have at least 1 item"),
    ("tag_judgment", {"groups": [{"conditions": []}]}, "groups.1.conditions: List should have at least 1 item"),
    ("tag_judgment", {"groups": [{"conditions": [{"tag": "g", "op": "gt"}]}]}, "'gt' needs one value"),
    ("tag_judgment", {"groups": [{"conditions": [{"tag": "g", "op": "like", "value": "x"}]}]}, "op: Input should be"),
    ("tag_judgment", {"groups": [{"conditions": [{"op": "eq", "value": "x"}]}]}, "groups.1.conditions.1.tag: required"),
    ("event_judgment", {"groups": [{"conditions": [{"event": "x", "window_hours": 0}]}]}, "window_hours"),
    ("attribute_judgment", {"groups": [{"conditions": [{"op": "eq", "value": 1}]}]}, "property: required"),
    ("result_judgment", {"groups": [{"op": "eq", "value": "failed"}]}, "node_id: required"),
    ("audience_judgment", {"groups": [{"audience_id": 1}, {"audience_id": 1}]}, "each audience may appear only once"),
    ("audience_judgment", {"groups": [{"audience_id": 1, "priority": 1}, {"audience_id": 2, "priority": 1}]},
     "same priority"),
    ("webhook", {}, "url: required"),
    ("webhook", {"url": "crm.example.com"}, "url: must be an http"),
    ("webhook", {"url": "https://x.example", "secret": "short"}, "secret: at least 8"),
    ("webhook", {"url": "https://x.example", "headers": {"Content-Length": "1"}}, "set by the platform"),
    ("webhook", {"url": "https://x.example", "headers": {"X-A": "a\nb"}}, "one line"),
    ("webhook", {"url": "https://x.example", "fields": ["password"]}, "fields.1"),
    # the outbound fence, as far as it is visible without DNS (engine/outbound.py)
    ("webhook", {"url": "http://169.254.169.254/latest/meta-data/"},
     "url: 169.254.169.254 is not allowed (cloud metadata address): outbound calls go there only when an admin "
     "allow-lists the host"),
    ("webhook", {"url": "http://localhost:8099/hook"}, "url: localhost is not allowed (loopback address)"),
    ("webhook", {"url": "https://[::1]/hook"}, "url: ::1 is not allowed (loopback address)"),
    ("webhook", {"url": "http://192.168.0.10/crm"}, "url: 192.168.0.10 is not allowed (private address)"),
    ("push_kafka", {"bootstrap_servers": "k1:9092,10.0.0.5:9092", "topic": "t"},
     "bootstrap_servers: 10.0.0.5 is not allowed (private address)"),
    ("push_kafka", {"topic": "t"}, "bootstrap_servers: required"),
    ("push_kafka", {"bootstrap_servers": "localhost", "topic": "t"}, "bootstrap_servers: write host:port"),
    ("push_kafka", {"bootstrap_servers": "k:99999", "topic": "t"}, "bootstrap_servers: write host:port"),
    ("push_kafka", {"bootstrap_servers": "k:9092", "topic": "bad topic"}, "topic: letters"),
]


def test_registry_has_every_type_once_in_palette_order() -> None:
    assert list(COMPONENTS) == list(GOOD)
    assert len(COMPONENTS) == 21
    for type_, component in COMPONENTS.items():
        assert isinstance(component, Component)
        assert component.type == type_ and component.label and isinstance(component.category, Category)
        assert get_component(type_) is component
    with pytest.raises(UnknownComponent):
        get_component("warp_drive")


@pytest.mark.parametrize("type_", list(GOOD))
def test_schema_is_a_form_description(type_: str) -> None:
    schema = get_component(type_).schema()
    assert schema["type"] == "object"
    for name, prop in schema.get("properties", {}).items():
        assert prop.get("title"), f"{type_}.{name} has no title"


@pytest.mark.parametrize(("type_", "config"), [(t, c) for t, configs in GOOD.items() for c in configs])
def test_good_configs_validate(type_: str, config: dict) -> None:
    assert get_component(type_).validate(config) == []


@pytest.mark.parametrize(("type_", "config", "words"), BAD)
def test_bad_configs_are_refused_with_a_clear_message(type_: str, config: dict, words: str) -> None:
    problems = get_component(type_).validate(config)
    assert any(words in p for p in problems), problems


def test_nonsense_config_is_refused_not_raised() -> None:
    for component in COMPONENTS.values():
        if component.type != "end":
            assert component.validate({"groups": "x", "mode": 3, "content": []})


@pytest.mark.parametrize(("type_", "config", "branches"), [
    ("target_audience", {"audience_id": 1}, ["out"]),
    ("text_sms", {"content": "x"}, ["out"]),
    ("wait_until", {"mode": "clock", "at": "12:00"}, ["out"]),
    ("webhook", {"url": "https://x.example"}, ["out"]),
    ("end", {}, []),
    ("random_grouping", {"groups": [{"ratio": 20}, {"ratio": 30}, {"ratio": 50}]}, ["group_1", "group_2", "group_3"]),
    ("ab_test", {"groups": [{"ratio": 50}, {"ratio": 50}], "target_event": "buy"}, ["group_1", "group_2"]),
    ("tag_judgment", GOOD["tag_judgment"][0], ["group_1", "group_2", "others"]),
    ("audience_judgment", GOOD["audience_judgment"][0], ["group_1", "group_2", "others"]),
    ("result_judgment", GOOD["result_judgment"][0], ["group_1", "group_2", "others"]),
])
def test_branches(type_: str, config: dict, branches: list[str]) -> None:
    component = get_component(type_)
    assert component.branches(component.parse(config)) == branches
    assert component.branches_of(config) == branches


def test_incomplete_configs_still_have_branches_for_the_canvas() -> None:
    assert get_component("random_grouping").branches_of({"groups": [{"ratio": 30}]}) == ["group_1"]
    assert get_component("tag_judgment").branches_of({"groups": [{}, {}]}) == ["group_1", "group_2", "others"]
    assert get_component("event_judgment").branches_of({}) == ["others"]
    assert get_component("text_sms").branches_of({}) == ["out"]
    assert get_component("end").branches_of({}) == []
