"""The opt-outs of a batch's customers, loaded with their profiles (engine/runtime/customers.py): one query per
chunk of ids over `customerconsent`'s primary key, and nothing at all to do for the customers without a row."""

from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from engine.components.base import CustomerView
from engine.models import ConsentStatus, CustomerConsent, table_of

_K = table_of(CustomerConsent).c
OPTED_OUT = ConsentStatus.OPTED_OUT.value
SQLITE_QUERY = ("SELECT customer_id, channel FROM customerconsent WHERE customer_id IN "
                "(SELECT value FROM json_each(?)) AND status = ?")


def mark(views: dict[int, CustomerView], rows: Any) -> None:
    """Set `opted_out` on the views from (customer id, channel) rows."""
    found: dict[int, set[str]] = defaultdict(set)
    for cid, channel in rows:
        found[cid].add(channel)
    for cid, channels in found.items():
        view = views.get(cid)
        if view is not None:
            view.opted_out = frozenset(channels)


def mark_sqlite(cursor: Any, param: tuple[str], views: dict[int, CustomerView]) -> None:
    """On SQLite, through the walk's raw cursor with its JSON array of ids."""
    mark(views, cursor.execute(SQLITE_QUERY, (*param, OPTED_OUT)).fetchall())


def mark_session(session: Session, ids: list[int], views: dict[int, CustomerView]) -> None:
    mark(views, session.execute(select(_K.customer_id, _K.channel)
                                .where(_K.customer_id.in_(ids), _K.status == OPTED_OUT)).all())
