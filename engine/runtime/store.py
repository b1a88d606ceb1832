"""Redis state of running rounds. Every write is idempotent so a retried message changes nothing:

- batch members   `b:{record}:{batch}`          packed customer ids (written once, same content on retry)
- pending batches `pending:{record}`            set of batch keys not yet done; empty + entry closed = done
- claims          `claim:{record}:{batch}`      the worker process working on a batch (expires if it dies)
- counters        `c:{record}:{node}:{metric}`  hash batch key → count; the total is the sum (overwrite-safe).
                                                A walk writes a component's `entered` before it runs it and its
                                                routes after, so every reader sees progress that adds up.
                                                Send outcomes (sent, success, failed, pending, stopped) are not
                                                per batch: the Lua scripts that change a customer's send result
                                                count the change in field "live" in the same atomic step, once
                                                per customer (the result is the guard), so sent = success +
                                                failed + pending and success ≤ sent ≤ entered at every instant.
- send results    `r:{record}:{node}:{shard}`   hash customer id → sending / success / failed / pending /
                                                stopped, or +success / +failed once the provider's receipt came;
                                                shard = customer id >> 15 (32,768 customers a hash; SHARD_BITS)
- stop flag       `stopped:{record}`            set when a stop is flushed, before it commits (services/stop_watch)
- trigger props   `tp:{record}`                 hash customer id → JSON of the triggering event's properties
- parked waits    `waits`                       sorted set, score = wake time, member = JSON (record,node,batch)
- failures        `failed:{record}`             hash node → reason (a component failed: Abnormal End)

redis-py types every reply as `Awaitable[Any] | Any` (its sync and asyncio clients share one signature), so
replies read here are `cast` to what the sync client returns.
"""

import json
import logging
import os
import socket
import threading
import time
import uuid
from array import array
from collections.abc import Iterable
from typing import Any, cast

import redis
from redis.exceptions import LockNotOwnedError
from redis.lock import Lock

from engine.runtime import live
from engine.settings import get_settings

log = logging.getLogger(__name__)

TTL = 8 * 24 * 3600  # beyond the 7-day detail retention

#: a send handed to a channel whose answer is not stored yet (a worker killed there leaves it: ask the provider)
SENDING = "sending"
#: prefix of a result settled by a receipt: the send itself answered "pending" (accepted)
RECEIPT = "+"

# The live counters of one node (field "live" of each metric's hash, with the TTL; the record's counter names
# set; a message to the live pages): what the send-result and receipt scripts add, in one place. A Lua prelude.
COUNT_LIVE = """
local function count_live(rec, node, counts, ttl)
  local names = 'ck:' .. rec
  local any = false
  for metric, n in pairs(counts) do
    local key = 'c:' .. rec .. ':' .. node .. ':' .. metric
    redis.call('HINCRBY', key, 'live', n)
    redis.call('EXPIRE', key, ttl)
    redis.call('SADD', names, node .. ':' .. metric)
    any = true
  end
  if any then
    redis.call('EXPIRE', names, ttl)
    redis.call('PUBLISH', 'live:records', rec)
  end
end
"""

# The send results of a (round, component) are sharded by customer id, `r:{record}:{node}:{customer >> 15}`: a
# hash per 32,768 ids. In one hash of a million fields every lookup missed the caches; a walk's customers
# (consecutive ids from the audience) fall in one or two shards. Smaller shards cost more than they save: a hash
# starts as a listpack (up to 512 fields, each insert a scan). Reserve + settle + reads of a walk's sends, Redis
# CPU a customer (docs/BENCHMARKS.md): one hash 5.7–6.4 µs, 4,096 a shard 5.1, 32,768 a shard 4.0.
# An engine before the shards kept one hash, `r:{record}:{node}` (the "legacy" key): while a round of that time
# still has it, a customer not found in its shard is looked up there, so an upgrade mid-round never sends twice
# nor loses a receipt.
SHARD_BITS = 15

# The per-shard read every results script shares: the values of `ids` (a Lua list) in shard hash `rkey`, a
# customer missing there read from `legacy` when that key exists (`old` = whether it does, asked once a call).
READ_RESULTS = """
local function read_results(rkey, legacy, old, ids)
  local current = redis.call('HMGET', rkey, unpack(ids))
  if old then
    local before = redis.call('HMGET', legacy, unpack(ids))
    for j = 1, #ids do
      if not current[j] then current[j] = before[j] end
    end
  end
  return current
end
"""

# Store a send's answer unless a receipt already settled it (a receipt can overtake the answer's write), and
# count it: one unit of the answer's status (and of "sent" for an answer handed to the channel) per customer
# whose result this call sets — the result is the guard, so a retried walk never counts twice.
# ARGV: ttl, record, node, then per (shard, status): shard, status, n, then n customers, each customer once in
# the call (the caller's dict). Grouped by status, a customer is one argument, not two (half the packing in the
# worker and the parsing in Redis); read with one HMGET and written with one HSET per 1,000 customers (not an
# HGET and an HSET each: Lua's per-call overhead was most of Redis's CPU).
_SETTLE = COUNT_LIVE + READ_RESULTS + """
local ttl, rec, node = tonumber(ARGV[1]), ARGV[2], ARGV[3]
local legacy = 'r:' .. rec .. ':' .. node
local old = redis.call('EXISTS', legacy) == 1
local counts = {}
local i = 4
while i <= #ARGV do
  local rkey = legacy .. ':' .. ARGV[i]
  local st = ARGV[i + 1]
  local n = tonumber(ARGV[i + 2])
  local base = i + 3
  local stored = 0
  for first = 0, n - 1, 1000 do
    local ids = {unpack(ARGV, base + first, base + math.min(first + 999, n - 1))}
    local current = read_results(rkey, legacy, old, ids)
    local set = {}
    for k = 1, #ids do
      local value = current[k]
      if (not value) or value == 'sending' then
        set[#set + 1] = ids[k]
        set[#set + 1] = st
      end
    end
    if #set > 0 then
      redis.call('HSET', rkey, unpack(set))
      stored = stored + #set / 2
    end
  end
  if stored > 0 then
    counts[st] = (counts[st] or 0) + stored
    if st == 'success' or st == 'failed' or st == 'pending' then counts['sent'] = (counts['sent'] or 0) + stored end
  end
  redis.call('EXPIRE', rkey, ttl)
  i = base + n
end
count_live(rec, node, counts, ttl)
return 1
"""

# Every counter of a record, summed, in one atomic read (a reader never sees half of a Lua call or a walk's
# MULTI): returns name, total, name, total, ...  KEYS: the record's counter names set; ARGV: record.
_TOTALS = """
local out = {}
for _, name in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local total = 0
  for _, v in ipairs(redis.call('HVALS', 'c:' .. ARGV[1] .. ':' .. name)) do total = total + tonumber(v) end
  out[#out + 1] = name
  out[#out + 1] = tostring(total)
end
return out
"""

# Mark customers "sending" unless they have a result; returns each one's value before (false = none), in the
# order given. ARGV: ttl, record, node, then per shard: shard, n, then n customers. One HMGET and one HSET per
# 1,000 customers of a shard (see _SETTLE); a customer given twice finds its own "sending".
_RESERVE = READ_RESULTS + """
local ttl, legacy = tonumber(ARGV[1]), 'r:' .. ARGV[2] .. ':' .. ARGV[3]
local old = redis.call('EXISTS', legacy) == 1
local out = {}
local seen = {}
local i = 4
while i <= #ARGV do
  local rkey = legacy .. ':' .. ARGV[i]
  local n = tonumber(ARGV[i + 1])
  local base = i + 2
  for first = 0, n - 1, 1000 do
    local last = math.min(first + 999, n - 1)
    local ids = {}
    for j = first, last do ids[#ids + 1] = ARGV[base + j] end
    local current = read_results(rkey, legacy, old, ids)
    local set = {}
    for j = 1, #ids do
      local cid = ids[j]
      local value = current[j]
      if seen[cid] then value = 'sending' end
      if not value then
        seen[cid] = true
        set[#set + 1] = cid
        set[#set + 1] = 'sending'
      end
      out[#out + 1] = value
    end
    if #set > 0 then redis.call('HSET', rkey, unpack(set)) end
  end
  redis.call('EXPIRE', rkey, ttl)
  i = base + n
end
return out
"""

# Begin a walk in one round trip. KEYS: stopped flag, pending set, claim, batch members; ARGV: batch, token, ttl.
# Returns {"stopped"} | {"done", pending count} | {"busy"} | {"go", members}. The claim's token names the
# process and thread: the same thread retrying (Redis came back) takes its own claim again.
_BEGIN = """
if redis.call('EXISTS', KEYS[1]) == 1 then return {'stopped'} end
if redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 0 then return {'done', redis.call('SCARD', KEYS[2])} end
local holder = redis.call('GET', KEYS[3])
if holder and holder ~= ARGV[2] then return {'busy'} end
redis.call('SET', KEYS[3], ARGV[2], 'PX', tonumber(ARGV[3]))
return {'go', redis.call('GET', KEYS[4]) or ''}
"""

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def _ids_to_bytes(ids: Iterable[int]) -> bytes:
    return array("q", ids).tobytes()


def _bytes_to_ids(raw: bytes | None) -> list[int]:
    if not raw:
        return []
    out = array("q")
    out.frombytes(raw)
    return out.tolist()


def results_key(record_id: int, node_id: str) -> str:
    """The legacy results hash of a (round, component); its shards are this key + `:{customer >> SHARD_BITS}`."""
    return f"r:{record_id}:{node_id}"


def by_shard(ids: Iterable[int]) -> dict[int, list[int]]:
    """Customer ids grouped by results shard, each group in the order given."""
    groups: dict[int, list[int]] = {}
    for cid in ids:
        members = groups.get(cid >> SHARD_BITS)
        if members is None:
            members = groups[cid >> SHARD_BITS] = []
        members.append(cid)
    return groups


def send_status(value: str) -> str:
    """What the send itself answered, from a stored result (a receipt-settled one was accepted: pending)."""
    return "pending" if value.startswith(RECEIPT) else value


class RoundStore:
    def __init__(self, r: redis.Redis) -> None:
        self.r = r
        self._settle = r.register_script(_SETTLE)
        self._totals = r.register_script(_TOTALS)
        self._reserve = r.register_script(_RESERVE)
        self._begin = r.register_script(_BEGIN)

    # ---- batches
    def put_batch(self, record_id: int, batch: str, ids: list[int], pipe: Any = None) -> None:
        (pipe or self.r).set(f"b:{record_id}:{batch}", _ids_to_bytes(ids), ex=TTL)

    def get_batch(self, record_id: int, batch: str) -> list[int]:
        return _bytes_to_ids(cast(bytes | None, self.r.get(f"b:{record_id}:{batch}")))

    def add_pending(self, record_id: int, batches: list[str], pipe: Any = None) -> None:
        if batches:
            target = pipe or self.r
            target.sadd(f"pending:{record_id}", *batches)
            target.expire(f"pending:{record_id}", TTL)

    def is_pending(self, record_id: int, batch: str) -> bool:
        return bool(self.r.sismember(f"pending:{record_id}", batch))

    def done(self, record_id: int, batch: str) -> int:
        """Mark a batch done; returns how many batches are still pending (atomically with the removal)."""
        pipe = self.r.pipeline(transaction=True)
        pipe.srem(f"pending:{record_id}", batch)
        pipe.scard(f"pending:{record_id}")
        return int(pipe.execute()[1])

    def pending(self, record_id: int) -> int:
        return cast(int, self.r.scard(f"pending:{record_id}"))

    # ---- counters
    def count(self, record_id: int, node_id: str, batch: str, metrics: dict[str, int], pipe: Any = None) -> None:
        self.count_many(record_id, [(node_id, batch, metrics)], pipe)

    def count_many(self, record_id: int, entries: list[tuple[str, str, dict[str, int]]], pipe: Any = None) -> None:
        """Write (node, batch key, metrics) counters: one HSET per metric, one SADD for all their names."""
        target = pipe if pipe is not None else self.r.pipeline(transaction=False)
        names = []
        for node_id, batch, metrics in entries:
            for metric, value in metrics.items():
                key = f"c:{record_id}:{node_id}:{metric}"
                target.hset(key, batch, str(int(value)))  # what redis-py would send for the int
                target.expire(key, TTL)
                names.append(f"{node_id}:{metric}")
        if names:
            target.sadd(f"ck:{record_id}", *names)
            target.expire(f"ck:{record_id}", TTL)
            live.publish(target, record_id)
        if pipe is None:
            target.execute()

    def counters(self, record_id: int) -> dict[str, dict[str, int]]:
        """node → metric → total, read atomically (one Lua call: never half of a walk's or a receipt's write)."""
        flat = self._totals(keys=[f"ck:{record_id}"], args=[record_id])
        out: dict[str, dict[str, int]] = {}
        for i in range(0, len(flat), 2):
            node, metric = flat[i].decode().split(":", 1)  # node ids never contain ":" (message ids use it too)
            out.setdefault(node, {})[metric] = int(flat[i + 1])
        return out

    def counters_many(self, record_ids: list[int]) -> dict[int, dict[str, dict[str, int]]]:
        """`counters` of many rounds in one pipelined round trip (each round still read atomically by its Lua);
        rounds Redis holds nothing of are left out (the Reach Tasks list measures thousands at once)."""
        pipe = self.r.pipeline(transaction=False)
        for record_id in record_ids:
            self._totals(keys=[f"ck:{record_id}"], args=[record_id], client=pipe)
        out: dict[int, dict[str, dict[str, int]]] = {}
        for record_id, flat in zip(record_ids, pipe.execute(), strict=True):
            for i in range(0, len(flat), 2):
                node, metric = flat[i].decode().split(":", 1)
                out.setdefault(record_id, {}).setdefault(node, {})[metric] = int(flat[i + 1])
        return out

    # ---- send results (dedupe + Result Judgment)
    def raw_results(self, record_id: int, node_id: str, ids: list[int]) -> dict[int, str]:
        """Stored values as they are (sending, +success, ...): one HMGET per shard in one round trip (a second
        one only while the round still has a legacy results hash, for the customers its shards lack)."""
        if not ids:
            return {}
        legacy = results_key(record_id, node_id)
        groups = by_shard(ids)
        pipe = self.r.pipeline(transaction=False)
        pipe.exists(legacy)
        for shard, members in groups.items():
            pipe.hmget(f"{legacy}:{shard}", members)
        replies = pipe.execute()
        out: dict[int, str] = {}
        for members, values in zip(groups.values(), replies[1:], strict=True):
            out.update({cid: v.decode() for cid, v in zip(members, values, strict=True) if v is not None})
        if replies[0] and len(out) < len(ids):
            missing = [cid for cid in ids if cid not in out]
            values = cast(list[bytes | None], self.r.hmget(legacy, missing))
            out.update({cid: v.decode() for cid, v in zip(missing, values, strict=True) if v is not None})
        return out

    def results(self, record_id: int, node_id: str, ids: list[int]) -> dict[int, str]:
        """Each customer's result at a send component: success / failed / pending, the receipt's outcome once
        it came (what Result Judgment reads). A send still in the air has no result yet."""
        return {cid: v.removeprefix(RECEIPT) for cid, v in self.raw_results(record_id, node_id, ids).items()
                if v != SENDING}

    def set_results(self, record_id: int, node_id: str, results: dict[int, str]) -> None:
        """Write results as they are, uncounted (tests and tools: the engine settles through its scripts)."""
        if results:
            pipe = self.r.pipeline(transaction=False)
            for shard, members in by_shard(list(results)).items():
                key = f"{results_key(record_id, node_id)}:{shard}"
                pipe.hset(key, mapping={str(k): results[k] for k in members})
                pipe.expire(key, TTL)
            pipe.execute()

    def reserve(self, record_id: int, node_id: str, ids: list[int]) -> dict[int, str]:
        """Mark the customers without a result "sending" (one round trip); returns the stored values of the
        others (a previous attempt's results, or "sending" left by a worker that died mid-send)."""
        if not ids:
            return {}
        args: list[Any] = [TTL, record_id, node_id]
        order: list[int] = []
        for shard, members in by_shard(ids).items():
            args += [shard, len(members), *members]
            order += members
        before = self._reserve(args=args)
        return {cid: v.decode() for cid, v in zip(order, before, strict=True) if v}

    def settle_results(self, record_id: int, node_id: str, results: dict[int, str]) -> None:
        """Store send answers, except where a receipt already settled the customer, and count each newly
        settled customer (sent, success / failed / pending / stopped) in the same atomic step."""
        if results:
            self._settle_grouped(record_id, node_id, results)

    def settle_pairs(self, record_id: int, node_id: str, pairs: Iterable[tuple[int, str]]) -> None:
        """`settle_results` of (customer, status) pairs as given: a customer given twice counts once, with its
        first status (as a second answer after the first would find it settled)."""
        first: dict[int, str] = {}
        for cid, status in pairs:
            first.setdefault(cid, status)
        self._settle_grouped(record_id, node_id, first)

    def _settle_grouped(self, record_id: int, node_id: str, results: dict[int, str]) -> None:
        groups: dict[tuple[int, str], list[int]] = {}
        for cid, status in results.items():
            key = (cid >> SHARD_BITS, status)
            members = groups.get(key)
            if members is None:
                members = groups[key] = []
            members.append(cid)
        if groups:
            args: list[Any] = [TTL, record_id, node_id]
            for (shard, status), members in groups.items():
                args += [shard, status, len(members), *members]
            self._settle(args=args)

    # ---- trigger properties (Attribute Judgment)
    def trigger_props(self, record_id: int, ids: list[int]) -> dict[int, dict[str, Any]]:
        if not ids:
            return {}
        values = cast(list[bytes | None], self.r.hmget(f"tp:{record_id}", ids))
        return {cid: json.loads(v) for cid, v in zip(ids, values, strict=True) if v is not None}

    # ---- waits
    def park(self, record_id: int, node_id: str, batch: str, wake_ts: float, pipe: Any = None) -> None:
        member = json.dumps({"record": record_id, "node": node_id, "batch": batch})
        (pipe if pipe is not None else self.r).zadd("waits", {member: wake_ts})

    def due_waits(self, now_ts: float, limit: int = 500) -> list[tuple[str, dict[str, Any]]]:
        upper = "+inf" if now_ts == float("inf") else now_ts
        raw = cast(list[bytes], self.r.zrangebyscore("waits", "-inf", upper, start=0, num=limit))
        return [(m.decode(), json.loads(m)) for m in raw]

    def unpark(self, member: str) -> None:
        self.r.zrem("waits", member)

    # ---- failures
    def fail(self, record_id: int, node_id: str, reason: str) -> None:
        self.r.hset(f"failed:{record_id}", node_id, reason[:200])
        self.r.expire(f"failed:{record_id}", TTL)

    def failures(self, record_id: int) -> dict[str, str]:
        failed = cast(dict[bytes, bytes], self.r.hgetall(f"failed:{record_id}"))
        return {k.decode(): v.decode() for k, v in failed.items()}

    # ---- stop flag (a stopped round routes nobody further)
    def stop(self, record_id: int) -> None:
        self.r.set(f"stopped:{record_id}", 1, ex=TTL)

    def is_stopped(self, record_id: int) -> bool:
        return bool(self.r.exists(f"stopped:{record_id}"))

    # ---- claims (one worker at a time per batch)
    def release(self, record_id: int, batch: str, pipe: Any = None) -> None:
        claims.release(self.r, f"claim:{record_id}:{batch}", pipe)

    def begin(self, record_id: int, batch: str) -> tuple[str, Any]:
        """Start walking a batch, in one round trip: ("stopped", None) for a stopped round, ("done", pending
        count) for a batch no longer pending, ("busy", None) when another worker holds its claim, else
        ("go", member ids) with the claim now held by this process."""
        key = f"claim:{record_id}:{batch}"
        ttl = claims.ttl_ms
        answer = self._begin(keys=[f"stopped:{record_id}", f"pending:{record_id}", key, f"b:{record_id}:{batch}"],
                             args=[batch, claims.token_now(), ttl])
        state = answer[0].decode() if isinstance(answer[0], bytes) else str(answer[0])
        if state == "go":
            claims.adopt(self.r, key, ttl)
            return state, _bytes_to_ids(answer[1] or None)
        return state, (int(answer[1]) if state == "done" else None)


class Claims:
    """Claims held by this process, kept alive by a thread: a batch is worked on by one worker at a time, so a
    redelivered message (a worker thought dead, a retry) never sends alongside the original. The claim of a
    process that dies expires after `ttl_ms` and the redelivered message takes over.

    Each held claim is a redis-py `Lock` carrying this thread's token: its keep-alive is `Lock.reacquire`, one
    Lua call that resets the TTL only while the key still holds that token. A claim that lapsed (Redis stalled,
    the process froze) and was taken by another worker is dropped here, never extended: the new owner keeps it.
    """

    def __init__(self) -> None:
        self.token = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.held: dict[str, Lock] = {}
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None
        self.pid = os.getpid()

    @property
    def ttl_ms(self) -> int:
        return max(1000, get_settings().engine_claim_ttl_ms)

    def _ensure_thread(self) -> None:  # called with self.lock held
        if self.pid != os.getpid():  # forked: a fresh identity and thread
            self.token = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
            self.held, self.pid, self.thread = {}, os.getpid(), None
        if self.thread is None or not self.thread.is_alive():
            self.thread = threading.Thread(target=self._refresh, name="claims", daemon=True)
            self.thread.start()

    def token_now(self) -> str:
        """This process's and thread's claim token."""
        with self.lock:
            self._ensure_thread()
            return f"{self.token}:{threading.get_ident()}"

    def adopt(self, r: redis.Redis, key: str, ttl_ms: int) -> None:
        """A claim taken by a script with `token_now()`: keep it alive from now on."""
        claim = Lock(r, key, timeout=ttl_ms / 1000, thread_local=False)  # the keep-alive thread uses its token
        claim.local.token = self.token_now().encode()
        with self.lock:
            self.held[key] = claim

    def release(self, r: redis.Redis, key: str, pipe: Any = None) -> None:
        """Delete the claim if it still holds this thread's token (inside the walk's final MULTI when given)."""
        mine = self.token_now().encode()
        with self.lock:
            claim = self.held.pop(key, None)
        token = claim.local.token if claim is not None and claim.local.token else mine
        (pipe if pipe is not None else r).eval(_RELEASE, 1, key, token)

    def refresh_once(self) -> list[str]:
        """Reset the TTL of every claim still owned; returns the keys found lost (and forgotten)."""
        with self.lock:
            held = list(self.held.items())
        lost = []
        for key, claim in held:
            try:
                claim.reacquire()
            except LockNotOwnedError:
                lost.append(key)
                with self.lock:
                    if self.held.get(key) is claim:
                        del self.held[key]
            except redis.RedisError:
                pass  # Redis away: the claim may lapse; the worker's own retry re-claims
        if lost:
            log.warning("batch claims lost to another worker (not extended): %s", ", ".join(lost))
        return lost

    def _refresh(self) -> None:
        """Every third of the shortest TTL held, extend the claims (never reads settings: the TTL came with
        each claim)."""
        while True:
            with self.lock:
                shortest = min((claim.timeout or 3.0 for claim in self.held.values()), default=3.0)
            time.sleep(shortest / 3)
            self.refresh_once()


claims = Claims()
