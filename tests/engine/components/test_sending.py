"""Marketing Touch and Data Push executors: one message per reachable customer with the right address and
rendered content, customers without an address fail with the reason and are never sent, every entered
customer continues on "out", results mirror the channel's answers."""

import pytest

from engine.channels.base import SendStatus
from engine.components.registry import get_component
from engine.components.secret import SecretRef
from engine.components.text_sms import short_code
from engine.secrets import reveal
from tests.engine.components.conftest import MemoryPorts, customer, make_batch


def run(type_: str, config: dict, customers, ports: MemoryPorts, **batch_kw):
    component = get_component(type_)
    assert component.validate(config) == []
    return component.execute(make_batch(customers, **batch_kw), component.parse(config), ports)


def test_text_sms_renders_variables_and_short_links_per_customer(ports: MemoryPorts) -> None:
    people = [customer(1, name="Ann", attributes={"city": "Hangzhou"}), customer(2, name="Bo")]
    config = {"content": "Hi {name} in {city}: {short_link}", "link_url": "https://shop.example/c",
              "signature": "Shop"}
    outcome = run("text_sms", config, people, ports)
    by_customer = {m.customer_id: m for m in ports.sent}
    code1 = short_code(7, "n2", 1)
    assert by_customer[1].to == "+8613800000001"
    assert by_customer[1].body == f"【Shop】Hi Ann in Hangzhou: https://s.test/{code1}"
    assert by_customer[2].body.startswith("【Shop】Hi Bo in : https://s.test/")  # a missing attribute renders empty
    assert by_customer[1].data["short_code"] == code1 and by_customer[1].data["link_url"] == "https://shop.example/c"
    assert ports.links[code1] == (7, "n2", 1, "https://shop.example/c")  # countable as a click later
    assert outcome.routes == {"out": [1, 2]}
    assert outcome.results == {1: ("success", None), 2: ("success", None)}


def test_short_codes_are_deterministic_and_distinct() -> None:
    assert short_code(7, "n2", 1) == short_code(7, "n2", 1)
    codes = {short_code(r, n, c) for r in (1, 2) for n in ("n2", "n3") for c in range(500)}
    assert len(codes) == 2 * 2 * 500
    assert all(len(c) == 10 and c.isalnum() for c in codes)


def test_text_sms_without_short_link_asks_for_no_links(ports: MemoryPorts) -> None:
    run("text_sms", {"content": "Hi {name}"}, [customer(1, name="Ann")], ports)
    assert ports.sent[0].body == "Hi Ann" and ports.sent[0].data == {} and ports.links == {}


@pytest.mark.parametrize(("type_", "config", "field", "reason"), [
    ("text_sms", {"content": "Hi"}, "phone", "no phone number"),
    ("digital_sms", {"template_id": "D1"}, "phone", "no phone number"),
    ("email", {"subject": "s", "body": "b"}, "email", "no email address"),
    ("wechat_message", {"content": "hi"}, "wechat_openid", "no WeChat open id"),
    ("template_message", {"template_id": "T", "keywords": {"k": "v"}}, "wechat_openid", "no WeChat open id"),
    ("app_push", {"title": "t", "body": "b"}, "push_token", "no push token"),
])
def test_customers_without_an_address_fail_and_are_not_sent(ports, type_, config, field, reason) -> None:
    people = [customer(1), customer(2, **{field: None}), customer(3, **{field: "  "})]
    outcome = run(type_, config, people, ports)
    assert [m.customer_id for m in ports.sent] == [1]
    assert ports.sent[0].channel == type_ and ports.sent[0].to == getattr(people[0], field)
    assert outcome.results == {1: ("success", None), 2: ("failed", reason), 3: ("failed", reason)}
    assert outcome.routes == {"out": [1, 2, 3]}  # the flow continues; Result Judgment reads the results


def test_nobody_reachable_means_no_send_call(ports: MemoryPorts) -> None:
    outcome = run("email", {"subject": "s", "body": "b"}, [customer(1, email=None)], ports)
    assert ports.send_calls == 0 and outcome.results == {1: ("failed", "no email address")}


def test_invalid_email_address_fails_without_sending(ports: MemoryPorts) -> None:
    outcome = run("email", {"subject": "s", "body": "b"}, [customer(1, email="not-an-address")], ports)
    assert ports.sent == [] and outcome.results[1] == ("failed", "invalid email address")


def test_results_mirror_the_channel_and_one_call_sends_the_batch(ports: MemoryPorts) -> None:
    ports.fail[2] = "number is blacklisted"
    ports.pending.add(3)
    outcome = run("text_sms", {"content": "x"}, [customer(i) for i in (1, 2, 3)], ports)
    assert ports.send_calls == 1
    assert outcome.results == {1: ("success", None), 2: ("failed", "number is blacklisted"), 3: ("pending", None)}
    assert {m.dedupe_key for m in ports.sent} == {"7:n2:1", "7:n2:2", "7:n2:3"}


def test_a_retried_batch_sends_nothing_twice(ports: MemoryPorts) -> None:
    people = [customer(1), customer(2)]
    first = run("app_push", {"title": "t", "body": "b"}, people, ports)
    again = run("app_push", {"title": "t", "body": "b"}, people, ports)
    assert len(ports.sent) == 2 and first.results == again.results


def test_duplicate_customers_in_a_batch_count_once(ports: MemoryPorts) -> None:
    outcome = run("text_sms", {"content": "x"}, [customer(1), customer(1)], ports)
    assert outcome.routes == {"out": [1]} and len(ports.sent) == 1


def test_unique_keeps_the_first_of_each_customer_in_order_and_never_hands_back_the_batch_list() -> None:
    from engine.components.splitting import unique

    once = [customer(3), customer(1), customer(2)]
    assert [c.id for c in unique(once)] == [3, 1, 2] and unique(once) is not once  # a copy: callers may change it
    twice = [customer(3), customer(1), customer(3), customer(2), customer(1)]
    assert [c.id for c in unique(twice)] == [3, 1, 2] and unique(twice)[0] is twice[0]
    assert unique([]) == []


def test_email_renders_subject_and_body(ports: MemoryPorts) -> None:
    run("email", {"subject": "For {name}", "body": "Hello {name}, level {level}", "sender": "Shop <news@shop.example>"},
        [customer(1, name="Ann", tags={"level": "VIP"})], ports)
    m = ports.sent[0]
    assert (m.to, m.subject, m.body) == ("c1@example.com", "For Ann", "Hello Ann, level VIP")
    assert m.options == {"from": "Shop <news@shop.example>"}


def test_html_email_carries_a_text_version(ports: MemoryPorts) -> None:
    run("email", {"subject": "Hi", "body": "<p>Hello <b>{name}</b> &amp; co</p><p>Bye</p>", "html": True,
                  "reply_to": "help@shop.example"}, [customer(1, name="Ann")], ports)
    m = ports.sent[0]
    assert m.options == {"html": "<p>Hello <b>Ann</b> &amp; co</p><p>Bye</p>", "reply_to": "help@shop.example"}
    assert m.body == "Hello Ann & co\nBye"


def test_template_message_substitutes_keywords_per_customer(ports: MemoryPorts) -> None:
    config = {"template_id": "OFFLINE_EVENT", "keywords": {"address": "{store_address}", "name": "{name}"},
              "url": "https://x.example/e"}
    run("template_message", config, [customer(1, name="Ann", attributes={"store_address": "1 Nanjing Rd"}),
                                     customer(2, name="Bo", attributes={"store_address": "8 Shennan Ave"})], ports)
    keywords = {m.customer_id: m.data["keywords"] for m in ports.sent}
    assert keywords == {1: {"address": "1 Nanjing Rd", "name": "Ann"}, 2: {"address": "8 Shennan Ave", "name": "Bo"}}
    assert ports.sent[0].data["template_id"] == "OFFLINE_EVENT" and ports.sent[0].to == "o1"


def test_digital_sms_fills_template_parameters(ports: MemoryPorts) -> None:
    run("digital_sms", {"template_id": "D1", "title": "For {name}", "params": {"who": "{name}", "n": "3"}},
        [customer(1, name="Ann")], ports)
    m = ports.sent[0]
    assert m.subject == "For Ann" and m.data == {"template_id": "D1", "params": {"who": "Ann", "n": "3"}}


def test_wechat_message_and_app_push(ports: MemoryPorts) -> None:
    run("wechat_message", {"msg_type": "news", "title": "New for {name}", "url": "https://x.example/n"},
        [customer(1, name="Ann")], ports)
    run("app_push", {"title": "Hi {name}", "body": "Cart", "url": "app://cart"}, [customer(2, name="Bo")], ports,
        node_id="n3")
    wechat, push = ports.sent
    assert (wechat.to, wechat.subject, wechat.data["msg_type"], wechat.data["url"]) == (
        "o1", "New for Ann", "news", "https://x.example/n")
    assert (push.to, push.subject, push.body, push.data["url"]) == ("t2", "Hi Bo", "Cart", "app://cart")


def test_webhook_posts_the_customer_payload(ports: MemoryPorts) -> None:
    config = {"url": "https://crm.example/in", "secret": "s3cret-key", "headers": {"X-Source": "qa"},
              "fields": ["name", "phone", "attributes"], "retries": 4, "timeout_seconds": 3}
    people = [customer(1, name="Ann", phone=None, attributes={"level": 3}), customer(2)]
    outcome = run("webhook", config, people, ports, trigger_props={1: {"page": "/promo"}})
    m = ports.sent[0]
    assert (m.channel, m.to, m.body) == ("webhook", "https://crm.example/in", "")
    assert m.data == {"customer_id": 1, "qaid": "QA000001", "name": "Ann", "phone": None, "attributes": {"level": 3},
                      "event": {"page": "/promo"}}
    assert "event" not in ports.sent[1].data
    assert m.options == {"secret": SecretRef(plain="s3cret-key"), "headers": {"X-Source": "qa"}, "max_attempts": 5,
                         "timeout": 3}
    assert "s3cret-key" not in repr(m.options) and reveal(m.options["secret"]) == "s3cret-key"
    assert outcome.results == {1: ("success", None), 2: ("success", None)}  # no phone needed: the address is the URL
    run("webhook", {"url": "https://crm.example/in"}, people, ports, node_id="n3")
    assert "secret" not in ports.sent[-1].options


def test_push_kafka_sends_the_user_id_keyed_by_qaid(ports: MemoryPorts) -> None:
    ports.fail[2] = "broker unavailable"
    outcome = run("push_kafka", {"bootstrap_servers": "k1:9092, k2:9092", "topic": "buyers"},
                  [customer(1), customer(2)], ports)
    m = ports.sent[0]
    assert (m.channel, m.to, m.options) == ("push_kafka", "buyers", {"bootstrap_servers": "k1:9092,k2:9092"})
    assert m.data == {"customer_id": 1, "qaid": "QA000001"}  # the channel keys records by data["qaid"]
    assert outcome.results == {1: ("success", None), 2: ("failed", "broker unavailable")}
    assert outcome.routes == {"out": [1, 2]}


def test_a_missing_channel_answer_is_a_failure_not_a_success(ports: MemoryPorts, monkeypatch) -> None:
    monkeypatch.setattr(ports, "send", lambda messages: [])
    outcome = run("text_sms", {"content": "x"}, [customer(1)], ports)
    assert outcome.results[1] == (SendStatus.FAILED.value, "the channel returned no result")
