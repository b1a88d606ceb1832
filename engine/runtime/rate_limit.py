"""Send-rate limits shared by every worker process: a budget per calendar minute of the engine clock, in Redis.

A limit has a scope (`a{activity}` for an activity's own, `c{workspace}:{channel}` for a workspace's channel)
and a number of messages per minute; `rl:{scope}:{minute}` counts what was handed out for that minute. When a
walk reaches a rate-limited touch with n customers, one Lua call reserves their slots: as many as every scope
still allows this minute, the rest in the following minutes, in order (the stricter scope wins each minute).
The customers of a later minute are parked at the touch until it begins and then send without asking again —
so a large round paces itself with one round trip per batch, not a herd of batches retrying every minute.

The reservation is remembered per (record, node, batch, n) for a day: a redelivered walk gets the same slots
instead of taking more. `pace:{record}` keeps, per node, the last minute reserved: the expected finish.
"""

from typing import Any, cast

import redis

TTL = 24 * 3600
MAX_MINUTES = 500_000  # a reservation never looks further ahead (about a year): a guard, not a rule

# KEYS: 1 = the reservation's memo, 2 = the record's last-minute hash. ARGV: n, minute, ttl, node, then
# (scope, limit) pairs. Returns "minute:count,minute:count,...".
_RESERVE = """
local memo = redis.call('GET', KEYS[1])
if memo then return memo end
local n, minute, ttl = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local out, last, guard = {}, minute, 0
while n > 0 and guard < GUARD do
  local free = n
  for i = 5, #ARGV, 2 do
    local used = tonumber(redis.call('GET', 'rl:' .. ARGV[i] .. ':' .. minute) or '0')
    local avail = tonumber(ARGV[i + 1]) - used
    if avail < free then free = avail end
  end
  if free > 0 then
    for i = 5, #ARGV, 2 do
      local key = 'rl:' .. ARGV[i] .. ':' .. minute
      redis.call('INCRBY', key, free)
      redis.call('EXPIRE', key, ttl)
    end
    out[#out + 1] = minute .. ':' .. free
    n = n - free
    last = minute
  end
  minute = minute + 1
  guard = guard + 1
end
local answer = table.concat(out, ',')
redis.call('SET', KEYS[1], answer, 'EX', ttl)
local before = tonumber(redis.call('HGET', KEYS[2], ARGV[4]) or '0')
if last > before then redis.call('HSET', KEYS[2], ARGV[4], last) end
redis.call('EXPIRE', KEYS[2], ttl)
return answer
""".replace("GUARD", str(MAX_MINUTES))


class RateLimiter:
    def __init__(self, r: redis.Redis) -> None:
        self.r = r
        self._reserve = r.register_script(_RESERVE)

    def reserve(self, *, record_id: int, node_id: str, batch: str, n: int, minute: int,
                limits: list[tuple[str, int]]) -> list[tuple[int, int]]:
        """Slots for n messages from `minute` on under every (scope, per-minute) limit: [(minute, count)]."""
        if n <= 0:
            return []
        args: list[Any] = [n, minute, TTL, node_id]
        for scope, per_minute in limits:
            args += [scope, per_minute]
        raw = self._reserve(keys=[f"rlr:{record_id}:{node_id}:{batch}:{n}", f"pace:{record_id}"], args=args)
        text = raw.decode() if isinstance(raw, bytes) else str(raw)
        slots = []
        for part in filter(None, text.split(",")):
            m, _, count = part.partition(":")
            slots.append((int(m), int(count)))
        return slots

    def last_minutes(self, record_id: int) -> dict[str, int]:
        """node → the last minute reserved for it in this round (its expected finish is that minute's end)."""
        raw = cast(dict[bytes, bytes], self.r.hgetall(f"pace:{record_id}"))
        return {k.decode(): int(v) for k, v in raw.items()}
