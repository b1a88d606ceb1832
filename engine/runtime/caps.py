"""Frequency caps at send time (issue 16): before a touch hands a batch to its channel, each customer's messages of
the last days are counted against the workspace's rules, atomically across every worker process, and the slots
of the customers who will be sent are taken in the same step.

- One Lua call per batch per touch (one Redis round trip): the customers' history keys are read with one MGET per
  1,000 and each allowed customer's key is written with one SET. A history is a short string of entries
  "ts,channel,tag;" (tag = record:node, the send's dedupe key without the customer), trimmed to the longest
  window and expiring with it: one key per customer and workspace, tens of bytes of value.
- Exactly once: a customer whose history already holds this (record, node) took its slot in an earlier attempt
  (a redelivered walk, a worker killed mid-send) and goes through without a second count; a capped customer's
  result "capped" is stored with `settle_results` (which counts it once, the result being the guard), so a
  retried batch finds it and never checks again.
- Capped is not sent: it is its own counter beside success / failed / pending / stopped, outside "sent".
- A slot taken for a message that never left (the round was stopped before its request) is given back.
- Test rounds and transactional (exempt) activities are neither checked nor counted: a tester's messages and an
  order confirmation are not marketing pressure.
- Rules and exemptions are cached per process for RULES_TTL seconds: an edit applies to the next batches.
"""

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

import redis
from redis.commands.core import Script
from sqlmodel import Session, col, select

from engine import clock
from engine.channels.base import Message, SendResult, SendStatus
from engine.db import forget_with_engine
from engine.models import Activity, ExecutionRecord
from engine.models.frequency_cap import ANY_CHANNEL, FrequencyCap
from engine.runtime.store import RoundStore
from engine.shared.frequency_caps import describe, touch_channels

CAPPED = SendStatus.CAPPED.value
RULES_TTL = 5.0
DAY = 86400

# KEYS: the customers' history keys. ARGV: now, tag, channel, key ttl, horizon (the longest window, seconds), then
# per rule of this channel: channel, max, window seconds. Returns per key 0 (allowed: its slot is taken, or was
# taken by an earlier attempt of the same send) or the 1-based index of the first rule it would exceed.
_SCREEN = """
local now = tonumber(ARGV[1])
local tag, ch, ttl = ARGV[2], ARGV[3], tonumber(ARGV[4])
local horizon = now - tonumber(ARGV[5])
local rules = {}
for i = 6, #ARGV, 3 do rules[#rules + 1] = {ARGV[i], tonumber(ARGV[i + 1]), now - tonumber(ARGV[i + 2])} end
local out = {}
for first = 1, #KEYS, 1000 do
  local last = math.min(first + 999, #KEYS)
  local values = redis.call('MGET', unpack(KEYS, first, last))
  for j = 1, last - first + 1 do
    local value = values[j]
    local kept = {}
    local mine = false
    if value then
      for ts, c, t in string.gmatch(value, '([^,;]+),([^,;]+),([^,;]+);') do
        local at = tonumber(ts)
        if at > horizon then
          kept[#kept + 1] = {at, c, t}
          if t == tag then mine = true end
        end
      end
    end
    local verdict = 0
    if not mine then
      for r = 1, #rules do
        local rule = rules[r]
        local n = 0
        for _, e in ipairs(kept) do
          if e[1] > rule[3] and (rule[1] == 'any' or e[2] == rule[1]) then n = n + 1 end
        end
        if n >= rule[2] then
          verdict = r
          break
        end
      end
      if verdict == 0 then
        local parts = {}
        for _, e in ipairs(kept) do parts[#parts + 1] = e[1] .. ',' .. e[2] .. ',' .. e[3] .. ';' end
        parts[#parts + 1] = ARGV[1] .. ',' .. ch .. ',' .. tag .. ';'
        redis.call('SET', KEYS[first + j - 1], table.concat(parts), 'EX', ttl)
      end
    end
    out[#out + 1] = verdict
  end
end
return out
"""

# Give back the slots of a send that never left: remove the entries of `tag` (ARGV[1]) from each history.
_RELEASE = """
for _, key in ipairs(KEYS) do
  local value = redis.call('GET', key)
  if value then
    local parts = {}
    for entry, t in string.gmatch(value, '([^;]*,([^,;]+);)') do
      if t ~= ARGV[1] then parts[#parts + 1] = entry end
    end
    if #parts == 0 then redis.call('DEL', key) else redis.call('SET', key, table.concat(parts), 'KEEPTTL') end
  end
end
return 1
"""


@dataclass(frozen=True)
class Rule:
    channel: str  # a touch type or ANY_CHANNEL
    max_messages: int
    window_days: int

    @property
    def reason(self) -> str:
        return "Frequency cap: " + describe(self.channel, self.max_messages, self.window_days)

    def applies_to(self, channel: str) -> bool:
        return self.channel in (ANY_CHANNEL, channel)


class SendingPorts(Protocol):
    """What `screen` reads of engine.runtime.ports.RuntimePorts (no import: ports imports this module)."""

    session: Session
    store: RoundStore
    workspace_id: int
    test: bool


_cache: dict[tuple[str, int], tuple[float, Any]] = {}
_scripts: dict[str, Script] = {}


def _run(r: redis.Redis, source: str, keys: list[str], args: list[Any]) -> Any:
    """EVALSHA (the script's text travels once per Redis, not with every batch)."""
    script = _scripts.get(source)
    if script is None:
        script = _scripts[source] = r.register_script(source)
    return script(keys=keys, args=args, client=r)


def forget() -> None:
    """Drop the cached rules and exemptions (tests that edit rules mid-run)."""
    _cache.clear()


forget_with_engine(forget)


def _cached(kind: str, key: int, load: Any) -> Any:
    hit = _cache.get((kind, key))
    now = time.monotonic()
    if hit is not None and hit[0] > now:
        return hit[1]
    value = load()
    _cache[(kind, key)] = (now + RULES_TTL, value)
    return value


def rules_of(session: Session, workspace_id: int) -> tuple[Rule, ...]:
    rules: tuple[Rule, ...] = _cached("rules", workspace_id, lambda: tuple(
        Rule(c, m, d) for c, m, d in session.exec(
            select(FrequencyCap.channel, FrequencyCap.max_messages, FrequencyCap.window_days)
            .where(FrequencyCap.workspace_id == workspace_id).order_by(col(FrequencyCap.id))).all()))
    return rules


def is_exempt(session: Session, record_id: int) -> bool:
    return bool(_cached("exempt", record_id, lambda: session.exec(
        select(Activity.cap_exempt).join(ExecutionRecord, col(ExecutionRecord.activity_id) == Activity.id)
        .where(ExecutionRecord.id == record_id)).first()))


def history_key(workspace_id: int, customer_id: int) -> str:
    return f"fc:{workspace_id}:{customer_id}"


def send_tag(record_id: int, node_id: str) -> str:
    return f"{record_id}:{node_id}".replace(",", "_").replace(";", "_")


def check(r: redis.Redis, *, workspace_id: int, record_id: int, node_id: str, channel: str,
          customer_ids: list[int], rules: Iterable[Rule], at: float) -> dict[int, Rule]:
    """Take a slot for every customer under all the rules (one round trip); returns the others → the rule each
    would exceed. `rules` are the workspace's (the longest window of any rule bounds the history kept)."""
    every = list(rules)
    mine = [rule for rule in every if rule.applies_to(channel)]
    if not mine or not customer_ids:
        return {}
    horizon = max(rule.window_days for rule in every) * DAY
    args: list[Any] = [int(at), send_tag(record_id, node_id), channel, horizon, horizon]
    for rule in mine:
        args += [rule.channel, rule.max_messages, rule.window_days * DAY]
    verdicts = _run(r, _SCREEN, [history_key(workspace_id, c) for c in customer_ids], args)
    return {cid: mine[int(v) - 1] for cid, v in zip(customer_ids, verdicts, strict=True) if int(v)}


def release(r: redis.Redis, *, workspace_id: int, record_id: int, node_id: str, customer_ids: list[int]) -> None:
    if customer_ids:
        _run(r, _RELEASE, [history_key(workspace_id, c) for c in customer_ids], [send_tag(record_id, node_id)])


def screen(ports: SendingPorts, todo: list[Message], unsure: list[Message]) -> list[SendResult]:
    """ports.send's hook, before any channel is called: removes the capped customers from `todo` and `unsure`
    (in place), stores and counts their result "capped" and returns it, with the reason naming the rule."""
    messages = todo + unsure
    if ports.test or not messages:
        return []
    rules = rules_of(ports.session, ports.workspace_id)
    first = messages[0]
    if not rules or is_exempt(ports.session, first.record_id):
        return []
    capped: dict[int, Rule] = {}
    touches = touch_channels()
    for channel in {m.channel for m in messages} & touches.keys():
        capped |= check(ports.store.r, workspace_id=ports.workspace_id, record_id=first.record_id,
                        node_id=first.node_id, channel=channel,
                        customer_ids=[m.customer_id for m in messages if m.channel == channel], rules=rules,
                        at=clock.now().timestamp())
    if not capped:
        return []
    todo[:] = [m for m in todo if m.customer_id not in capped]
    unsure[:] = [m for m in unsure if m.customer_id not in capped]
    ports.store.settle_results(first.record_id, first.node_id, dict.fromkeys(capped, CAPPED))
    return [SendResult(cid, SendStatus.CAPPED, reason=rule.reason) for cid, rule in capped.items()]


def give_back(ports: SendingPorts, results: list[SendResult], record_id: int, node_id: str) -> None:
    """ports.send's hook after the channels answered: the slots of messages stopped before they left are freed
    (a cap counts messages sent). Costs nothing unless a round was stopped mid-batch."""
    if ports.test or not rules_of(ports.session, ports.workspace_id):
        return  # no cap, no slot taken (checked first: the scan below is per message)
    stopped = [r.customer_id for r in results if r.status == SendStatus.STOPPED]
    if stopped:
        release(ports.store.r, workspace_id=ports.workspace_id, record_id=record_id, node_id=node_id,
                customer_ids=stopped)
