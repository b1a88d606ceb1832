"""Who is already inside the rounds a republish round continues, so that it enters nobody twice.

A republish (engine/services/activities.py `republish`) drains the rounds in progress and starts one round on the
new version; that round's Target Audience enters only customers who entered none of the rounds it continues
(`continued_rounds`: the rounds it drained, and transitively the rounds those continued). A customer of such a
round is either still in one of its pending batches (Redis) or has a route row of an entry walk (the walk writes
its rows before its batch leaves the pending set), so reading Redis first and the database second misses
nobody. "Who entered" is read in one place, `engine/runtime/details.py` `entered_ids`.
"""

from collections.abc import Iterable
from typing import cast

from sqlmodel import Session, col, select

from engine.models import ExecutionRecord, pk_ids
from engine.runtime import details
from engine.runtime.store import RoundStore


def continued_rounds(session: Session, record_id: int) -> list[int]:
    """The rounds `record_id` took over from: those it drained, those they drained, and so on."""
    found: list[int] = []
    frontier = [record_id]
    while frontier:
        frontier = [i for i in pk_ids(session.exec(select(ExecutionRecord.id).where(
            col(ExecutionRecord.drained_by_id).in_(frontier))).all()) if i not in found]
        found += frontier
    return found


def entered_ids(session: Session, record_ids: Iterable[int]) -> set[int]:
    """Customers who entered these rounds: the route rows of their entry walks (engine/runtime/details.py)."""
    return details.entered_ids(session, record_ids)


def pending_ids(store: RoundStore, record_ids: Iterable[int]) -> set[int]:
    """Customers in the rounds' pending batches (entered or parked, not walked to the end yet)."""
    inside: set[int] = set()
    for record_id in record_ids:
        for batch in cast(set[bytes | str], store.r.smembers(f"pending:{record_id}")):  # redis-py: Awaitable | Any
            inside.update(store.get_batch(record_id, batch.decode() if isinstance(batch, bytes) else batch))
    return inside


def already_inside(session: Session, store: RoundStore, record_ids: list[int]) -> set[int]:
    """Everyone who entered these rounds: Redis first, then the step rows (see the module's docstring)."""
    if not record_ids:
        return set()
    inside = pending_ids(store, record_ids)
    return inside | entered_ids(session, record_ids)
