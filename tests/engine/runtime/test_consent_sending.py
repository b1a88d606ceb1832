"""Consent honoured by the engine, on real Redis with the provider simulator and an SMTP server: a customer opted
out of a channel is not sent on it (the provider receives nothing for them), their step row says "opted_out" with
the channel, the component counts them as `opted_out` beside sent / not sent (every counter invariant holds), they
go on along "out"; a redelivered walk sends nobody twice and counts nobody twice; an email's unsubscribe link opts
its customer out of email."""

from collections import defaultdict
from typing import Any

import pytest
from sqlmodel import select

from engine.channels.registry import reset_channels
from engine.db import read_session, write_session
from engine.models import ConsentSource, Customer, ExecutionRecord
from engine.services import consent
from engine.services.execution import counters_of
from engine.settings import get_settings
from tests.engine.runtime.invariants import violations
from tests.engine.runtime.support import seed_activity, steps_of
from tests.engine.services.exec_support import edge, node, start, store, walk

N = 100  # customers F00000..F00099, every 50th without a phone (seed_activity)


def flow(audience_id: int) -> dict[str, Any]:
    """Target Audience → Text SMS → Email → APP PUSH → End."""
    return {"nodes": [node("t", "target_audience", audience_id=audience_id),
                      node("sms", "text_sms", content="Hi {name}"),
                      node("mail", "email", subject="News", body="Hello {name}: {unsubscribe_link}"),
                      node("push", "app_push", title="Hi", body="Hello {name}"), node("e", "end")],
            "edges": [edge("t", "sms"), edge("sms", "mail"), edge("mail", "push"), edge("push", "e")]}


@pytest.fixture
def peers(database: str, redis_url: str, simulator: Any, smtp_server: Any,
          monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("PROVIDER_URL", simulator.url)
    monkeypatch.setenv("SMTP_HOST", smtp_server.host)
    monkeypatch.setenv("SMTP_PORT", str(smtp_server.port))
    get_settings.cache_clear()
    reset_channels()
    yield simulator, smtp_server
    reset_channels()


def seeded() -> tuple[int, int, dict[str, int]]:
    """(record id, workspace id, qaid -> customer id) of a published activity over N customers with emails."""
    activity_id, _owner = seed_activity(N, flow)
    with write_session() as session:
        record = session.exec(select(ExecutionRecord).where(ExecutionRecord.activity_id == activity_id)).one()
        customers = session.exec(select(Customer)).all()
        for c in customers:
            c.email = f"{c.qaid.lower()}@shop.example"
            session.add(c)
        return int(record.id), customers[0].workspace_id, {c.qaid: int(c.id) for c in customers}  # type: ignore


def opt_out(workspace_id: int, qaids: list[str], channel: str, status: str = "opted_out") -> None:
    with write_session() as session:
        consent.apply_api(session=session, workspace_id=workspace_id,
                          items=[{"qaid": q, "channel": channel, "status": status} for q in qaids])


def provider_customers(simulator: Any, channel: str) -> set[int]:
    found = simulator.simulator.messages(channel=channel, limit=10_000)["messages"]
    return {int(m["customer_id"]) for m in found}


def counters(record_id: int) -> dict[str, dict[str, int]]:
    with read_session() as session:
        record = session.get(ExecutionRecord, record_id)
        assert record is not None
        return counters_of(session, record)


def test_opted_out_customers_are_not_sent_and_are_counted_apart(peers: Any) -> None:
    simulator, smtp = peers
    record_id, ws, ids = seeded()
    out_sms = ["F00001", "F00002", "F00003", "F00050"]  # F00050 has no phone: opted out comes first
    opt_out(ws, out_sms, "text_sms")
    opt_out(ws, ["F00004"], "email")
    opt_out(ws, ["F00005"], "text_sms", "opted_in")  # opted in: sent as anyone
    walk(record_id, start(record_id))

    sms_to = provider_customers(simulator, "text_sms")
    assert not sms_to & {ids[q] for q in out_sms}
    assert len(sms_to) == N - 4 - 1  # the opted out, and F00000 without a phone
    assert ids["F00005"] in sms_to
    mailed = {rcpt for _from, rcpts, _msg in smtp.received for rcpt in rcpts}
    assert "f00004@shop.example" not in mailed and len(mailed) == N - 1
    assert ids["F00004"] in provider_customers(simulator, "app_push")  # other channels: still sent
    assert len(provider_customers(simulator, "app_push")) == N

    by_node: dict[str, dict[int, tuple[str, str]]] = defaultdict(dict)
    for s in steps_of(record_id):
        by_node[s.node_id][s.customer_id] = (s.result, s.reason)
    assert {cid for cid, (r, _) in by_node["sms"].items() if r == "opted_out"} == {ids[q] for q in out_sms}
    assert by_node["sms"][ids["F00001"]] == ("opted_out", "Opted out of Text SMS")
    assert by_node["mail"][ids["F00004"]] == ("opted_out", "Opted out of Email")
    assert by_node["sms"][ids["F00000"]] == ("failed", "no phone number")

    c = counters(record_id)
    sms, mail = c["sms"], c["mail"]
    assert sms["opted_out"] == 4 and sms["not_sent"] == 1 and sms["sent"] == N - 5
    assert sms["sent"] + sms["not_sent"] + sms["opted_out"] == sms["entered"] == N
    assert mail["opted_out"] == 1 and mail["sent"] == N - 1 and mail.get("not_sent", 0) == 0
    assert "opted_out" not in c["push"]  # nobody held back there: no counter
    assert c["push"]["entered"] == N and c["e"]["entered"] == N  # the opted out went on along "out"
    with read_session() as session:
        record = session.get(ExecutionRecord, record_id)
        assert record is not None and record.status == "completed"
        from engine.models import ActivityVersion
        version = session.get(ActivityVersion, record.version_id)
        assert version is not None
        assert violations(version.flow, c, N) == []


def test_the_analysis_and_the_dashboard_tell_opted_out_apart(peers: Any) -> None:
    from datetime import timedelta

    from engine import clock
    from engine.models import User
    from engine.services import analysis
    from engine.services.dashboard_sends import step_counts

    record_id, ws, _ids = seeded()
    opt_out(ws, ["F00011", "F00012"], "text_sms")
    walk(record_id, start(record_id))
    with read_session() as session:
        record = session.get(ExecutionRecord, record_id)
        assert record is not None
        from engine.models import Activity
        activity = session.get(Activity, record.activity_id)
        assert activity is not None
        owner = session.get(User, activity.owner_id)
        assert owner is not None
        labels = {label.key: label for label in analysis.node_analysis(
            session=session, actor=owner, record_id=record_id, node_id="sms").labels}
        assert labels["result:opted_out"].count == 2 and labels["result:opted_out"].name == "Opted out"
        assert labels["result:failed"].count >= 1  # F00000 has no phone: failed (not sent), not opted out
        details = analysis.customer_details(session=session, actor=owner, record_id=record_id, node_id="sms",
                                            label="result:opted_out")
        assert {r.qaid for r in details.rows} == {"F00011", "F00012"}
        assert {r.reason for r in details.rows} == {"Opted out of Text SMS"}
        mail = {label.key for label in analysis.node_analysis(
            session=session, actor=owner, record_id=record_id, node_id="mail").labels}
        assert "result:opted_out" not in mail  # shown only when someone was held back
        counts = step_counts(session, [(record_id, "sms")], clock.now() - timedelta(hours=1))[(record_id, "sms")]
    by_result: dict[str, int] = defaultdict(int)
    for (_hour, result), n in counts.items():
        by_result[result] += n
    assert sum(by_result.values()) == N - 2 and "opted_out" not in by_result  # the dashboard counts sends only


def test_a_redelivered_walk_sends_nobody_twice_and_counts_nobody_twice(peers: Any) -> None:
    simulator, _smtp = peers
    record_id, ws, ids = seeded()
    opt_out(ws, ["F00001"], "text_sms")
    batches = start(record_id, batch_size=N)
    walk(record_id, batches)
    first = counters(record_id)
    sent_before = provider_customers(simulator, "text_sms")
    # F00002 was sent, then opts out; F00001 opts back in: a redelivery of the batch changes neither
    opt_out(ws, ["F00002"], "text_sms")
    opt_out(ws, ["F00001"], "text_sms", "opted_in")
    with write_session() as session:  # as if the redelivery came while the round still ran
        record = session.get(ExecutionRecord, record_id)
        assert record is not None
        record.status = "in_progress"
        session.add(record)
    s = store()
    s.add_pending(record_id, [b for _n, b in batches])
    walk(record_id, batches)
    assert counters(record_id)["sms"] == first["sms"]
    assert provider_customers(simulator, "text_sms") == sent_before  # F00001 was not sent on the redelivery
    assert simulator.simulator.snapshot()["duplicates"] == 0
    results = {s.customer_id: s.result for s in steps_of(record_id) if s.node_id == "sms"}
    assert results[ids["F00001"]] == "opted_out" and results[ids["F00002"]] != "opted_out"


def test_the_unsubscribe_link_of_an_email_opts_its_customer_out(peers: Any) -> None:
    _simulator, smtp = peers
    record_id, ws, ids = seeded()
    walk(record_id, start(record_id))
    message = next(m for _f, rcpts, m in smtp.received if rcpts == ["f00007@shop.example"])
    body = message.get_payload(decode=True).decode() if not message.is_multipart() else \
        message.get_payload(0).get_payload(decode=True).decode()
    link = body.split(": ", 1)[1].strip()
    base = get_settings().api_public_url.rstrip("/") + "/u/"
    assert link.startswith(base)
    with write_session() as session:
        assert consent.unsubscribe(session=session, code=link.removeprefix(base))
        assert not consent.unsubscribe(session=session, code=link.removeprefix(base)[:-4] + "AAAA")
    with read_session() as session:
        from engine.models import CustomerConsent
        row = session.get(CustomerConsent, (ids["F00007"], "email"))
        assert row is not None and row.status == "opted_out" and row.source == ConsentSource.UNSUBSCRIBE.value
        assert session.get(CustomerConsent, (ids["F00007"], "text_sms")) is None


def test_the_counters_add_up_at_every_instant_while_opted_out_customers_are_held_back(peers: Any) -> None:
    from tests.engine.runtime.invariants import Sampler

    def sms_flow(audience_id: int) -> dict[str, Any]:
        return {"nodes": [node("t", "target_audience", audience_id=audience_id),
                          node("sms", "text_sms", content="Hi {name}"),
                          node("push", "app_push", title="Hi", body="Hello"), node("e", "end")],
                "edges": [edge("t", "sms"), edge("sms", "push"), edge("push", "e")]}

    n = 1000
    activity_id, _owner = seed_activity(n, sms_flow)
    with read_session() as session:
        record = session.exec(select(ExecutionRecord).where(ExecutionRecord.activity_id == activity_id)).one()
        record_id, ws = int(record.id), session.exec(select(Customer.workspace_id)).first()  # type: ignore[arg-type]
    opt_out(int(ws), [f"F{i:05d}" for i in range(0, n, 5)], "text_sms")  # every 5th (every 50th has no phone too)
    opt_out(int(ws), [f"F{i:05d}" for i in range(0, n, 7)], "app_push")
    flow_ = sms_flow(0)
    with Sampler(lambda: store().counters(record_id), flow_, n, every=0.01) as sampler:
        walk(record_id, start(record_id, batch_size=50))
    assert sampler.error is None and not sampler.problems, sampler.problems[:10]
    assert any(0 < v < n // 5 for v in sampler.series("sms", "opted_out")), "no sample saw the round mid-walk"
    c = counters(record_id)
    assert c["sms"]["opted_out"] == n // 5 and c["sms"]["not_sent"] == 0  # the phoneless are all multiples of 5
    assert c["sms"]["sent"] + c["sms"]["opted_out"] == n
    assert c["push"]["opted_out"] == len(range(0, n, 7)) and c["push"]["entered"] == n
    assert len(provider_customers(peers[0], "text_sms")) == n - n // 5
