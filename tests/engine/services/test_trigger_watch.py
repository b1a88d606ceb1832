"""The behaviour-event trigger index follows activity status without anyone calling bump by hand."""

import redis
from sqlmodel import select

from engine import db
from engine.models import Role, User
from engine.services import activities as svc
from engine.services.activities import ActivityInput
from engine.shared import trigger_index as index
from tests import factories as f

FLOW = {"nodes": [{"id": "e", "type": "behavior_event", "config": {"event": "login"}},
                  {"id": "x", "type": "end", "config": {}}],
        "edges": [{"source": "e", "branch": "out", "target": "x"}]}


def test_publish_and_stop_refresh_the_index_once_per_commit(database: str, redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    with db.write_session() as s:
        ws = f.workspace(s)
        owner = f.user(s, ws, Role.MARKETER)
        activity = svc.create_activity(session=s, actor=owner, data=ActivityInput(name="Login"), flow=FLOW)
        ws_id, user_id, activity_id = ws.id, owner.id, activity.id
    with db.read_session() as s:
        assert index.event_triggers(session=s, workspace_id=ws_id) == {}  # a Draft does not listen
    before = int(client.get(f"am:trigger-index:{ws_id}:version") or 0)
    with db.write_session() as s:
        svc.publish(session=s, actor=s.get(User, user_id), activity_id=activity_id)
        s.flush()
        svc.set_public(session=s, actor=s.get(User, user_id), activity_id=activity_id, public=True)
    assert int(client.get(f"am:trigger-index:{ws_id}:version")) == before + 1  # one bump for the transaction
    with db.read_session() as s:
        assert index.event_triggers(session=s, workspace_id=ws_id) == {"login": [activity_id]}
    with db.write_session() as s:
        svc.stop(session=s, actor=s.exec(select(User).where(User.id == user_id)).one(), activity_id=activity_id)
    with db.read_session() as s:
        assert index.event_triggers(session=s, workspace_id=ws_id) == {}
