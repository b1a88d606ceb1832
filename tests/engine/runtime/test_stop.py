"""Stop means stop: a round stopped while four worker threads are in the middle of sending sends nothing more
once the stop is committed — at most the requests already on the wire at that moment arrive (one per thread) —
and the customers it did not send count as "stopped", so entered = sent + not sent + stopped."""

import httpx

from engine.channels.registry import reset_channels
from engine.db import write_session
from engine.models import User
from engine.services import activities as svc
from engine.settings import get_settings
from engine.status import RecordStatus
from tests.engine.runtime import support as s

N = 3000  # 15 batches of 200; the provider takes 20 messages per request and answers after 0.1 s
THREADS, PER_REQUEST = 4, 20


def test_no_send_leaves_after_the_stop_is_committed(engine, sim, monkeypatch) -> None:
    monkeypatch.setenv("PROVIDER_URL", sim.url)
    monkeypatch.setenv("ENGINE_BATCH_SIZE", "200")
    monkeypatch.setenv("PROVIDER_BATCH_SIZE", str(PER_REQUEST))
    get_settings.cache_clear()
    reset_channels()
    activity_id, owner_id = s.seed_activity(N)
    record_id = s.records(activity_id)[0].id

    def received() -> int:
        return sim.simulator.snapshot()["unique"]

    s.wait_for(lambda: received() >= 200, 60, tick=engine.scheduler.tick, what="sends to start")
    with write_session() as session:
        svc.stop(session=session, actor=session.get(User, owner_id), activity_id=activity_id)
    at_commit = received()
    engine.run_until(lambda: True, timeout=120)  # every message of the round handled: the queues are empty
    after = received() - at_commit
    assert after <= THREADS * PER_REQUEST, f"{after} messages reached the provider after the stop was committed"
    assert s.records_status(record_id) == RecordStatus.STOPPED

    counters = engine.store.counters(record_id)
    sms, push = counters["sms"], counters.get("push", {})
    for name, node in (("sms", sms), ("push", push)):
        if not node:
            continue
        at_provider = httpx.get(f"{sim.url}/admin/messages", params={"prefix": f"{record_id}:{name}:",
                                                                     "limit": 0}).json()["total"]
        assert node["sent"] == at_provider, (name, node, at_provider)
        assert node["entered"] == node["sent"] + node.get("not_sent", 0) + node.get("stopped", 0), (name, node)
    assert sms.get("stopped", 0) > 0, sms  # walks in flight stopped mid-send
    assert sms["sent"] < N - N // 50  # nowhere near everyone
    assert sim.simulator.snapshot()["duplicates"] == 0
