"""The admin's outbound allow-list (table `outboundallow`): which private hosts webhooks and Kafka producers may
reach. Admin-only: the fence protects the platform's own network, so a marketer cannot open it for their flow.

Entries are stored in their canonical form (engine/outbound.py `parse_entry`); every process picks an edit up
within engine.outbound.STORED_REFRESH_S (this process at once). OUTBOUND_ALLOW adds entries by environment."""

from sqlmodel import Session, col, select

from engine import outbound
from engine.db import after_commit
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.models import OutboundAllow, Role, User

NOTE_MAX = 200


def _require_admin(actor: User) -> None:
    if actor.role != Role.ADMIN:
        raise Forbidden("Only an admin can change where outbound calls may go.")


def _canonical(entry: str) -> str:
    try:
        return str(outbound.parse_entry(entry))
    except ValueError as err:
        raise Invalid(f"Allow-list entry: {err}.") from None


def list_entries(*, session: Session, actor: User) -> list[OutboundAllow]:
    _require_admin(actor)
    return list(session.exec(select(OutboundAllow).order_by(col(OutboundAllow.entry))).all())


def add_entry(*, session: Session, actor: User | None, entry: str, note: str = "") -> OutboundAllow:
    """Allow one host / address / network (`actor=None`: the system itself, e.g. the demo's own sink)."""
    if actor is not None:
        _require_admin(actor)
    text = _canonical(entry)
    note = note.strip()
    if len(note) > NOTE_MAX:
        raise Invalid(f"The note is longer than {NOTE_MAX} characters.")
    if session.exec(select(OutboundAllow).where(OutboundAllow.entry == text)).first() is not None:
        raise Conflict(f"{text} is already allow-listed.")
    row = OutboundAllow(entry=text, note=note, created_by_id=actor.id if actor is not None else None)
    session.add(row)
    session.flush()
    after_commit(session, outbound.stored.invalidate)  # re-read once the edit is visible
    return row


def ensure_entry(*, session: Session, entry: str, note: str = "") -> bool:
    """Allow `entry` unless it is listed already (idempotent, for setup code); True when it added it."""
    if session.exec(select(OutboundAllow).where(OutboundAllow.entry == _canonical(entry))).first() is not None:
        return False
    add_entry(session=session, actor=None, entry=entry, note=note)
    return True


def remove_entry(*, session: Session, actor: User, entry_id: int) -> None:
    _require_admin(actor)
    row = session.get(OutboundAllow, entry_id)
    if row is None:
        raise NotFound("That allow-list entry does not exist (any more).")
    session.delete(row)
    session.flush()
    after_commit(session, outbound.stored.invalidate)  # re-read once the edit is visible
