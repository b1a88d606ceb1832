"""Issue 16 in the walk: the holdout group at the entry, exits before every touch and at a Wait Until's wake.

A walk asks `guard_for` once (one primary-key read, cached per process for CACHE_TTL_S like the pacing rules:
~1.3 ms a walk otherwise); None when the activity set no holdout and no exit, so a flow with only a
conversion goal costs the walk nothing (conversions are counted as events arrive:
engine/runtime/goals.py). Otherwise, per batch and never per customer in Redis:

- **Holdout** (entry walks): `held_out` customers are counted "entered" and "held_out" at the trigger, get a
  route entry saying so (the goal's counting finds them there) and walk no further: no touch reaches them.
- **Exits**: `gx:{record}` holds the customers an exit event took out (engine/runtime/goals.py adds them as
  events arrive). Before a touch the batch is checked against it in one SMISMEMBER, and against the exit
  conditions on attributes (the customers' attributes, one query per touch); a resumed wait drops them before
  they go on. Each exited customer is counted "exited" once per round, at the component where they were
  (`mark_exited`: SADD to `gxc:{record}` guards the count), and their step/route entry says "exited".
"""

import time
from typing import Any, cast

from sqlmodel import Session

from engine.components.base import CustomerView, Outcome
from engine.components.conditions import PropertyCondition
from engine.db import forget_with_engine, read_session
from engine.runtime.customers import load_view_map
from engine.runtime.live import LUA_CHANNEL
from engine.runtime.store import TTL, RoundStore
from engine.shared.goal_rules import GoalSettings, attribute_exits, held_out, settings_of_record

EXITED = "exited"
HELD_OUT = "held_out"
CACHE_TTL_S = 2.0  # holdout and exit settings changed while a round runs apply to its walks within this time
_now = time.monotonic
_CACHE: dict[int, tuple[float, tuple[int, GoalSettings] | None]] = {}
forget_cache = forget_with_engine(_CACHE.clear)

# Count customers exited at a node once per round. KEYS: counted set, counter hash, counter names;
# ARGV: ttl, record, "node:exited", ids... Returns how many were counted now.
_MARK = f"""
local n = 0
for i = 4, #ARGV do n = n + redis.call('SADD', KEYS[1], ARGV[i]) end
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[1]))
if n > 0 then
  redis.call('HINCRBY', KEYS[2], 'exits', n)
  redis.call('EXPIRE', KEYS[2], tonumber(ARGV[1]))
  redis.call('SADD', KEYS[3], ARGV[3])
  redis.call('EXPIRE', KEYS[3], tonumber(ARGV[1]))
  redis.call('PUBLISH', '{LUA_CHANNEL}', ARGV[2])
end
return n
"""


def exit_key(record_id: int) -> str:
    return f"gx:{record_id}"


def mark_exited(store: RoundStore, record_id: int, node_id: str, ids: list[int]) -> int:
    """Count `ids` "exited" at `node_id` (those not counted in this round yet); they are in the exit set too."""
    if not ids:
        return 0
    pipe = store.r.pipeline(transaction=True)
    pipe.sadd(exit_key(record_id), *ids)
    pipe.expire(exit_key(record_id), TTL)
    pipe.eval(_MARK, 3, f"gxc:{record_id}", f"c:{record_id}:{node_id}:{EXITED}", f"ck:{record_id}",
              TTL, record_id, f"{node_id}:{EXITED}", *ids)
    return int(pipe.execute()[-1])


def exiting(store: RoundStore, record_id: int, ids: list[int]) -> set[int]:
    """Which of `ids` an exit event took out of the round (one SMISMEMBER)."""
    if not ids:
        return set()
    flags = cast(list[int], store.r.smismember(exit_key(record_id), ids))
    return {cid for cid, flag in zip(ids, flags, strict=True) if flag}


class WalkGuard:
    """What one walk of a round with a holdout or exit criteria checks."""

    def __init__(self, record_id: int, activity_id: int, settings: GoalSettings, store: RoundStore) -> None:
        self.record_id, self.activity_id, self.store = record_id, activity_id, store
        self.holdout_pct = settings.holdout_pct
        self.exits = bool(settings.exit_names() or settings.exit_attributes)
        self.conditions: list[PropertyCondition] = settings.attribute_conditions()

    def admit(self, walk: Any, start: str, ids: list[int], *, resume: bool, trigger: str | None) -> list[int]:
        """The customers who walk on from `start`: an entry walk leaves the holdout at the trigger, a resumed
        wait leaves those an exit took out while they waited (counted there, if not already)."""
        if resume:
            if not self.exits:
                return ids
            gone = exiting(self.store, self.record_id, ids)
            if not gone:
                return ids
            out = [cid for cid in ids if cid in gone]
            mark_exited(self.store, self.record_id, start, out)
            walk.routes.add(start, out, Outcome(results=dict.fromkeys(out, (EXITED, None))))
            return [cid for cid in ids if cid not in gone]
        if self.holdout_pct <= 0 or start != trigger:
            return ids
        held = held_out(self.activity_id, self.holdout_pct, ids)
        if not held:
            return ids
        out = [cid for cid in ids if cid in held]
        walk.routes.add(start, out, Outcome(results=dict.fromkeys(out, (HELD_OUT, None))))
        walk.counts.append((start, walk.batch + "~h", {"entered": len(out), HELD_OUT: len(out)}))
        return [cid for cid in ids if cid not in held]

    def before_touch(self, node_id: str, customers: list[CustomerView], session: Session) -> set[int]:
        """The customers of a touch who leave the flow here instead of being sent to (counted "exited" here
        unless counted elsewhere already)."""
        if not self.exits or not customers:
            return set()
        ids = [c.id for c in customers]
        gone = exiting(self.store, self.record_id, ids)
        if self.conditions:
            views = load_view_map(session, [cid for cid in ids if cid not in gone], attributes=True)
            gone |= attribute_exits(self.conditions, {cid: v.attributes for cid, v in views.items()})
        if gone:
            mark_exited(self.store, self.record_id, node_id, sorted(gone))
        return gone


def guard_for(record_id: int, store: RoundStore) -> WalkGuard | None:
    """The walk's guard, or None when the round's activity set no holdout and no exit criteria."""
    hit = _CACHE.get(record_id)
    if hit is not None and hit[0] > _now():
        found = hit[1]
    else:
        with read_session() as session:
            found = settings_of_record(session, record_id)
        if len(_CACHE) > 4096:
            _CACHE.clear()
        _CACHE[record_id] = (_now() + CACHE_TTL_S, found)
    if found is None:
        return None
    activity_id, settings = found
    guard = WalkGuard(record_id, activity_id, settings, store)
    return guard if guard.holdout_pct > 0 or guard.exits else None


def exited_outcome(outcome: Outcome, gone: set[int]) -> None:
    """Mark a touch's exited customers in its outcome: their step rows say "exited", none was sent to."""
    outcome.results.update(dict.fromkeys(gone, (EXITED, None)))
