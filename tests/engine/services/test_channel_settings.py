"""Settings → Channels: stored channel settings override the environment per workspace, secrets are write-only,
hosts go through the outbound fence on save, edits reach the channels (at once here, within the cache's TTL
elsewhere), and a test message reaches the real local sinks (SMTP server, provider simulator, HTTP sink, mock
Kafka cluster)."""

import json
from dataclasses import asdict
from typing import Any

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from engine import db
from engine.channels import config as channel_config
from engine.channels import registry, signature
from engine.channels.email import SmtpEmailChannel
from engine.errors import Forbidden, Invalid
from engine.models import ChannelSetting, Role, User
from engine.outbound import Fence
from engine.services import channel_settings as svc
from engine.services import outbound_allow
from engine.settings import get_settings
from tests import factories as f
from tests.engine.channels.helpers import dialled, msg

PASSWORD = "s3cret"  # what the test SMTP server accepts
API_KEY = "prov-key-51c0e7"
SASL = "sasl-pw-88d2a1"
SIGNING = "whsec-0b7e55aa"
ENV_PASSWORD = "env-smtp-pw-4411"


@pytest.fixture
def people(database: str) -> dict[str, int]:
    with db.write_session() as s:
        ws, other = f.workspace(s), f.workspace(s)
        return {"admin": f.user(s, ws, Role.ADMIN).id, "marketer": f.user(s, ws, Role.MARKETER).id,
                "manager": f.user(s, ws, Role.MANAGER).id, "other_admin": f.user(s, other, Role.ADMIN).id,
                "ws": ws.id, "other": other.id}


@pytest.fixture(autouse=True)
def _fresh_cache() -> Any:
    channel_config.invalidate()
    registry.reset_channels()
    yield
    channel_config.invalidate()
    registry.reset_channels()


def _user(s: Session, people: dict[str, int], who: str = "admin") -> User:
    user = s.get(User, people[who])
    assert user is not None
    return user


def _save(people: dict[str, int], group: str, values: dict[str, str] | None = None,
          secrets: dict[str, str] | None = None, who: str = "admin", fence: Fence | None = None) -> list[str]:
    with db.write_session() as s:
        return svc.save(session=s, actor=_user(s, people, who), group=group, values=values or {},
                        secrets=secrets, fence=fence)


def _allow(entry: str) -> None:
    with db.write_session() as s:
        outbound_allow.add_entry(session=s, actor=None, entry=entry)


def _view(people: dict[str, int], who: str = "admin") -> list[svc.GroupView]:
    with db.read_session() as s:
        return svc.view(session=s, actor=_user(s, people, who))


def _field(groups: list[svc.GroupView], name: str) -> svc.FieldView:
    return next(fv for g in groups for fv in g.fields if fv.name == name)


def _test(people: dict[str, int], target: str, to: str) -> svc.TestResult:
    with db.read_session() as s:
        return svc.send_test(session=s, actor=_user(s, people), target=target, to=to)


def _rows() -> list[ChannelSetting]:
    with db.read_session() as s:
        return list(s.exec(select(ChannelSetting)).all())


# -- secrets are write-only ----------------------------------------------------------------------------------

def test_secrets_are_stored_encrypted_and_never_read_back(people: dict[str, int], monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    monkeypatch.setenv("SMTP_PASSWORD", ENV_PASSWORD)  # the environment's secret is not shown either
    get_settings.cache_clear()
    before = _view(people)
    assert _field(before, "smtp_password").secret_state == "set"
    assert _field(before, "smtp_password").source == "environment"
    assert _field(before, "provider_api_key").secret_state == "not set"
    returned = [
        _save(people, "email", {"smtp_username": "mailer"}, {"smtp_password": PASSWORD}),
        _save(people, "provider", {}, {"provider_api_key": API_KEY}),
        _save(people, "kafka", {"kafka_sasl_username": "bot"}, {"kafka_sasl_password": SASL}),
        _save(people, "webhook", {}, {"webhook_secret": SIGNING}),
    ]
    after = _view(people)
    for name in ("smtp_password", "provider_api_key", "kafka_sasl_password", "webhook_secret"):
        assert _field(after, name).secret_state == "set" and _field(after, name).value == ""
        assert _field(after, name).source == "workspace"
    dumped = json.dumps([[asdict(g) for g in before], [asdict(g) for g in after], returned], default=str)
    for value in (PASSWORD, API_KEY, SASL, SIGNING, ENV_PASSWORD):
        assert value not in dumped
    for row in _rows():  # at rest: ciphertext only
        assert row.value == "" if row.ciphertext else True
        for value in (PASSWORD, API_KEY, SASL, SIGNING):
            assert value.encode() not in (row.ciphertext or b"") and value not in row.value
    # the channels do get them
    settings = channel_config.channel_settings(people["ws"])
    assert (settings.smtp_password, settings.provider_api_key) == (PASSWORD, API_KEY)
    assert (settings.kafka_sasl_password, settings.webhook_secret) == (SASL, SIGNING)


def test_an_empty_secret_keeps_the_one_set(people: dict[str, int]) -> None:
    _save(people, "email", {}, {"smtp_password": PASSWORD})
    assert _save(people, "email", {"smtp_username": "mailer"}, {"smtp_password": ""}) == ["smtp_username"]
    assert channel_config.channel_settings(people["ws"]).smtp_password == PASSWORD


# -- overrides -----------------------------------------------------------------------------------------------

def test_a_stored_setting_beats_the_environment_for_its_workspace_only(people: dict[str, int],
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMTP_PORT", "2525")
    monkeypatch.setenv("EMAIL_FROM", "Env <env@example.com>")
    get_settings.cache_clear()
    _save(people, "email", {"smtp_port": "2600", "email_from": "Shop <news@shop.example>", "smtp_starttls": "on"})
    mine, theirs = channel_config.channel_settings(people["ws"]), channel_config.channel_settings(people["other"])
    assert (mine.smtp_port, mine.email_from, mine.smtp_starttls) == (2600, "Shop <news@shop.example>", True)
    assert (theirs.smtp_port, theirs.email_from, theirs.smtp_starttls) == (2525, "Env <env@example.com>", False)
    channel = registry.channel_for("email", people["ws"])
    assert isinstance(channel, SmtpEmailChannel)
    assert (channel.port, channel.sender) == (2600, "Shop <news@shop.example>")
    other = registry.channel_for("email", people["other"])
    assert isinstance(other, SmtpEmailChannel) and other.port == 2525
    assert _field(_view(people), "smtp_port").source == "workspace"
    # saving the environment's value again removes the override
    _save(people, "email", {"smtp_port": "2525"})
    assert channel_config.channel_settings(people["ws"]).smtp_port == 2525
    assert {r.name for r in _rows()} == {"email_from", "smtp_starttls"}
    with db.write_session() as s:
        assert svc.reset(session=s, actor=_user(s, people), group="email") == 2
    assert _rows() == [] and channel_config.channel_settings(people["ws"]).email_from == "Env <env@example.com>"


@pytest.mark.parametrize(("group", "values", "words"), [
    ("email", {"smtp_port": "70000"}, "SMTP port: between 1 and 65535"),
    ("email", {"smtp_port": "25x"}, "SMTP port: a whole number"),
    ("email", {"email_from": "nobody"}, "From: an address like"),
    ("email", {"smtp_host": ""}, "SMTP host: enter a host name"),
    ("kafka", {"kafka_security_protocol": "TELNET"}, "Security protocol: one of"),
    ("webhook", {"webhook_max_attempts": "0"}, "Attempts: between 1 and 10"),
    ("webhook", {"smtp_port": "25"}, "smtp_port is not a setting of this channel"),
    ("email", {"smtp_password": "in the clear"}, "smtp_password is not a setting of this channel"),
])
def test_bad_input_is_refused_with_nothing_saved(people: dict[str, int], group: str, values: dict[str, str],
                                                 words: str) -> None:
    with pytest.raises(Invalid, match=words):
        _save(people, group, {"email_from": "Shop <news@shop.example>", **values} if group == "email" else values)
    assert _rows() == []


@pytest.mark.parametrize("who", ["marketer", "manager"])
def test_only_an_admin_sees_changes_or_tests_the_channels(people: dict[str, int], who: str) -> None:
    with pytest.raises(Forbidden, match="Only an admin"):
        _view(people, who)
    with pytest.raises(Forbidden):
        _save(people, "email", {"smtp_port": "2600"}, {"smtp_password": PASSWORD}, who=who)
    with db.read_session() as s, pytest.raises(Forbidden):
        svc.send_test(session=s, actor=_user(s, people, who), target="email", to="ann@example.com")
    with db.write_session() as s, pytest.raises(Forbidden):
        svc.reset(session=s, actor=_user(s, people, who), group="email")
    assert _rows() == []


# -- the cache -----------------------------------------------------------------------------------------------

def test_the_saving_process_sees_an_edit_at_once_and_others_within_the_ttl(people: dict[str, int],
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [1000.0]
    monkeypatch.setattr(channel_config, "_now", lambda: clock[0])
    first = registry.channel_for("email", people["ws"])
    assert channel_config.channel_settings(people["ws"]).email_from == get_settings().email_from
    _save(people, "email", {"email_from": "One <one@example.com>"})  # this process: invalidated after commit
    assert channel_config.channel_settings(people["ws"]).email_from == "One <one@example.com>"
    second = registry.channel_for("email", people["ws"])
    assert second is not first and isinstance(second, SmtpEmailChannel) and second.sender == "One <one@example.com>"
    # another process's edit (written straight to the table: nothing invalidates this process's cache)
    with db.write_session() as s:
        s.execute(text("UPDATE channelsetting SET value = 'Two <two@example.com>' WHERE name = 'email_from'"))
    clock[0] += channel_config.CACHE_TTL_S - 0.5
    assert channel_config.channel_settings(people["ws"]).email_from == "One <one@example.com>"  # cached: no read
    assert registry.channel_for("email", people["ws"]) is second
    clock[0] += 1.0  # past the TTL: read again
    assert channel_config.channel_settings(people["ws"]).email_from == "Two <two@example.com>"
    third = registry.channel_for("email", people["ws"])
    assert isinstance(third, SmtpEmailChannel) and third.sender == "Two <two@example.com>"


def test_a_refused_save_changes_neither_the_table_nor_the_cache(people: dict[str, int]) -> None:
    _save(people, "email", {"email_from": "One <one@example.com>"})
    with pytest.raises(Invalid):
        _save(people, "email", {"email_from": "Two <two@example.com>", "smtp_port": "0"})
    assert channel_config.channel_settings(people["ws"]).email_from == "One <one@example.com>"


# -- the outbound fence on save ------------------------------------------------------------------------------

@pytest.mark.parametrize(("group", "values", "words"), [
    ("email", {"smtp_host": "10.0.0.5"}, r"SMTP host: address not allowed: 10\.0\.0\.5:8025, a private"),
    ("provider", {"provider_url": "http://169.254.169.254/latest"}, "Provider URL: address not allowed"),
    ("kafka", {"kafka_bootstrap_servers": "192.168.1.4:9092"}, "Bootstrap servers: address not allowed"),
    ("email", {"smtp_host": "localhost"}, "SMTP host: address not allowed: localhost"),
])
def test_the_fence_refuses_a_private_host_on_save_unless_allow_listed(people: dict[str, int], group: str,
                                                                     values: dict[str, str], words: str) -> None:
    with dialled() as dials, pytest.raises(Invalid, match=words):
        _save(people, group, values)
    assert _rows() == [] and dials == []  # refused before any connection
    host = next(iter(values.values()))
    entry = {"smtp_host": host, "provider_url": "169.254.169.254", "kafka_bootstrap_servers": "192.168.1.4"}
    _allow(entry[next(iter(values))])
    _save(people, group, values)
    assert [r.name for r in _rows()] == list(values)


def test_names_are_checked_after_resolution_and_a_port_change_is_checked_too(people: dict[str, int]) -> None:
    inside = Fence(resolver=lambda host, port: ["10.1.2.3"])  # a stub resolver: no DNS, no traffic
    with pytest.raises(Invalid, match=r"smtp\.corp\.example.*10\.1\.2\.3"):
        _save(people, "email", {"smtp_host": "smtp.corp.example"}, fence=inside)
    outside = Fence(resolver=lambda host, port: ["93.184.216.34"])
    _save(people, "email", {"smtp_host": "smtp.shop.example", "smtp_port": "587"}, fence=outside)
    _allow("127.0.0.1:2525")
    _save(people, "email", {"smtp_host": "127.0.0.1", "smtp_port": "2525"})
    with pytest.raises(Invalid, match="127.0.0.1:2526"):  # the allow-list entry names port 2525 only
        _save(people, "email", {"smtp_host": "127.0.0.1", "smtp_port": "2526"})


# -- test messages reach the real sinks ------------------------------------------------------------------------

def test_a_test_email_reaches_the_smtp_server_with_the_stored_login(people: dict[str, int], smtp_server) -> None:
    _allow(f"127.0.0.1:{smtp_server.port}")
    _save(people, "email", {"smtp_host": "127.0.0.1", "smtp_port": str(smtp_server.port), "smtp_username": "mailer",
                            "email_from": "Shop <news@shop.example>"}, {"smtp_password": PASSWORD})
    result = _test(people, "email", "ann@example.com")
    assert result.ok, result.message
    assert result.message.startswith("Sent to ann@example.com")
    sender, recipients, mail = smtp_server.received[-1]
    assert (sender, recipients) == ("news@shop.example", ["ann@example.com"])
    assert mail["Subject"].startswith("Test message from ")
    assert [login for login, _mechanism in smtp_server.logins] == ["mailer"]  # with the stored password
    # a wrong password: the server's answer, in words
    _save(people, "email", {}, {"smtp_password": "wrong-one"})
    refused = _test(people, "email", "ann@example.com")
    assert not refused.ok and refused.message.startswith("SMTP login refused: 535")
    assert not any(secret in repr(r) for r in (result, refused) for secret in (PASSWORD, "wrong-one"))
    assert PASSWORD not in repr(channel_config.channel_config(people["ws"]))  # the cached config hides its secrets
    assert "Traceback" not in refused.message


def test_a_test_sms_and_push_reach_the_provider_simulator(people: dict[str, int], simulator) -> None:
    port = simulator.url.rsplit(":", 1)[1]
    _allow(f"127.0.0.1:{port}")
    _save(people, "provider", {"provider_url": simulator.url}, {"provider_api_key": API_KEY})
    sms = _test(people, "text_sms", "+8613800001111")
    push = _test(people, "app_push", "push-token-1")
    assert sms.ok and push.ok, (sms.message, push.message)
    got = simulator.simulator.messages(prefix="0:settings-test")["messages"]
    assert sorted((m["channel"], m["to"]) for m in got) == [("app_push", "push-token-1"),
                                                           ("text_sms", "+8613800001111")]


def test_an_unreachable_provider_is_reported_in_words(people: dict[str, int], monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.engine.channels.helpers import free_port

    monkeypatch.setenv("PROVIDER_BACKOFF", "0.01")
    get_settings.cache_clear()
    closed = free_port()
    _allow(f"127.0.0.1:{closed}")
    _save(people, "provider", {"provider_url": f"http://127.0.0.1:{closed}"})
    result = _test(people, "text_sms", "+8613800001111")
    assert not result.ok and result.message.startswith("provider unavailable:"), result.message


def test_a_test_webhook_is_signed_with_the_stored_default_secret(people: dict[str, int], http_sink) -> None:
    _save(people, "webhook", {"webhook_max_attempts": "1"}, {"webhook_secret": SIGNING})
    ok = _test(people, "webhook", f"{http_sink.url}/ok/settings")
    assert ok.ok, ok.message
    hit = http_sink.hits[-1]
    assert hit.path == "/ok/settings" and hit.json()["data"]["test"] is True
    assert signature.is_valid(hit.body, SIGNING, hit.headers["x-signature"])
    refused = _test(people, "webhook", f"{http_sink.url}/status/404")
    assert not refused.ok and "404" in refused.message


def test_a_test_webhook_to_a_private_address_is_refused_before_connecting(people: dict[str, int]) -> None:
    with dialled() as dials:
        result = _test(people, "webhook", "http://10.0.0.7/hook")
    assert not result.ok and result.message.startswith("address not allowed: 10.0.0.7:80") and dials == []


def test_a_test_record_reaches_kafka(people: dict[str, int], kafka_cluster) -> None:
    for server in kafka_cluster.bootstrap_servers.split(","):
        _allow(server)
    _save(people, "kafka", {"kafka_bootstrap_servers": kafka_cluster.bootstrap_servers})
    result = _test(people, "push_kafka", "settings-test")
    assert result.ok and result.message.startswith("Sent to settings-test (settings-test/"), result.message


@pytest.mark.parametrize(("target", "to", "words"), [
    ("email", "not an address", "Email address: an address like"),
    ("text_sms", "call me", "Phone number: digits"),
    ("webhook", "ftp://x", "URL: an http"),
    ("push_kafka", "no spaces", "Topic: letters"),
    ("fax", "1", "Unknown channel"),
    ("email", " ", "Enter the email address"),
])
def test_test_targets_are_checked(people: dict[str, int], target: str, to: str, words: str) -> None:
    with pytest.raises(Invalid, match=words):
        _test(people, target, to)


def test_the_runtime_sends_with_the_workspace_settings(people: dict[str, int], smtp_server,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """What a worker does (RuntimePorts.send → channel_for(type, workspace)): the workspace's SMTP server, not
    the environment's (which points at a closed port here)."""
    from tests.engine.channels.helpers import free_port

    monkeypatch.setenv("SMTP_PORT", str(free_port()))
    get_settings.cache_clear()
    _allow(f"127.0.0.1:{smtp_server.port}")
    _save(people, "email", {"smtp_port": str(smtp_server.port)})
    results = registry.send([msg(7, channel="email", to="bob@example.com", subject="Hi", body="Hello")],
                            workspace_id=people["ws"])
    assert [r.status.value for r in results] == ["success"]
    assert smtp_server.received[-1][1] == ["bob@example.com"]
