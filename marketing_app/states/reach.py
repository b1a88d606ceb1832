"""The Reach Tasks page (`/reach/<channel>`): one page of a channel's tasks, filtered, sorted and paged by the
engine (`engine.services.reach_tasks`), with numbers pushed while they move.

Filters, sorting and paging are ordinary events that read one page through `states/service.run`. The page
mounts a `LiveFollow` whose background follower (states/live.py) sleeps on the process's Redis subscription and
re-reads the page after every change the engine announces (a walk's counters, a batch of receipts, a round's
end; new rounds through the hub's status probe), in a worker thread outside the state lock. A re-read computed
for filters the user has since changed is dropped (a generation counter), so a click always wins.
`?activity=<id>` in the URL filters by that activity; one the user may not see is "Activity not found".
"""

import asyncio
from collections.abc import Collection
from typing import ClassVar

import reflex as rx

from engine.clock import now
from engine.services import moderation, reach_tasks
from engine.services.reach_tasks import CHANNELS, STATUS_LABELS, ReachTask, TaskPage, TaskQuery, channel_key
from marketing_app.routes import segment
from marketing_app.states import live as live_pages
from marketing_app.states.activities import canvas_route
from marketing_app.states.auth import AuthState
from marketing_app.states.paged_list import PagedList
from marketing_app.states.service import back_to_login, outcome_as, run

ALL = "all"  # the selects' "no filter" (a Radix select item cannot have an empty value)
#: the sorts that start descending (numbers and times: the biggest / newest first)
_DESCENDING_FIRST = {"started_at", "audience", "sent", "success", "failed"}
#: the channel links above the page
CHANNEL_LINKS: list[tuple[str, str]] = [(c.key, c.label) for c in CHANNELS.values()]
STATUS_CHOICES: list[tuple[str, str]] = [(ALL, "All statuses"), *STATUS_LABELS.items()]
#: the Type filter: sends of flows, or normal tasks created on this page (issue 14)
KIND_CHOICES: list[tuple[str, str]] = [(ALL, "All types"), ("flow", "Flow"), ("normal", "Normal")]


def number(n: int) -> str:
    return f"{n:,}"


def row(task: ReachTask, channel: str = "sms") -> dict[str, str]:
    """Display strings of one task (and raw numbers in data attributes for tests)."""
    reasons = "\n".join(f"{reason}: {n:,}" for reason, n in task.failure_reasons)
    normal = task.kind == "normal"
    return {
        "id": task.id, "name": task.name,
        "details_href": f"/reach/{channel}/{task.record_id}-{task.node_id}" if task.record_id else "",
        "activity": task.activity_name,
        "activity_href": "" if normal else canvas_route(task.activity_id, mode="details", record=task.record_id),
        "kind": task.kind, "kind_label": "Normal" if normal else "Flow", "normal_id": str(task.normal_id or ""),
        "edit_refusal": task.edit_refusal,
        "campaigns": str(len(task.campaigns)) if task.campaigns else "",
        "campaigns_full": ", ".join(task.campaigns), "content": task.content,
        "segments": (f"{task.segments} SMS segment{'s' if task.segments != 1 else ''} before variables"
                     if task.segments else ""),
        "audience_name": task.audience_name or "—", "audience": number(task.audience),
        "sent": number(task.sent), "success": number(task.success), "failed": number(task.failed),
        "pending": number(task.pending), "not_sent": number(task.not_sent),
        "sent_hint": (f"{task.success:,} succeeded + {task.failed:,} failed + {task.pending:,} no receipt yet"
                      + (f" · {task.not_sent:,} without a phone number, not sent" if task.not_sent else "")),
        "reasons": reasons, "platform": task.platform, "channel_type": task.channel_type,
        "sending_type": task.sending_type, "status": task.status, "status_label": task.status_label,
        "status_reason": task.status_reason, "started": task.started_at.strftime("%Y-%m-%d %H:%M"),
        "live": "1" if task.live else "",
        "raw_audience": str(task.audience), "raw_sent": str(task.sent), "raw_success": str(task.success),
        "raw_failed": str(task.failed), "raw_pending": str(task.pending), "record": str(task.record_id),
    }


class ReachState(PagedList, rx.State):
    SORTABLE: ClassVar[Collection[str]] = reach_tasks.SORTABLE
    DESCENDING_FIRST: ClassVar[frozenset[str]] = frozenset(_DESCENDING_FIRST)
    channel: str = "sms"
    channel_label: str = "SMS"
    search: str = ""
    activity: str = ALL
    status: str = ALL
    kind: str = ALL
    can_create: bool = False
    sort: str = "started_at"
    total: int = 0
    rows: list[dict[str, str]] = []
    activities: list[list[str]] = []  # [id, name] of the activity filter's choices
    error: str = ""
    loaded: bool = False
    updated_at: str = ""
    words_open: bool = False
    words_text: str = ""
    words_count: int = 0
    words_can_edit: bool = False
    words_why_not: str = ""
    words_error: str = ""
    _generation: int = 0
    _busy: bool = False

    @rx.var
    def filtered(self) -> bool:
        return bool(self.search or self.activity != ALL or self.status != ALL or self.kind != ALL)

    @rx.var
    def live(self) -> bool:
        return any(r["live"] for r in self.rows)

    def _query(self) -> TaskQuery:
        return TaskQuery(search=self.search, activity_id=int(self.activity) if self.activity.isdigit() else None,
                         status=None if self.status == ALL else self.status,
                         kind=None if self.kind == ALL else self.kind, sort=self.sort,
                         descending=self.descending, page=self.page, page_size=self.page_size)

    def _show(self, data: TaskPage) -> None:
        rows = [row(t, self.channel) for t in data.rows]
        if rows != self.rows:
            self.rows = rows
        self.total, self.pages, self.page = data.total, data.pages, data.page
        activities = [[str(aid), name] for aid, name in data.activities]
        if activities != self.activities:
            self.activities = activities
        self.error, self.loaded, self.can_create = "", True, data.can_create
        self.updated_at = now().strftime("%H:%M:%S UTC")

    async def _refresh(self):
        """Read the page for the current filters (holding the state: a filter change is the user's click)."""
        self._generation += 1
        channel, query = self.channel, self._query()
        out = await run(self, lambda s, u: reach_tasks.list_tasks(session=s, actor=u, channel=channel, query=query))
        if out.signed_out:
            return out.problem()
        if out.error or out.value is None:
            self.rows, self.total, self.pages, self.page = [], 0, 1, 1
            self.error, self.loaded = out.error or "Not found.", True
            return None
        self._show(out.value)
        return None

    @rx.event
    async def load(self):
        channel = segment(self.router.url.path, 1) or "sms"  # /reach/<channel>
        query = self.router.url.query_parameters
        known = channel_key(channel)
        if known and known != channel:  # /reach/text_sms, /reach/APP_PUSH: the channel's own page
            rest = f"?{self.router.url.query}" if self.router.url.query else ""
            return rx.redirect(f"/reach/{known}{rest}", replace=True)
        self.reset()
        self.channel = channel
        self.channel_label = CHANNELS[channel].label if channel in CHANNELS else channel
        wanted = str(query.get("activity", ""))
        self.activity = wanted if wanted.isdigit() else ALL
        return await self._refresh()

    # ------------------------------------------------------------------ filters, sorting, paging

    @rx.event
    async def submit_search(self, form: dict[str, str]):
        self.search = (form.get("search") or "").strip()
        self.page = 1
        return await self._refresh()

    @rx.event
    async def clear_search(self):
        self.search, self.page = "", 1
        return await self._refresh()

    @rx.event
    async def set_activity(self, value: str):
        self.activity, self.page = value if value.isdigit() else ALL, 1
        return await self._refresh()

    @rx.event
    async def set_status(self, value: str):
        self.status, self.page = value if value in STATUS_LABELS else ALL, 1
        return await self._refresh()

    @rx.event
    async def set_kind(self, value: str):
        self.kind, self.page = value if value in reach_tasks.KINDS else ALL, 1
        return await self._refresh()

    @rx.event
    async def reset_filters(self):
        self.search, self.activity, self.status, self.kind, self.page = "", ALL, ALL, ALL, 1
        return await self._refresh()

    @rx.event
    async def refresh_now(self):
        """Read the page again (a normal task was saved, deleted or moved on the scheduler's tick)."""
        return await self._refresh()

    # ------------------------------------------------------------------ moderation (banned words)

    @rx.event
    async def open_words(self):
        """The workspace's banned-word list: an admin edits it, others read it."""
        out = await run(self, lambda s, u: moderation.word_list(session=s, actor=u))
        if not out.ok or out.value is None:
            return out.problem()
        words = out.value
        self.words_text, self.words_count = "\n".join(words.words), len(words.words)
        self.words_can_edit, self.words_why_not = words.can_edit, words.why_not
        self.words_error, self.words_open = "", True
        return None

    @rx.event
    def set_words_open(self, value: bool):
        self.words_open = value

    @rx.event
    async def save_words(self, form: dict[str, str]):
        words = (form.get("words") or "").splitlines()
        out = await run(self, lambda s, u: moderation.set_words(session=s, actor=u, words=words), write=True)
        if out.signed_out:
            return out.problem()
        if out.error or out.value is None:
            self.words_error = out.error or "The list could not be saved."
            return None
        self.words_open = False
        count = len(out.value)
        return rx.toast.success(f"Saved {count} banned word{'s' if count != 1 else ''}: flows whose touch "
                                "content holds one cannot be published.")

    # ------------------------------------------------------------------ live

    async def _reread(self) -> str | None:
        """Re-read in a worker thread without holding the state; the session token the read was refused for when
        it names nobody (signed out meanwhile), else None."""
        async with self:
            if self._busy or self.error:
                return None
            self._busy = True
            generation, channel, query = self._generation, self.channel, self._query()
            token = (await self.get_state(AuthState)).session_token
        data: TaskPage | None = None
        refused: str | None = None
        try:  # a refused re-read (e.g. the filtered activity was made private) keeps the page as it is
            out = await asyncio.to_thread(outcome_as, token, lambda s, u: reach_tasks.list_tasks(
                session=s, actor=u, channel=channel, query=query))
            data, refused = out.value, token if out.signed_out else None
        finally:
            async with self:
                self._busy = False
                if data is not None and generation == self._generation:
                    self._show(data)
        return refused

    @rx.event(background=True)
    async def follow(self, follow_id: str):
        """Re-read after every change the engine announces (LiveFollow mounted)."""
        refused: str | None = None

        async def refresh(_changed: set[int] | None) -> float:
            nonlocal refused
            refused = await self._reread()
            return 0 if refused is not None else live_pages.SAFETY_S

        await live_pages.follow(self, key="reach", follow_id=follow_id, records=None, refresh=refresh)
        if refused is not None and (login := await back_to_login(self, refused)) is not None:
            yield login

    @rx.event
    def unfollow(self, follow_id: str):
        live_pages.unfollow(self, "reach", follow_id)
