"""The outbound fence's rule as data: which addresses are refused, how allow-list entries read, what publish-time
validation says. No network: names resolve through stub resolvers."""

import ipaddress
import re
from collections.abc import Iterator

import pytest

from engine import outbound
from engine.components.registry import get_component
from engine.outbound import AddressNotAllowed, Fence, blocked_kind, parse_entries, parse_entry
from tests.engine.channels.helpers import allow_outbound


@pytest.mark.parametrize(("address", "kind"), [
    ("127.0.0.1", "loopback"), ("127.255.0.9", "loopback"), ("::1", "loopback"),
    ("10.0.0.1", "private"), ("172.16.5.4", "private"), ("172.31.255.255", "private"), ("192.168.1.1", "private"),
    ("fd12:3456::1", "private"), ("169.254.1.1", "link-local"), ("fe80::1", "link-local"),
    ("100.64.0.1", "CGNAT"), ("100.127.255.254", "CGNAT"), ("224.0.0.251", "multicast"), ("ff02::1", "multicast"),
    ("0.0.0.0", "this-host"), ("::", "this-host"), ("255.255.255.255", "reserved"), ("198.18.0.1", "reserved"),
    ("169.254.169.254", "cloud metadata"), ("fd00:ec2::254", "cloud metadata"), ("100.100.100.200", "cloud metadata"),
    ("169.254.170.2", "cloud metadata"),
    # IPv6 spellings of inside IPv4 addresses: mapped, 6to4, NAT64
    ("::ffff:127.0.0.1", "loopback"), ("::ffff:169.254.169.254", "cloud metadata"), ("2002:a00:1::1", "private"),
    ("64:ff9b::7f00:1", "loopback"),
    ("2001:db8::1", "non-public"),  # documentation range
])
def test_inside_addresses_are_refused_with_their_kind(address: str, kind: str) -> None:
    assert blocked_kind(ipaddress.ip_address(address)) == kind


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "172.32.0.1",
                                     "100.128.0.1", "11.0.0.1"])
def test_public_addresses_pass(address: str) -> None:
    assert blocked_kind(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(("text", "canonical"), [
    ("127.0.0.1:8099", "127.0.0.1:8099"), ("CRM.Internal.", "crm.internal"), ("crm.internal:8443", "crm.internal:8443"),
    ("10.20.0.0/16", "10.20.0.0/16"), ("10.20.1.2/16", "10.20.0.0/16"), ("::1", "::1"), ("[::1]:8099", "[::1]:8099"),
    ("fd00::/8", "fd00::/8"), ("[::1]", "::1"), (" 192.168.0.9 ", "192.168.0.9"),
])
def test_entries_read_in_every_spelling(text: str, canonical: str) -> None:
    assert str(parse_entry(text)) == canonical


@pytest.mark.parametrize(("text", "words"), [
    ("", "empty"), ("10.0.0.0/33", "not a network"), ("host:0", "port must be"), ("host:http", "port must be"),
    ("[::1]x", "[IPv6 address]:port"), ("bad host", "not a host name"), ("a..b", "not a host name"),
])
def test_bad_entries_say_what_is_wrong(text: str, words: str) -> None:
    with pytest.raises(ValueError, match=re.escape(words)):
        parse_entry(text)


def test_a_port_bound_entry_allows_that_port_only() -> None:
    fence = Fence(allow="127.0.0.1:8099", stored=None)
    assert fence.check("127.0.0.1", 8099) == ["127.0.0.1"]
    with pytest.raises(AddressNotAllowed, match="127.0.0.1:8100, a loopback address"):
        fence.check("127.0.0.1", 8100)


def test_a_listed_name_is_trusted_with_what_it_resolves_to_and_a_network_with_any_name_in_it() -> None:
    answers = {"crm.internal": ["10.9.0.4"], "other.internal": ["10.20.3.3"], "third.internal": ["10.30.0.1"]}
    fence = Fence(allow="crm.internal, 10.20.0.0/16", stored=None, resolver=lambda host, port: answers[host])
    assert fence.check("crm.internal", 443) == ["10.9.0.4"]
    assert fence.check("other.internal", 80) == ["10.20.3.3"]
    with pytest.raises(AddressNotAllowed, match=r"third.internal:80 \(10.30.0.1\), a private address"):
        fence.check("third.internal", 80)


def test_metadata_names_are_refused_before_any_lookup() -> None:
    asked: list[str] = []
    fence = Fence(stored=None, resolver=lambda host, port: asked.append(host) or ["93.184.216.34"])
    for name in ("metadata.google.internal", "METADATA.google.internal.", "localhost", "app.localhost"):
        with pytest.raises(AddressNotAllowed):
            fence.check(name, 80)
    assert asked == []


def test_the_setting_is_read_at_each_check(monkeypatch: pytest.MonkeyPatch) -> None:
    fence = Fence(stored=None)
    with pytest.raises(AddressNotAllowed):
        fence.check("127.0.0.1", 8099)
    allow_outbound(monkeypatch, "127.0.0.1:8099")
    assert fence.check("127.0.0.1", 8099) == ["127.0.0.1"]
    assert parse_entries("a.example, 10.0.0.0/8,") == (parse_entry("a.example"), parse_entry("10.0.0.0/8"))


@pytest.fixture
def nothing_stored(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No admin-stored entries (the default database may hold the demo's allow-listed sinks)."""
    monkeypatch.setattr(outbound, "_database_exists", lambda: False)
    outbound.stored.invalidate()
    yield
    outbound.stored.invalidate()


@pytest.mark.usefixtures("nothing_stored")
def test_publish_validation_accepts_an_allow_listed_sink(monkeypatch: pytest.MonkeyPatch) -> None:
    webhook, kafka = get_component("webhook"), get_component("push_kafka")
    assert webhook.validate({"url": "http://127.0.0.1:8099/hook"}) == [
        "url: 127.0.0.1 is not allowed (loopback address): outbound calls go there only when an admin allow-lists "
        "the host"]
    allow_outbound(monkeypatch, "127.0.0.1:8099", "10.0.0.5")
    assert webhook.validate({"url": "http://127.0.0.1:8099/hook"}) == []
    assert webhook.validate({"url": "http://127.0.0.1:8100/hook"}) != []  # another port is not allowed
    assert kafka.validate({"bootstrap_servers": "10.0.0.5:9092", "topic": "t"}) == []
