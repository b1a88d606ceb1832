"""Stop means stop: the moment a flush moves an execution record to Stopped, the round's Redis stop flag is
set — before the transaction commits — so every provider request, SMTP transaction, webhook POST or Kafka batch
that asks after the commit (engine/runtime/ports.py `proceed`) finds it and sends nothing more. A rollback
removes the flags its transaction set. One listener, so no code path that stops a round (Stop, batch Stop,
Manage Versions, Execution Records) can forget it."""

import logging
from typing import TYPE_CHECKING

import redis
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from engine.models import ExecutionRecord
from engine.runtime import live, reentry
from engine.runtime.connection import get_redis
from engine.runtime.store import RoundStore
from engine.status import RecordStatus

if TYPE_CHECKING:
    from engine.runtime.store import RoundStore

log = logging.getLogger(__name__)
_FLAGGED = "stop_flags_set"


def _store() -> RoundStore:
    return RoundStore(get_redis())


@event.listens_for(Session, "before_flush")
def _flag_stops(session: Session, _context: object, _instances: object) -> None:
    stopped = []
    for obj in list(session.dirty) + list(session.new):
        if isinstance(obj, ExecutionRecord) and obj.status == RecordStatus.STOPPED and obj.id is not None:
            if inspect(obj).attrs["status"].history.has_changes():
                stopped.append(int(obj.id))
    if not stopped:
        return
    flagged: set[int] = session.info.setdefault(_FLAGGED, set())
    try:
        store = _store()
        for record_id in stopped:
            store.stop(record_id)
    except redis.RedisError as err:  # Redis away: no walk can send either; walks re-check the DB when it returns
        log.warning("stop flag of records %s not set: %s", stopped, err)
        return
    flagged.update(stopped)


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    flagged = session.info.pop(_FLAGGED, None)
    if flagged:  # open pages re-read the stopped rounds now (engine/runtime/live.py)
        try:
            r = _store().r
            for record_id in sorted(flagged):
                live.publish(r, record_id)
                reentry.release_round(r, record_id)  # issue 16: a stopped round's customers have left it
        except redis.RedisError as err:
            log.warning("stop of records %s not announced: %s", sorted(flagged), err)


@event.listens_for(Session, "after_rollback")
def _rolled_back(session: Session) -> None:
    flagged = session.info.pop(_FLAGGED, None)
    if flagged:
        try:
            r = _store().r
            r.delete(*[f"stopped:{record_id}" for record_id in flagged])
        except redis.RedisError as err:
            log.warning("stop flags of records %s not removed after a rollback: %s", sorted(flagged), err)
