"""The trigger index: which event names start which in-progress activities of a workspace. Computed from the
database, cached in Redis under a per-workspace version number; `bump_trigger_index` (called after publish /
stop / start / finish, engine/shared/trigger_watch.py) increments the version, so the next read recomputes. A
stale entry can never be read after a bump: entries are keyed by version and readers read the version first.
Without Redis the index is computed from the database each time (correct, slower). Below the services and the
runtime: the events service filters an ingested batch with it, the runtime's entry path finds the rounds.
"""

import json
import logging
from collections.abc import Mapping
from typing import Any, cast

import redis
from sqlmodel import Session, col, select

from engine.db import after_commit
from engine.models import Activity, ActivityVersion
from engine.shared.quick_redis import quick_redis
from engine.status import ActivityStatus

log = logging.getLogger(__name__)

TRIGGER_TYPE = "behavior_event"
INDEX_TTL = 300  # seconds; a safety net only (bumps invalidate at once)


def _version_key(workspace_id: int) -> str:
    return f"am:trigger-index:{workspace_id}:version"


def _index_key(workspace_id: int, version: int) -> str:
    return f"am:trigger-index:{workspace_id}:{version}"


def trigger_of(flow: Mapping[str, Any]) -> str | None:
    """The event name of a flow whose trigger (first component) is a Behaviour Event, else None."""
    nodes = flow.get("nodes") or []
    targets = {str(e.get("target")) for e in flow.get("edges") or []}
    for node in nodes:
        if node.get("type") == TRIGGER_TYPE and str(node.get("id")) not in targets:
            name = (node.get("config") or {}).get("event")
            return name.strip() if isinstance(name, str) and name.strip() else None
    return None


def compute_event_triggers(*, session: Session, workspace_id: int) -> dict[str, list[int]]:
    """The trigger index from the database: event name -> ids of in-progress activities whose live version
    starts with a Behaviour Event on it (ascending)."""
    rows = session.exec(
        select(Activity.id, ActivityVersion.flow)
        .join(ActivityVersion, col(ActivityVersion.id) == Activity.live_version_id)
        .where(Activity.workspace_id == workspace_id, Activity.status == ActivityStatus.IN_PROGRESS)
        .order_by(col(Activity.id))
    ).all()
    index: dict[str, list[int]] = {}
    for activity_id, flow in rows:
        name = trigger_of(flow or {})
        if name and activity_id is not None:
            index.setdefault(name, []).append(activity_id)
    return index


#: the current version and its cached index in one round trip (this runs for every request of events)
_CACHED_INDEX = """
local version = redis.call('GET', KEYS[1]) or '0'
return {version, redis.call('GET', ARGV[1] .. version)}
"""


def event_triggers(*, session: Session, workspace_id: int) -> dict[str, list[int]]:
    """The trigger index, from Redis when cached for the current version, else computed and cached."""
    try:
        client = quick_redis()
        reply = client.eval(_CACHED_INDEX, 1, _version_key(workspace_id), f"am:trigger-index:{workspace_id}:")
        raw_version, cached = cast(list[Any], reply)  # redis-py types a reply Awaitable | Any
        version = int(raw_version)
        if cached:
            return {str(k): [int(i) for i in v] for k, v in json.loads(cached).items()}
    except redis.RedisError as err:
        log.warning("trigger index: Redis unavailable (%s); reading the database", err)
        return compute_event_triggers(session=session, workspace_id=workspace_id)
    index = compute_event_triggers(session=session, workspace_id=workspace_id)
    try:
        client.set(_index_key(workspace_id, version), json.dumps(index), ex=INDEX_TTL)
    except redis.RedisError as err:
        log.warning("trigger index: could not cache (%s)", err)
    return index


def bump_trigger_index(workspace_id: int, *, session: Session | None = None) -> None:
    """Invalidate the workspace's trigger index (an activity started, stopped, was republished or ended).
    With `session`, the bump happens after that session's transaction commits (so no reader can cache the
    old state under the new version); call it without a session only after the change is committed."""
    if session is not None:
        after_commit(session, lambda: bump_trigger_index(workspace_id))
        return
    try:
        quick_redis().incr(_version_key(workspace_id))
    except redis.RedisError as err:
        log.warning("trigger index: could not invalidate workspace %s (%s)", workspace_id, err)
