"""The real Ports: the database, Redis and the channel adapters, as the executors see them."""

from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, func, select

from engine import clock
from engine.channels.base import Message, SendResult, SendStatus
from engine.channels.registry import channel_for
from engine.channels.wire import dumps
from engine.components.conditions import matches_where
from engine.components.text_sms import short_code
from engine.models import Audience, AudienceKind, AudienceMember, BehaviorEvent, CustomerTag, row_id, table_of
from engine.runtime import ab_winner, caps
from engine.runtime.sql import insert_ignore, upsert
from engine.runtime.store import SENDING, RoundStore, send_status
from engine.settings import get_settings
from engine.shared.audiences import CrowdDataError, members_among

SHORT_LINKS_KEY = "shortlinks"
_TAGS = table_of(CustomerTag)
_MEMBERS = table_of(AudienceMember)


class RuntimePorts:
    """Reads go through `session` (a read transaction); writes are buffered and applied by `apply` in the
    step's short write transaction, so no worker holds the database write lock while it talks to a provider."""

    def __init__(self, session: Session, store: RoundStore, workspace_id: int, *, test: bool = False) -> None:
        self.session = session
        self.store = store
        self.workspace_id = workspace_id
        self.test = test  # a test round (seed 004): every message says so
        self._writes: list[Callable[[Session], None]] = []

    def discard(self) -> None:
        self._writes.clear()

    def take_writes(self) -> list[Callable[[Session], None]]:
        """The buffered DB writes, for the caller to apply in its write transaction."""
        writes, self._writes = self._writes, []
        return writes

    def apply(self, session: Session) -> None:
        for write in self._writes:
            write(session)
        self._writes.clear()

    def now(self) -> datetime:
        return clock.now()

    def event_counts(self, customer_ids: list[int], name: str, since: datetime, until: datetime,
                     where: dict[str, Any] | None = None) -> dict[int, int]:
        if not customer_ids:
            return {}
        base = (col(BehaviorEvent.customer_id).in_(customer_ids), BehaviorEvent.name == name,
                BehaviorEvent.occurred_at >= since, BehaviorEvent.occurred_at <= until)
        if not where:
            rows = self.session.exec(select(BehaviorEvent.customer_id, func.count()).where(*base)
                                     .group_by(col(BehaviorEvent.customer_id))).all()
            return {cid: int(n) for cid, n in rows}
        counts: dict[int, int] = defaultdict(int)
        for cid, props in self.session.exec(select(BehaviorEvent.customer_id, BehaviorEvent.properties).where(*base)):
            if matches_where(props or {}, where):
                counts[cid] += 1
        return dict(counts)

    def audience_members(self, audience_id: int, customer_ids: list[int]) -> set[int]:
        try:
            return set(members_among(session=self.session, audience_id=audience_id, customer_ids=customer_ids,
                                     workspace_id=self.workspace_id))
        except CrowdDataError:
            return set()  # a deleted audience matches nobody; the others branch takes them

    def previous_results(self, record_id: int, node_id: str, customer_ids: list[int]) -> dict[int, str]:
        return self.store.results(record_id, node_id, customer_ids)

    def ab_winner(self, record_id: int, node_id: str) -> str | None:
        return ab_winner.winner(self.store, record_id, node_id)

    def set_tag(self, customer_ids: list[int], tag: str, value: str) -> None:
        rows = [{"customer_id": cid, "tag": tag, "value": value, "updated_at": clock.now()} for cid in customer_ids]
        self._writes.append(lambda s: upsert(s, _TAGS,
                                             rows, keys=["customer_id", "tag"], update=["value", "updated_at"]))

    def add_to_audience(self, *, record_id: int, node_id: str, name: str, customer_ids: list[int]) -> int:
        """The audience is created once per (record, component); its id is returned when it already exists,
        else 0 until the step's write transaction creates it."""
        source = f"Generate Audience: record {record_id}, component {node_id}"
        ids = list(customer_ids)

        def write(session: Session) -> None:
            audience = session.exec(select(Audience).where(Audience.workspace_id == self.workspace_id,
                                                           Audience.source == source)).first()
            if audience is None:
                audience = Audience(workspace_id=self.workspace_id, name=name[:60], kind=AudienceKind.STATIC,
                                    source=source)
                session.add(audience)
                session.flush()
            audience_id = row_id(audience)
            insert_ignore(session, _MEMBERS, [{"audience_id": audience_id, "customer_id": cid} for cid in ids])

        self._writes.append(write)
        existing = self.session.exec(select(Audience.id).where(Audience.workspace_id == self.workspace_id,
                                                               Audience.source == source)).first()
        return int(existing or 0)

    def short_links(self, *, record_id: int, node_id: str, url: str, customer_ids: list[int]) -> dict[int, str]:
        """Store code → (record, node, customer, url) for the click redirect (engine.api, GET /s/{code})."""
        base = get_settings().short_link_base.rstrip("/")
        codes = {cid: short_code(record_id, node_id, cid) for cid in customer_ids}
        if codes:
            pipe = self.store.r.pipeline(transaction=False)
            pipe.hset(SHORT_LINKS_KEY, mapping={code: dumps([record_id, node_id, cid, url])
                                                for cid, code in codes.items()})
            pipe.execute()
        return {cid: f"{base}/{code}" for cid, code in codes.items()}

    def withhold(self, record_id: int, node_id: str, customer_ids: list[int], status: str) -> set[int]:
        """Store `status` (e.g. opted_out) as the result of customers who are not to be sent, and count it, unless
        they already have a result (a previous attempt of this walk sent them: `send` answers that); returns
        those now withheld. Once stored, a redelivered walk's `send` answers the same status: never sent later."""
        if not customer_ids:
            return set()
        prior = self.store.raw_results(record_id, node_id, customer_ids)
        fresh = {cid for cid in customer_ids if cid not in prior}
        self.store.settle_results(record_id, node_id, dict.fromkeys(fresh, status))
        return fresh

    def send(self, messages: list[Message]) -> list[SendResult]:
        """Send each (record, node, customer) at most once per round.

        Customers that already have a result (a retried batch) are not sent again: their stored result comes
        back (a receipt-settled one as the PENDING the send answered). For a channel that can be asked what it
        received (`lookup`: the providers), the others are marked "sending" before it is called (in the same
        round trip that reads the results); a customer still marked so was being sent when a worker died: the
        channel is asked what the provider received and only the rest is sent (their "sending" marks stay
        until the answers are stored). A channel without a lookup (SMTP, webhook, Kafka) would send a marked
        customer again anyway, with the same message id / idempotency key: its results are only read (one
        HMGET, not the marking script: 1.3 µs of Redis CPU a customer at 1M). Storing an answer
        counts it (store.settle_results). The channel asks `proceed` before each request: once the round's stop
        is flushed, the rest are stored and counted "stopped", never sent."""
        if not messages:
            return []
        if self.test:
            mark_test(messages)
        first = messages[0]
        record_id, node_id = first.record_id, first.node_id
        ids = [m.customer_id for m in messages]
        marked = any(hasattr(channel_for(name, self.workspace_id), "lookup") for name in {m.channel for m in messages})
        stored = (self.store.reserve if marked else self.store.raw_results)(record_id, node_id, ids)
        results: list[SendResult] = []
        todo: list[Message] = []
        unsure: list[Message] = []
        for m in messages:
            value = stored.get(m.customer_id)
            if value is None:
                todo.append(m)
            elif value == SENDING:
                unsure.append(m)
            else:
                status = send_status(value)
                results.append(SendResult(customer_id=m.customer_id, status=SendStatus(status)
                                          if status in _STATUSES else SendStatus.SUCCESS))
        results.extend(caps.screen(self, todo, unsure))  # issue 16: capped customers are not sent
        by_channel: dict[str, list[Message]] = defaultdict(list)
        for message in unsure:
            by_channel[message.channel].append(message)
        for channel_name, batch in by_channel.items():
            lookup = getattr(channel_for(channel_name, self.workspace_id), "lookup", None)
            found = lookup(batch) if lookup is not None else {}
            if found:
                self.store.settle_results(record_id, node_id, {r.customer_id: r.status.value for r in found.values()})
                results.extend(found.values())
            todo.extend(m for m in batch if m.customer_id not in found)
        by_channel = defaultdict(list)
        for message in todo:
            by_channel[message.channel].append(message)

        def proceed() -> bool:  # asked before each request leaves: nothing is sent once the stop is flushed
            return not self.store.is_stopped(record_id)

        for channel_name, batch in by_channel.items():
            sent = channel_for(channel_name, self.workspace_id).send_batch(batch, proceed)
            values = _STATUS_VALUES  # a status (member or its text) → its text: .value is a property, per customer
            self.store.settle_results(record_id, node_id, {r.customer_id: values[r.status] for r in sent})
            caps.give_back(self, sent, record_id, node_id)
            results.extend(sent)
        return results


_STATUSES = {s.value for s in SendStatus}
_STATUS_VALUES = {s: s.value for s in SendStatus}
TEST_MARK = "[Test] "


def mark_test(messages: list[Message]) -> None:
    """Seed 004: a tester sees that a message is a test (text and subject), and so does the receiver of a
    payload (`data["test"]`)."""
    for m in messages:
        if not m.body.startswith(TEST_MARK):
            m.body = TEST_MARK + m.body
        if m.subject and not m.subject.startswith(TEST_MARK):
            m.subject = TEST_MARK + m.subject
        m.data["test"] = True
