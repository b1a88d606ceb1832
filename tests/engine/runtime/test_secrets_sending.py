"""A webhook whose secret and Authorization header live encrypted apart from the flow still signs and
authenticates every POST: the channel resolves them at the moment it sends, and they end up nowhere else — not
in the flow, the round's Redis state, the database's files or the results."""

import json
from pathlib import Path

from sqlmodel import select

from engine.channels.registry import reset_channels
from engine.channels.signature import is_valid
from engine.db import read_session, write_session
from engine.models import Role, SecretValue, User
from engine.runtime.connection import get_redis
from engine.services import activities as svc
from engine.services.activities import ActivityInput
from engine.services.audiences import create_static_audience
from engine.shared.customers import upsert_customers
from tests import factories as f
from tests.engine.runtime import support as s

SIGNING, TOKEN = "e2e-signing-4b9d", "Bearer e2e-token-0c7a"


def _flow(audience_id: int, url: str) -> dict:
    def node(nid: str, type_: str, **config: object) -> dict:
        return {"id": nid, "type": type_, "config": config, "position": {"x": 0, "y": 0}}

    return {"nodes": [node("t", "target_audience", audience_id=audience_id),
                      node("hook", "webhook", url=url, secret=SIGNING, retries=0,
                           headers={"Authorization": TOKEN, "X-Source": "e2e"}),
                      node("e", "end")],
            "edges": [{"source": "t", "branch": "out", "target": "hook"},
                      {"source": "hook", "branch": "out", "target": "e"}]}


def test_the_webhook_signs_with_the_stored_secret_end_to_end(database: str, redis_url: str, http_sink) -> None:
    reset_channels()
    with write_session() as session:
        ws = f.workspace(session)
        owner = f.user(session, ws, Role.MARKETER)
        ids = upsert_customers(session=session, workspace_id=ws.id,
                               rows=[{"qaid": f"S{i}", "name": f"S{i}"} for i in range(5)]).ids
        audience = create_static_audience(session=session, workspace_id=ws.id, name="All",
                                          customer_ids=sorted(ids.values()))
        activity = svc.create_activity(session=session, actor=owner, data=ActivityInput(name="Signed"),
                                       flow=_flow(audience.id, f"{http_sink.url}/ok/signed"))
        svc.publish(session=session, actor=session.get(User, owner.id), activity_id=activity.id)
        activity_id = int(activity.id)
    with read_session() as session:
        stored = svc.current_flow(session=session, activity=session.get(svc.Activity, activity_id))
        assert SIGNING not in json.dumps(stored) and len(session.exec(select(SecretValue)).all()) == 2
    record_id = s.records(activity_id)[0].id

    s.run_in_process(record_id)

    hits = [h for h in http_sink.hits if h.path == "/ok/signed"]
    assert len(hits) == 5
    for hit in hits:
        assert is_valid(hit.body, SIGNING, hit.headers["x-signature"])
        assert hit.headers["authorization"] == TOKEN and hit.headers["x-source"] == "e2e"
        assert SIGNING not in hit.body.decode() and TOKEN not in hit.body.decode()
    assert {step.result for step in s.steps_of(record_id) if step.node_id == "hook"} == {"success"}
    # nowhere else: the round's Redis state, the database's files
    r = get_redis()
    read = {"string": r.get, "hash": r.hgetall, "list": lambda k: r.lrange(k, 0, -1), "set": r.smembers,
            "zset": lambda k: r.zrange(k, 0, -1)}
    keys = list(r.scan_iter(count=1000))
    assert keys  # the round's state is there to look into
    for key in keys:
        kind = r.type(key)
        dumped = repr(read.get(kind.decode() if isinstance(kind, bytes) else kind, lambda k: None)(key))
        assert SIGNING not in dumped and TOKEN not in dumped, key
    if database.startswith("sqlite"):
        path = Path(database.split("///", 1)[1])
        files = b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())
        assert SIGNING.encode() not in files and TOKEN.encode() not in files
