"""Consent / opt-outs per customer and channel (issue 15).

The channels are the Marketing Touch components of the registry (Text SMS, Digital SMS, Email, WeChat, Template
Message, APP PUSH): a webhook or a Kafka push is not a message to the customer. Each has a status — opted in,
opted out, or unknown (no row: the default, allowed) — with when it changed and its source: an admin on the
profile, the events API, an email's unsubscribe link, a CSV import. Every change is a `consentchange` row (the
profile's history); setting the status a channel already has changes nothing and records nothing.

The engine honours it at the moment of sending (engine/components/consent.py): an opted-out customer is not sent
on that channel, their step result is "opted_out" and the component counts them as such.

Who: everyone who sees a customer reads their consent; only admins change it on the profile; the events API (a
workspace API key) and the unsubscribe link change it for their own customer without a user.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import delete
from sqlmodel import Session, col, select

from engine import clock
from engine.components.category import Category
from engine.components.registry import COMPONENTS
from engine.components.sending import SendingComponent
from engine.components.unsubscribe import read_code
from engine.errors import Forbidden, Invalid, NotFound
from engine.models import ConsentChange, ConsentSource, ConsentStatus, Customer, CustomerConsent, Role, User, row_id
from engine.shared.customers import ensure_customers

#: touch component type -> its label, in palette order (one source of truth: the component registry)
CHANNELS: dict[str, str] = {t: c.label for t, c in COMPONENTS.items()
                            if isinstance(c, SendingComponent) and c.category == Category.TOUCH}
STATUSES = tuple(s.value for s in ConsentStatus)
STATUS_LABELS = {ConsentStatus.OPTED_IN.value: "Opted in", ConsentStatus.OPTED_OUT.value: "Opted out",
                 ConsentStatus.UNKNOWN.value: "Unknown (allowed)"}
SOURCE_LABELS = {ConsentSource.ADMIN.value: "Admin", ConsentSource.API.value: "API",
                 ConsentSource.UNSUBSCRIBE.value: "Unsubscribe link", ConsentSource.IMPORT.value: "Import"}
HISTORY_SHOWN = 50
ADMIN_ONLY = "Only an admin can change a customer's consent."
NOT_FOUND = "Customer not found."


class ChannelConsent(BaseModel):
    channel: str  # the touch component type
    label: str
    status: str  # opted_in / opted_out / unknown
    changed_at: datetime | None  # None: never set
    source: str  # "" when never set
    address_field: str  # the contact field the channel sends to
    reachable: bool  # that field is set


class ConsentHistoryRow(BaseModel):
    channel: str
    label: str
    previous: str
    status: str
    source: str
    changed_at: datetime
    changed_by: str  # the admin's name, "" otherwise
    note: str


class ConsentView(BaseModel):
    channels: list[ChannelConsent]
    history: list[ConsentHistoryRow]
    edit_refusal: str  # "" when the viewer may change it


@dataclass
class Applied:
    changed: int  # statuses that changed (and were recorded)
    unchanged: int  # already so
    customers_created: int = 0


# ------------------------------------------------------------------------------------------------ rules


def check_channel(channel: str) -> str:
    value = (channel or "").strip()
    if value not in CHANNELS:
        raise Invalid(f"Unknown channel '{value[:40]}': use one of {', '.join(CHANNELS)}.")
    return value


def check_status(status: str) -> str:
    value = (status or "").strip().lower()
    if value not in STATUSES:
        raise Invalid(f"Unknown consent status '{value[:20]}': use one of {', '.join(STATUSES)}.")
    return value


def record(*, session: Session, customer_id: int, channel: str, status: str, source: str,
           actor_id: int | None = None, note: str = "", at: datetime | None = None) -> bool:
    """Set one channel's status for a customer (already checked to exist); True when it changed. The one place
    that writes consent: the current row (removed for "unknown") and a history row, in the caller's transaction."""
    channel, status = check_channel(channel), check_status(status)
    if source not in SOURCE_LABELS:
        raise Invalid(f"Unknown consent source '{source}'.")
    current = session.get(CustomerConsent, (customer_id, channel))
    previous = current.status if current is not None else ConsentStatus.UNKNOWN.value
    if previous == status:
        return False
    when = at or clock.now()
    if status == ConsentStatus.UNKNOWN.value:
        assert current is not None
        session.delete(current)
    elif current is None:
        session.add(CustomerConsent(customer_id=customer_id, channel=channel, status=status, source=source,
                                    changed_at=when, changed_by=actor_id))
    else:
        current.status, current.source, current.changed_at, current.changed_by = status, source, when, actor_id
        session.add(current)
    session.add(ConsentChange(customer_id=customer_id, channel=channel, previous=previous, status=status,
                              source=source, changed_at=when, changed_by=actor_id, note=note[:200]))
    session.flush()
    return True


def forget(*, session: Session, customer_id: int) -> None:
    """A deleted customer's consent goes with them (the right to be forgotten)."""
    session.execute(delete(ConsentChange).where(col(ConsentChange.customer_id) == customer_id))
    session.execute(delete(CustomerConsent).where(col(CustomerConsent.customer_id) == customer_id))


def _customer(session: Session, workspace_id: int, customer_id: int) -> Customer:
    customer = session.get(Customer, customer_id)
    if customer is None or customer.workspace_id != workspace_id or customer.staff_user_id is not None:
        raise NotFound(NOT_FOUND)
    return customer


# ------------------------------------------------------------------------------------------------ the profile


def consent_of(*, session: Session, actor: User, customer_id: int) -> ConsentView:
    """Every channel's consent of a customer the actor may see (every role), with the latest changes."""
    customer = _customer(session, actor.workspace_id, customer_id)
    rows = {r.channel: r for r in session.exec(select(CustomerConsent)
                                               .where(CustomerConsent.customer_id == customer_id))}
    channels = []
    for channel, label in CHANNELS.items():
        field = str(getattr(COMPONENTS[channel], "address_field", "") or "")
        row = rows.get(channel)
        channels.append(ChannelConsent(
            channel=channel, label=label, status=row.status if row else ConsentStatus.UNKNOWN.value,
            changed_at=row.changed_at if row else None, source=row.source if row else "", address_field=field,
            reachable=bool(getattr(customer, field, None)) if field else False))
    changes = session.exec(select(ConsentChange, User.display_name)
                           .outerjoin(User, col(User.id) == ConsentChange.changed_by)
                           .where(ConsentChange.customer_id == customer_id)
                           .order_by(col(ConsentChange.changed_at).desc(), col(ConsentChange.id).desc())
                           .limit(HISTORY_SHOWN)).all()
    history = [ConsentHistoryRow(channel=c.channel, label=CHANNELS.get(c.channel, c.channel), previous=c.previous,
                                 status=c.status, source=c.source, changed_at=c.changed_at, changed_by=name or "",
                                 note=c.note) for c, name in changes]
    return ConsentView(channels=channels, history=history,
                       edit_refusal="" if actor.role == Role.ADMIN else ADMIN_ONLY)


def set_consent(*, session: Session, actor: User, customer_id: int, channel: str, status: str) -> ChannelConsent:
    """An admin sets one channel's status on the profile (source "admin")."""
    if actor.role != Role.ADMIN:
        raise Forbidden(ADMIN_ONLY)
    _customer(session, actor.workspace_id, customer_id)
    record(session=session, customer_id=customer_id, channel=channel, status=status,
           source=ConsentSource.ADMIN.value, actor_id=row_id(actor))
    wanted = check_channel(channel)
    return next(c for c in consent_of(session=session, actor=actor, customer_id=customer_id).channels
                if c.channel == wanted)


# ------------------------------------------------------------------------------------------------ API, link, import


def apply_api(*, session: Session, workspace_id: int, items: list[dict[str, Any]],
              source: str = ConsentSource.API.value) -> Applied:
    """Statuses from the events API ({qaid, channel, status}); all or nothing: every item is checked before
    anything is written (Invalid names the first bad item). Unknown QAIDs become customers, as events do, so an
    opt-out sent before the customer is known still holds."""
    checked: list[tuple[str, str, str]] = []
    for index, item in enumerate(items):
        qaid = str(item.get("qaid") or "").strip()
        if not qaid:
            raise Invalid(f"Item {index}: qaid is required.")
        try:
            checked.append((qaid, check_channel(str(item.get("channel") or "")),
                            check_status(str(item.get("status") or ""))))
        except Invalid as err:
            raise Invalid(f"Item {index}: {err.message}") from None
    ids, created = ensure_customers(session=session, workspace_id=workspace_id, qaids=[q for q, _, _ in checked])
    changed = 0
    for qaid, channel, status in checked:
        changed += record(session=session, customer_id=ids[qaid], channel=channel, status=status, source=source)
    return Applied(changed=changed, unchanged=len(checked) - changed, customers_created=created)


def unsubscribe(*, session: Session, code: str) -> bool:
    """Follow an email's unsubscribe link: its customer opts out of email (source "unsubscribe link"). True when
    the code is valid and its customer exists (also when they had opted out already); nothing changes otherwise."""
    found = read_code(code)
    if found is None:
        return False
    customer_id, record_id = found
    if session.get(Customer, customer_id) is None:
        return False
    record(session=session, customer_id=customer_id, channel="email", status=ConsentStatus.OPTED_OUT.value,
           source=ConsentSource.UNSUBSCRIBE.value, note=f"round {record_id}")
    return True


# ------------------------------------------------------------------------------------------------ CSV import

IMPORT_PREFIX = "optout:"  # a CSV column `optout:<channel>` (engine/services/audiences.py)
_YES = frozenset({"1", "true", "yes", "y", "opted_out", "out"})
_NO = frozenset({"0", "false", "no", "n", "opted_in", "in"})


def parse_import_cells(row: dict[str, Any], cells: list[tuple[str, str]], problems: list[str]) -> None:
    """A CSV row's opt-out cells (channel, text) into `row["consent"]`: yes / 1 / true → opted out, no / 0 /
    false → opted in, empty → unchanged; anything else is the row's problem."""
    found: dict[str, str] = {}
    for channel, text in cells:
        value = text.strip().lower()
        if not value:
            continue
        if value in _YES:
            found[channel] = ConsentStatus.OPTED_OUT.value
        elif value in _NO:
            found[channel] = ConsentStatus.OPTED_IN.value
        else:
            problems.append(f"the opt-out '{channel}' must be yes or no (1 / 0, true / false), not '{text[:20]}'")
    if found:
        row["consent"] = found


def take_import_rows(rows: list[dict[str, Any]]) -> list[tuple[str, dict[str, str]]]:
    """(qaid, channel → status) of the rows that carry consent, taken out of the customer rows."""
    return [(r["qaid"], r.pop("consent")) for r in rows if "consent" in r]


def apply_import(*, session: Session, ids: dict[str, int], consents: list[tuple[str, dict[str, str]]]) -> int:
    """Record an import's statuses (source "import") once its customers exist; returns how many changed. A later
    row of the same QAID wins, as for the other columns."""
    changed = 0
    for qaid, statuses in consents:
        for channel, status in statuses.items():
            changed += record(session=session, customer_id=ids[qaid], channel=channel, status=status,
                              source=ConsentSource.IMPORT.value)
    return changed
