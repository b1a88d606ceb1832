"""The simulator's state and decisions, free of HTTP: configuration, outcome per message id, the record of
every message received, and the queue of receipts waiting for their time."""

import hashlib
import heapq
import itertools
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from typing import Any

from engine.channels.provider import PROVIDER_CHANNELS
from engine.settings import Settings, get_settings

FAILURE_REASONS = ("number does not exist", "handset unreachable", "blocked by carrier", "recipient opted out")
REJECT_REASONS = ("invalid recipient", "content rejected by provider")

RATE_FIELDS = ("success_rate", "failure_rate", "reject_rate")


@dataclass
class SimConfig:
    success_rate: float = 0.90  # accepted, receipt "delivered"
    failure_rate: float = 0.05  # accepted, receipt "failed"
    reject_rate: float = 0.0  # refused in the send response; whatever remains gets no receipt at all
    receipt_delay: float = 2.0  # seconds between accepting and POSTing the receipt
    seed: str = "sim"
    callback_url: str = "http://127.0.0.1:8100/api/v1/receipts"
    callback_token: str = ""
    keep_bodies: int = 100_000
    sync_delivered: bool = False  # answer "delivered" in the send response instead of sending a receipt
    # fault injection for tests: answer send requests with 503, or slowly (client timeouts)
    outage: bool = False  # every send request → 503
    fail_next: int = 0  # the next N send requests → 503
    error_rate: float = 0.0  # this fraction of send requests → 503 (decided by a hash of the request number)
    response_delay: float = 0.0  # seconds to wait before answering a send (after recording it)
    receipt_batch_size: int = 1000  # the API takes up to API_MAX_BATCH (1,000) a request: fewer, larger POSTs
    receipt_attempts: int = 3

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> "SimConfig":
        s = settings or get_settings()
        return cls(success_rate=s.simulator_success_rate, failure_rate=s.simulator_failure_rate,
                   reject_rate=s.simulator_reject_rate, receipt_delay=s.simulator_receipt_delay,
                   seed=s.simulator_seed, callback_url=s.receipt_callback_url,
                   callback_token=s.receipt_callback_token, keep_bodies=s.simulator_keep_bodies)

    def validate(self) -> None:
        for name in (*RATE_FIELDS, "error_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {value}")
        if sum(getattr(self, name) for name in RATE_FIELDS) > 1.0 + 1e-9:
            raise ValueError("success_rate + failure_rate + reject_rate must not exceed 1")
        if self.receipt_delay < 0 or self.response_delay < 0:
            raise ValueError("delays must not be negative")
        if self.receipt_batch_size < 1 or self.receipt_attempts < 1:
            raise ValueError("receipt_batch_size and receipt_attempts must be at least 1")

    def updated(self, changes: dict[str, Any]) -> "SimConfig":
        known = {f.name: f.type for f in fields(self)}
        unknown = sorted(set(changes) - set(known))
        if unknown:
            raise ValueError(f"unknown setting(s): {', '.join(unknown)}")
        current = asdict(self)
        for name, value in changes.items():
            kind = type(current[name])
            if kind is bool and not isinstance(value, bool):
                raise ValueError(f"{name} must be true or false")
            try:
                current[name] = kind(value)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"{name}: {exc}") from exc
        new = SimConfig(**current)
        new.validate()
        return new


def _digest(seed: str, key: str) -> bytes:
    return hashlib.blake2b(f"{seed}:{key}".encode(), digest_size=8).digest()


def unit_hash(seed: str, key: str) -> float:
    """A stable number in [0, 1) for (seed, key)."""
    return int.from_bytes(_digest(seed, key), "big") / 2**64


def outcome_of(config: SimConfig, message_id: str) -> str:
    """rejected / delivered / failed / no_receipt, decided by the message id alone (given the rates)."""
    return _outcome(config, unit_hash(config.seed, message_id))


def _outcome(config: SimConfig, u: float) -> str:
    edge = config.reject_rate
    if u < edge:
        return "rejected"
    edge += config.success_rate
    if u < edge:
        return "delivered"
    edge += config.failure_rate
    if u < edge:
        return "failed"
    return "no_receipt"


def provider_id_of(message_id: str, seed: str = "sim") -> str:
    """The provider's id of a message: the same hash that decides its outcome (one hash per message)."""
    return "sim-" + _digest(seed, message_id).hex()


class Rec:
    """What the simulator remembers of one message id (small: a million of them fit in memory)."""

    __slots__ = ("channel", "customer_id", "count", "outcome", "received_at", "to", "body")

    def __init__(self, channel: str, customer_id: Any, outcome: str, received_at: float) -> None:
        self.channel = channel
        self.customer_id = customer_id
        self.count = 1
        self.outcome = outcome
        self.received_at = received_at
        self.to: str | None = None
        self.body: str | None = None

    def public(self, message_id: str) -> dict[str, Any]:
        return {"id": message_id, "channel": self.channel, "customer_id": self.customer_id, "count": self.count,
                "outcome": self.outcome, "received_at": self.received_at, "to": self.to, "body": self.body}


class Simulator:
    """All state, guarded by one lock (the HTTP app runs on one event loop, tests read from other threads)."""

    def __init__(self, config: SimConfig | None = None, kafka_bootstrap_servers: str | None = None) -> None:
        self.config = config or SimConfig.from_settings()
        self.config.validate()
        self.kafka_bootstrap_servers = kafka_bootstrap_servers
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.records: dict[str, Rec] = {}
            self.kept_bodies = 0
            # (due, seq, url, receipt): with one receipt delay the due times only grow, so the queue is a deque
            # (O(1) each way); one due earlier than the last queued (the delay was lowered) goes to a heap
            self.receipts: deque[tuple[float, int, str, dict[str, Any]]] = deque()
            self._early: list[tuple[float, int, str, dict[str, Any]]] = []
            self._seq = itertools.count()
            self.request_no = 0
            self.stats: dict[str, int] = dict.fromkeys(
                ("requests", "requests_refused", "messages", "unique", "duplicates", "rejected", "delivered",
                 "failed", "no_receipt", "duplicate_ids", "receipts_scheduled", "receipts_sent", "receipts_failed",
                 "receipt_posts", "receipt_post_errors", "lookups"), 0)
            self.by_channel: dict[str, int] = dict.fromkeys(PROVIDER_CHANNELS, 0)

    def configure(self, changes: dict[str, Any]) -> SimConfig:
        with self.lock:
            self.config = self.config.updated(changes)
            return self.config

    # -- the send endpoint's work ------------------------------------------------------------------------
    def refuse_request(self) -> bool:
        """Fault injection: should this send request be answered 503?"""
        with self.lock:
            self.request_no += 1
            self.stats["requests"] += 1
            c = self.config
            refuse = c.outage or c.fail_next > 0 or (
                c.error_rate > 0 and unit_hash(c.seed, f"request:{self.request_no}") < c.error_rate)
            if c.fail_next > 0:
                c.fail_next -= 1
            if refuse:
                self.stats["requests_refused"] += 1
            return refuse

    def receive(self, channel: str, messages: list[dict[str, Any]], callback_url: str | None) -> list[dict[str, Any]]:
        """Record a request's messages and answer each (accepted / delivered / rejected). One hash per message
        decides its outcome and names it (the simulator's CPU is part of every benchmark's budget)."""
        now = time.time()
        answers = []
        counts: dict[str, int] = dict.fromkeys(("duplicates", "duplicate_ids", "receipts_scheduled"), 0)
        outcomes: dict[str, int] = {}
        with self.lock:
            c = self.config
            url = callback_url or c.callback_url
            seed = c.seed
            records = self.records
            receipts, early, seq = self.receipts, self._early, self._seq
            due = now + c.receipt_delay
            sync = c.sync_delivered
            keep = c.keep_bodies
            for item in messages:
                message_id = str(item["id"])
                digest = _digest(seed, message_id)
                provider_id = "sim-" + digest.hex()
                rec = records.get(message_id)
                if rec is not None:  # a resend (retry): counted apart, answered as before, not delivered again
                    rec.count += 1
                    counts["duplicates"] += 1
                    if rec.count == 2:
                        counts["duplicate_ids"] += 1
                    answers.append(self._answer(message_id, provider_id, rec.outcome))
                    continue
                outcome = _outcome(c, int.from_bytes(digest, "big") / 2**64)
                rec = records[message_id] = Rec(channel, item.get("customer_id"), outcome, now)
                if self.kept_bodies < keep:
                    to, body = item.get("to"), item.get("body")
                    rec.to = None if to is None else str(to)
                    rec.body = None if body is None else str(body)
                    self.kept_bodies += 1
                outcomes[outcome] = outcomes.get(outcome, 0) + 1
                if outcome == "failed" or (outcome == "delivered" and not sync):
                    receipt = {"id": message_id, "provider_id": provider_id, "channel": channel,
                               "customer_id": rec.customer_id, "status": outcome,
                               "reason": self._reason(message_id, FAILURE_REASONS) if outcome == "failed" else None}
                    entry = (due, next(seq), url, receipt)
                    if not receipts or due >= receipts[-1][0]:
                        receipts.append(entry)
                    else:
                        heapq.heappush(early, entry)
                    counts["receipts_scheduled"] += 1
                answers.append(self._answer(message_id, provider_id, outcome))
            counts["messages"] = len(messages)
            counts["unique"] = sum(outcomes.values())
            stats = self.stats
            for name, n in (*counts.items(), *outcomes.items()):
                stats[name] += n
            self.by_channel[channel] = self.by_channel.get(channel, 0) + counts["unique"]
        return answers

    def lookup(self, message_ids: list[str]) -> list[dict[str, Any]]:
        """The send answers of the ids it received (unknown ids left out); not counted as messages."""
        with self.lock:
            self.stats["lookups"] += 1
            return [self._answer(mid, provider_id_of(mid, self.config.seed), rec.outcome) for mid in message_ids
                    if (rec := self.records.get(mid)) is not None]

    def _reason(self, message_id: str, reasons: tuple[str, ...]) -> str:
        return reasons[int(unit_hash(self.config.seed + ":reason", message_id) * len(reasons))]

    def _answer(self, message_id: str, provider_id: str, outcome: str) -> dict[str, Any]:
        if outcome == "rejected":
            return {"id": message_id, "provider_id": provider_id, "status": "rejected",
                    "reason": self._reason(message_id, REJECT_REASONS)}
        if outcome == "delivered" and self.config.sync_delivered:
            return {"id": message_id, "provider_id": provider_id, "status": "delivered"}
        return {"id": message_id, "provider_id": provider_id, "status": "accepted"}

    # -- receipts ------------------------------------------------------------------------------------------
    def due_receipts(self, now: float | None = None) -> dict[str, list[dict[str, Any]]]:
        """Pop the receipts whose time has come, grouped by callback URL, stamped with the time sent."""
        now = time.time() if now is None else now
        due: dict[str, list[dict[str, Any]]] = {}
        with self.lock:
            queue, early = self.receipts, self._early
            while queue and queue[0][0] <= now:
                _, _, url, receipt = queue.popleft()
                due.setdefault(url, []).append(receipt)
            while early and early[0][0] <= now:
                _, _, url, receipt = heapq.heappop(early)
                due.setdefault(url, []).append(receipt)
        stamp = datetime.now(UTC).isoformat()
        for receipts in due.values():
            for receipt in receipts:
                receipt["at"] = stamp
        return due

    def count(self, name: str, n: int = 1) -> None:
        with self.lock:
            self.stats[name] += n

    # -- inspection ------------------------------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {**self.stats, "receipts_pending": len(self.receipts) + len(self._early),
                    "by_channel": dict(self.by_channel)}

    def messages(self, *, channel: str | None = None, message_id: str | None = None, prefix: str | None = None,
                 duplicates: bool = False, limit: int = 100, offset: int = 0) -> dict[str, Any]:
        with self.lock:
            if message_id is not None:
                rec = self.records.get(message_id)
                found = [rec.public(message_id)] if rec else []
                return {"total": len(found), "messages": found}
            selected = [
                (mid, rec) for mid, rec in self.records.items()
                if (channel is None or rec.channel == channel) and (prefix is None or mid.startswith(prefix))
                and (not duplicates or rec.count > 1)
            ]
            page = selected[offset:offset + limit]
            return {"total": len(selected), "messages": [rec.public(mid) for mid, rec in page]}
