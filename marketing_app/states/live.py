"""A live page's follower: one Reflex background event per open page that sleeps on the process's Redis
subscription (marketing_app/live_hub.py) and re-reads the page's view only when the engine announces a change.

`follow` runs until the page stops it (`LiveFollow` unmounted → `unfollow`), the view is no longer live
(`refresh` returns False), a newer follower of the same page replaces it, or the tab is gone: Reflex 0.10 does
not cancel a background task when its client disconnects (only page-load chains, see
`BaseStateProcessor._on_disconnect`), so the follower wakes every AWAKE_S and ends once the tab has been
disconnected for GONE_S (a short network blip keeps it: the page stays mounted and live after reconnecting).

Status changes without a counter write (a Stop, a round started or ended by time) are not announced on
`live:records`; the hub probes them once per process (marketing_app/live_hub.py). The slow SAFETY_S re-read is
for what changes with the clock alone: the dashboard's last-24-hours window, the analysis's "Last 5 Minutes".
"""

import time
from collections.abc import Awaitable, Callable, Iterable

import reflex as rx
from reflex_base.registry import RegistrationContext

from marketing_app.live_hub import CLOSED, NOTICE, TIMEOUT, hub

AWAKE_S = 5.0  # the longest a follower sleeps without checking its tab is still there
SAFETY_S = 30.0  # re-read this often even without a notice (views that move with the clock, see above)
GONE_S = 30.0  # a tab disconnected this long is closed: its follower ends
#: one more re-read this long after the last notice of a burst: the engine announces a batch of receipts from its
#: Redis script, before the customers' step rows (failure reasons, details) are written to the database
SETTLE_S = 1.0


async def client_connected(token: str) -> bool:
    """Whether the tab `token` has a websocket (unknown → True: the unmount and the safety checks still end it)."""
    try:
        namespace = RegistrationContext.get().app.event_namespace
        if namespace is None:
            return True
        return await namespace._token_manager.is_token_connected(token)
    except (LookupError, AttributeError):
        return True


def owner(state: rx.State, key: str) -> tuple[str, str]:
    return (state.router.session.client_token, key)


async def follow(state: rx.State, *, key: str, follow_id: str, records: Iterable[int] | None,
                 refresh: Callable[[set[int] | None], Awaitable[float]], safety_s: float = SAFETY_S) -> None:
    """Await notices for `records` (None: any record) and call `refresh` (re-read, outside the state lock) after
    each burst, with the records noticed (None: a re-read without a notice, after a reconnect or the safety
    period); end as the module docstring says. `refresh` returns the seconds until the next re-read without a
    notice (SAFETY_S, or less for work that is not announced, e.g. a crowd being generated), 0 to stop. Call from
    a background event, outside `async with state`."""
    async with state:
        me = owner(state, key)
    watch = hub().watch(records, owner=me)
    watch.follow_id = follow_id
    last, safety = time.monotonic(), safety_s
    settle = float("inf")  # when the settling re-read after a burst is due
    gone_since: float | None = None
    try:
        while True:
            due = min(last + safety, settle)
            why = await watch.next(min(AWAKE_S, max(0.05, due - time.monotonic())))
            if why == CLOSED:
                return
            now = time.monotonic()
            if not await client_connected(me[0]):
                gone_since = gone_since or now
                if now - gone_since >= GONE_S:
                    return
                continue
            gone_since = None
            if why == TIMEOUT and now < min(last + safety, settle):
                continue
            settle = now + SETTLE_S if why != TIMEOUT else float("inf")
            last = now
            safety = await refresh(set(watch.last_changed) if why == NOTICE else None)
            if safety <= 0:
                return
    finally:
        watch.close()


def unfollow(state: rx.State, key: str, follow_id: str) -> None:
    """End the page's follower started with `follow_id` (a newer one, from a later mount, is left running)."""
    watch = hub().current(owner(state, key))
    if watch is not None and watch.follow_id == follow_id:
        watch.close()
