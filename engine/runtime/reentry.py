"""Re-entry rules in the engine (issue 16; the rules: engine/services/reentry_rules.py).

Who may enter a round is decided in Redis by one Lua script per 10,000 customers (`admit`), so two worker
processes racing the same customer are serialised by Redis (one of them admits, the other refuses), and a
1M-customer audience round costs about a hundred calls, not a million round trips. Per activity:

- `re:last:{activity}`  hash customer → "<when>:<round>" of their last entry (epoch seconds of the engine's
                        clock): "once ever" and "again after N days" read it, and whether they are in this round;
- `re:live:{activity}`  hash customer → the round they are inside (entered, not yet left): "one live run at a
                        time" reads it. A walk removes the customers it carried out of the flow (`leave`, in the
                        walk's final transaction: End, the last component, a failure, a stop); a round's end or
                        stop removes everyone still inside it (`release_round`).

Per round: `re:refused:{record}` (sorted set: refused customers by time; an audience round lists its first
100,000), `re:why:{record}` (customer → "reason|last entry|refused at|N"), one counter per reason in the round's
counters (`c:{record}:{trigger}:refused_{reason}`, summed like every counter and persisted with them), and, for
an event round, `entered:{record}` as before (who entered it: a republish round reads it).
`re:act:{record}` names the activity of a round whose live runs are tracked.

An activity with the default rule (every time, no live-run limit) takes none of this: nothing is read or written.
The activity's hashes have no TTL ("once ever" is for ever); Redis runs with its append-only file (fsync every
second), so a crash loses at most the last second's entries. A Redis that lost its data loses this history too:
customers may then enter again once (the rounds themselves end Abnormal End: engine/runtime/redis_state.py).
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import bindparam, select
from sqlmodel import Session, col

from engine import clock
from engine.compiled import Compiled
from engine.models import Activity, ExecutionRecord
from engine.runtime import live
from engine.runtime.store import TTL, RoundStore

CHUNK = 10_000  # customers per Lua call (each call holds Redis for a few milliseconds)
ONCE, AFTER, LIVE, ROUND = "once", "after", "live", "round"  # refusal reasons
REASONS = (ONCE, AFTER, LIVE, ROUND)

#: refusals of one audience round listed per customer (the counts per reason stay exact beyond it)
LIST_CAP = 100_000

# KEYS: last, live, entered, refused, why, ck.  ARGV: now, mode, window s, one live, record, trigger, ttl,
# audience, days, chunk, then customer ids. Returns the admitted ids.
# `last` holds "<when>:<round>" per customer: whether they are in this round already is read from it (an audience
# round's retried start admits its own entrants again; an event round refuses a second entry). An event round
# also keeps its entrants in `entered` (a republish round reads who entered the rounds it continues) and counts a
# customer refused again once (`why` is the guard); an audience round counts each chunk's refusals in a field of
# its own (a retried start overwrites them) and lists the first LIST_CAP refusals.
# HMGET / HSET per 1,000 customers (Lua's per-call overhead, as engine/runtime/store.py's scripts).
_ADMIT = """
local now, mode, window = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3])
local onelive, rec, node, ttl = ARGV[4] == '1', ARGV[5], ARGV[6], tonumber(ARGV[7])
local audience, days, chunk = ARGV[8] == '1', ARGV[9], ARGV[10]
local prefix = 'c:' .. rec .. ':' .. node .. ':refused_'
local room = audience and (@CAP@ - redis.call('ZCARD', KEYS[4])) or 1e18
local out, delta, counts = {}, {}, {once = 0, after = 0, live = 0, round = 0}
local n, i = #ARGV, 11
while i <= n do
  local j = math.min(i + 999, n)
  local ids = {}
  for k = i, j do ids[#ids + 1] = ARGV[k] end
  local lasts = redis.call('HMGET', KEYS[1], unpack(ids))
  local lives = onelive and redis.call('HMGET', KEYS[2], unpack(ids)) or {}
  local prevs = (not audience) and redis.call('HMGET', KEYS[5], unpack(ids)) or {}
  local enter, last_set, live_set, why_set, zadd = {}, {}, {}, {}, {}
  for k, cid in ipairs(ids) do
    local last, lrec = false, false
    if lasts[k] then last, lrec = string.match(lasts[k], '^(%d+):(%d+)$') end
    local inround = lrec == rec
    if inround and audience then
      out[#out + 1] = cid
    else
      local why = false
      if last then
        if mode == 'once' then why = 'once'
        elseif mode == 'after' and now - tonumber(last) < window then why = 'after' end
      end
      if not why and onelive and lives[k] then why = 'live' end
      if not why and inround then why = 'round' end
      local prev = prevs[k] and string.match(prevs[k], '^[^|]+') or false
      if why then
        if room > 0 then
          why_set[#why_set + 1] = cid
          why_set[#why_set + 1] = why .. '|' .. (last or '') .. '|' .. ARGV[1] .. '|' .. days
          zadd[#zadd + 1] = ARGV[1]
          zadd[#zadd + 1] = cid
          if audience then room = room - 1 end
        end
        counts[why] = counts[why] + 1
        if prev ~= why then
          if prev then delta[prev] = (delta[prev] or 0) - 1 end
          delta[why] = (delta[why] or 0) + 1
        end
      else
        if prev then
          delta[prev] = (delta[prev] or 0) - 1
          redis.call('HDEL', KEYS[5], cid)
          redis.call('ZREM', KEYS[4], cid)
        end
        enter[#enter + 1] = cid
        last_set[#last_set + 1] = cid
        last_set[#last_set + 1] = ARGV[1] .. ':' .. rec
        if onelive then
          live_set[#live_set + 1] = cid
          live_set[#live_set + 1] = rec
        end
        out[#out + 1] = cid
      end
    end
  end
  if #enter > 0 then
    if not audience then redis.call('SADD', KEYS[3], unpack(enter)) end
    redis.call('HSET', KEYS[1], unpack(last_set))
    if #live_set > 0 then redis.call('HSET', KEYS[2], unpack(live_set)) end
  end
  if #why_set > 0 then
    redis.call('HSET', KEYS[5], unpack(why_set))
    redis.call('ZADD', KEYS[4], unpack(zadd))
  end
  i = j + 1
end
local changed = false
for code, c in pairs(counts) do
  local d = audience and c or (delta[code] or 0)
  if audience and c == 0 then
    redis.call('HDEL', prefix .. code, 'a' .. chunk)
  elseif d ~= 0 then
    if audience then redis.call('HSET', prefix .. code, 'a' .. chunk, c)
    else redis.call('HINCRBY', prefix .. code, 'n', d) end
    redis.call('EXPIRE', prefix .. code, ttl)
    redis.call('SADD', KEYS[6], node .. ':refused_' .. code)
    changed = true
  end
end
for k = 3, 6 do redis.call('EXPIRE', KEYS[k], ttl) end
if changed then redis.call('PUBLISH', '@CHANNEL@', rec) end
return out
""".replace("@CHANNEL@", live.CHANNEL).replace("@CAP@", str(LIST_CAP))  # pages showing the round re-read it

# KEYS: live.  ARGV: record, then customer ids: those still counted inside this round leave it.
_LEAVE = """
local rec, n, i, gone = ARGV[1], #ARGV, 2, 0
while i <= n do
  local j = math.min(i + 999, n)
  local ids = {}
  for k = i, j do ids[#ids + 1] = ARGV[k] end
  local vals = redis.call('HMGET', KEYS[1], unpack(ids))
  local drop = {}
  for k, cid in ipairs(ids) do
    if vals[k] == rec then drop[#drop + 1] = cid end
  end
  if #drop > 0 then gone = gone + redis.call('HDEL', KEYS[1], unpack(drop)) end
  i = j + 1
end
return gone
"""


@dataclass(frozen=True)
class Rule:
    activity_id: int
    mode: str  # every / once / after
    days: int  # N of "after N days" (0 otherwise)
    one_live: bool

    @property
    def window_s(self) -> int:
        return self.days * 86400


_RULE = Compiled(select(col(Activity.id), col(Activity.reentry), col(Activity.reentry_days),
                        col(Activity.one_live_run), col(ExecutionRecord.is_test))
                 .join(ExecutionRecord, col(ExecutionRecord.activity_id) == col(Activity.id))
                 .where(col(ExecutionRecord.id) == bindparam("record_id")))
_MODES = {"once": ONCE, "after_days": AFTER}


def rule_of(session: Session, record_id: int) -> Rule | None:
    """The rule a round's entrants obey, or None for the default (every time, no live-run limit) and for test
    rounds (seed 004: testers always enter): then nothing of this module runs."""
    row = _RULE.first(session, record_id=record_id)
    if row is None:
        return None
    activity_id, reentry, days, one_live, is_test = row
    mode = _MODES.get(str(reentry), "every")
    if is_test or (mode == "every" and not one_live):
        return None
    return Rule(activity_id=int(activity_id), mode=mode, days=int(days or 0) if mode == AFTER else 0,
                one_live=bool(one_live))


def _keys(rule: Rule, record_id: int) -> list[str]:
    a = rule.activity_id
    return [f"re:last:{a}", f"re:live:{a}", f"entered:{record_id}", f"re:refused:{record_id}",
            f"re:why:{record_id}", f"ck:{record_id}"]


def admit(store: RoundStore, rule: Rule, record_id: int, trigger_id: str, customer_ids: list[int], *,
          audience: bool = False, first_chunk: int = 0) -> list[int]:
    """The customers the rule lets into this round (their entry recorded, and inside it when live runs are
    tracked); the others are recorded as refused with their reason. Atomic per chunk: whatever other worker
    processes admit at the same time, a customer is let in once. `audience`: an audience round's whole crowd, in
    the same chunks if its start is retried (its own entrants are admitted again, its counts overwritten);
    `first_chunk`: the number of the first of those chunks, when the crowd comes in parts (rounds.py)."""
    if not customer_ids:
        return []
    r = store.r
    script = r.register_script(_ADMIT)
    keys = _keys(rule, record_id)
    now = str(int(clock.now().timestamp()))
    head = [now, rule.mode, str(rule.window_s), "1" if rule.one_live else "0", str(record_id), trigger_id,
            str(TTL), "1" if audience else "0", str(rule.days)]
    pipe = r.pipeline(transaction=False)
    if rule.one_live:
        pipe.set(f"re:act:{record_id}", rule.activity_id, ex=TTL)  # before any batch: its walks report leavers
    for n, i in enumerate(range(0, len(customer_ids), CHUNK)):
        script(keys=keys, args=[*head, first_chunk + n, *customer_ids[i:i + CHUNK]], client=pipe)
    replies = pipe.execute()[1 if rule.one_live else 0:]
    return [int(cid) for reply in replies for cid in reply]


def not_in(store: RoundStore, record_ids: list[int], customer_ids: list[int]) -> list[int]:
    """Those of `customer_ids` who entered none of `record_ids` (a republish round's predecessors)."""
    if not record_ids or not customer_ids:
        return customer_ids
    pipe = store.r.pipeline(transaction=False)
    for old in record_ids:
        pipe.smismember(f"entered:{old}", customer_ids)
    seen = [any(flags) for flags in zip(*pipe.execute(), strict=True)]
    return [cid for cid, was_seen in zip(customer_ids, seen, strict=True) if not was_seen]


# ---------------------------------------------------------------- leaving

def _tracked(r: Any, record_id: int) -> int | None:
    """The activity of a round whose live runs are tracked, else None: one GET per walk (not cached: a cache
    keyed by record id outlives a Redis rebound to another database; the read costs ~0.1 ms a walk)."""
    raw = r.get(f"re:act:{record_id}")
    return int(raw) if raw is not None else None


def leave(r: Any, pipe: Any, record_id: int, members: list[int],
          parked: Iterable[tuple[Any, Any, Any, list[int]]]) -> None:
    """A walk is over: its customers not parked at a wait left the flow (queued on the walk's final
    transaction `pipe`). Nothing for a round whose live runs are not tracked."""
    activity_id = _tracked(r, record_id)
    if activity_id is None or not members:
        return
    waiting = {cid for *_, ids in parked for cid in ids}
    left = [cid for cid in members if cid not in waiting]
    if left:
        r.register_script(_LEAVE)(keys=[f"re:live:{activity_id}"], args=[record_id, *left], client=pipe)


def leave_now(r: Any, record_id: int, customer_ids: list[int]) -> int:
    """Customers an exit took out while they waited (engine/runtime/goals.py) leave the round at once, not when
    their wait wakes: "at most one live run" lets them in again from now. Only this round's entries go (a newer
    round's stays). Returns how many left."""
    activity_id = _tracked(r, record_id)
    if activity_id is None or not customer_ids:
        return 0
    return int(r.register_script(_LEAVE)(keys=[f"re:live:{activity_id}"], args=[record_id, *customer_ids]))


def release_round(r: Any, record_id: int) -> int:
    """The round ended or was stopped: everyone still counted inside it has left. Idempotent."""
    raw = r.get(f"re:act:{record_id}")
    if raw is None:
        return 0
    key, gone, cursor = f"re:live:{int(raw)}", 0, 0
    leave_script = r.register_script(_LEAVE)
    rec = str(record_id).encode()
    while True:
        cursor, found = r.hscan(key, cursor, count=10_000)
        ids = [int(cid) for cid, value in cast(dict[bytes, bytes], found).items() if value == rec]
        if ids:
            gone += int(leave_script(keys=[key], args=[record_id, *ids]))
        if not cursor:
            return gone


def live_runs(r: Any, activity_id: int) -> dict[int, int]:
    """customer → the round they are inside (tests, diagnostics)."""
    raw = cast(dict[bytes, bytes], r.hgetall(f"re:live:{activity_id}"))
    return {int(k): int(v) for k, v in raw.items()}
