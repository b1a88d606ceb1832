"""A small in-memory implementation of the `Ports` protocol (plain dicts), so executors run for real without a
database or broker. The runtime's DB/Redis-backed Ports is tested with the runtime."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from engine.channels.base import Message, SendResult, SendStatus
from engine.components.base import Batch, CustomerView
from engine.components.conditions import matches_where
from engine.components.text_sms import short_code

NOW = datetime(2026, 3, 10, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai, 00:00 (midnight) in New York (EDT)


@dataclass
class Event:
    customer_id: int
    name: str
    at: datetime
    properties: dict[str, Any]


class MemoryPorts:
    def __init__(self, now: datetime = NOW) -> None:
        self.clock = now
        self.events: list[Event] = []
        self.audiences: dict[int, set[int]] = {}
        self.results: dict[tuple[int, str], dict[int, str]] = {}
        self.tags: dict[int, dict[str, str]] = defaultdict(dict)
        self.generated: dict[tuple[int, str], tuple[int, str, set[int]]] = {}
        self.sent: list[Message] = []
        self.send_calls = 0
        self.sent_results: dict[str, SendResult] = {}
        self.fail: dict[int, str] = {}  # customer id -> provider failure reason
        self.pending: set[int] = set()  # customer ids whose receipt has not come back
        self.links: dict[str, tuple[int, str, int, str]] = {}
        self.event_queries: list[dict[str, Any]] = []
        self.winners: dict[tuple[int, str], str] = {}  # (record, AB Test node) → the picked group's branch

    # --- test set-up helpers ---
    def add_event(self, customer_id: int, name: str, at: datetime, **properties: Any) -> None:
        self.events.append(Event(customer_id, name, at, properties))

    # --- the Ports protocol ---
    def now(self) -> datetime:
        return self.clock

    def ab_winner(self, record_id: int, node_id: str) -> str | None:
        return self.winners.get((record_id, node_id))

    def event_counts(self, customer_ids: list[int], name: str, since: datetime, until: datetime,
                     where: dict[str, Any] | None = None) -> dict[int, int]:
        self.event_queries.append({"ids": list(customer_ids), "name": name, "since": since, "until": until,
                                   "where": where})
        wanted = set(customer_ids)
        counts: dict[int, int] = defaultdict(int)
        for e in self.events:
            if (e.customer_id in wanted and e.name == name and since <= e.at <= until
                    and matches_where(e.properties, where)):
                counts[e.customer_id] += 1
        return dict(counts)

    def audience_members(self, audience_id: int, customer_ids: list[int]) -> set[int]:
        return self.audiences.get(audience_id, set()) & set(customer_ids)

    def previous_results(self, record_id: int, node_id: str, customer_ids: list[int]) -> dict[int, str]:
        found = self.results.get((record_id, node_id), {})
        return {cid: found[cid] for cid in customer_ids if cid in found}

    def set_tag(self, customer_ids: list[int], tag: str, value: str) -> None:
        for cid in customer_ids:
            self.tags[cid][tag] = value

    def add_to_audience(self, *, record_id: int, node_id: str, name: str, customer_ids: list[int]) -> int:
        key = (record_id, node_id)
        if key not in self.generated:
            self.generated[key] = (1000 + len(self.generated), name, set())
        audience_id, _, members = self.generated[key]
        members.update(customer_ids)
        return audience_id

    def send(self, messages: list[Message]) -> list[SendResult]:
        self.send_calls += 1
        out = []
        for m in messages:
            if m.dedupe_key not in self.sent_results:
                self.sent.append(m)
                if m.customer_id in self.fail:
                    result = SendResult(m.customer_id, SendStatus.FAILED, self.fail[m.customer_id])
                elif m.customer_id in self.pending:
                    result = SendResult(m.customer_id, SendStatus.PENDING)
                else:
                    result = SendResult(m.customer_id, SendStatus.SUCCESS, provider_message_id=m.dedupe_key)
                self.sent_results[m.dedupe_key] = result
            out.append(self.sent_results[m.dedupe_key])
        return out

    def short_links(self, *, record_id: int, node_id: str, url: str, customer_ids: list[int]) -> dict[int, str]:
        out = {}
        for cid in customer_ids:
            code = short_code(record_id, node_id, cid)
            self.links[code] = (record_id, node_id, cid, url)
            out[cid] = f"https://s.test/{code}"
        return out


def customer(cid: int, **fields: Any) -> CustomerView:
    defaults: dict[str, Any] = {"qaid": f"QA{cid:06d}", "name": f"Customer {cid}", "phone": f"+86138{cid:08d}",
                                "email": f"c{cid}@example.com", "wechat_openid": f"o{cid}", "push_token": f"t{cid}"}
    defaults.update(fields)
    return CustomerView(id=cid, **defaults)


def make_batch(customers: list[CustomerView], *, record_id: int = 7, node_id: str = "n2",
               trigger_props: dict[int, dict[str, Any]] | None = None) -> Batch:
    return Batch(record_id=record_id, node_id=node_id, key=f"{record_id}:{node_id}:0", customers=customers,
                 trigger_props=trigger_props or {})


@pytest.fixture
def ports() -> MemoryPorts:
    return MemoryPorts()
