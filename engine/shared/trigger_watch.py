"""Keep the behaviour-event trigger index fresh: whenever a flush changes an activity's status or live
version, the workspace's index is invalidated once, after the commit. One listener, so no code path that
moves an activity (services, scheduler, runtime) can forget it: the services and the runtime modules that move
activities (engine/runtime/lifecycle.py, rounds.py) import it."""

from functools import partial

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from engine.db import after_commit
from engine.models import Activity
from engine.shared.trigger_index import bump_trigger_index

_PENDING = "trigger_index_bumps"


@event.listens_for(Session, "before_flush")
def _watch(session: Session, _context: object, _instances: object) -> None:
    changed = set()
    for obj in list(session.dirty) + list(session.new):
        if isinstance(obj, Activity):
            state = inspect(obj)
            if obj in session.new or any(state.attrs[a].history.has_changes() for a in ("status", "live_version_id")):
                changed.add(obj.workspace_id)
    pending: set[int] = session.info.setdefault(_PENDING, set())
    fresh = changed - pending
    if fresh:
        pending.update(fresh)
        for workspace_id in fresh:
            after_commit(session, partial(bump_trigger_index, workspace_id))


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _reset(session: Session, *_args: object) -> None:
    session.info.pop(_PENDING, None)
