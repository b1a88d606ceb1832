"""The Audiences list (`/audiences`): one page of the workspace's audiences read by the engine
(`engine.services.audiences.list_page`): search, kind filter, sort, paging, and Delete, which the service
refuses while a live activity or another rule uses the audience (its message names them; the page shows it).
"""

from collections.abc import Collection
from typing import ClassVar

import reflex as rx

from engine.services import audiences as service
from engine.services.audiences import AudiencePage, AudienceQuery, AudienceRow
from marketing_app.routes import canvas_route
from marketing_app.states.paged_list import PagedList
from marketing_app.states.service import run

ALL = "all"
KINDS: list[tuple[str, str]] = [(ALL, "All kinds"), ("rule", "Rule"), ("imported", "Imported"),
                                ("generated", "Generated")]
KIND_LABELS = dict(KINDS[1:])
_DESCENDING_FIRST = {"updated"}


def row(r: AudienceRow) -> dict[str, str]:
    """Display strings of one audience."""
    shown = [u for u in r.used_by if u.visible]
    hidden = len(r.used_by) - len(shown)
    return {
        "id": str(r.id), "name": r.name, "kind": r.kind, "kind_label": KIND_LABELS.get(r.kind, r.kind),
        "source": r.source,
        "size": f"{r.size:,}" if r.size is not None else "—", "raw_size": str(r.size if r.size is not None else ""),
        "size_note": (f"counted {r.counted_at.strftime('%H:%M:%S')} UTC" if r.counted_at else
                      (r.size_error or "fixed list")),
        "size_error": r.size_error, "creator": r.creator,
        "used_hidden": f"+{hidden} private" if hidden else "",
        "used_count": str(len(r.used_by)),
        "updated": r.updated_at.strftime("%Y-%m-%d %H:%M"),
        "editable": "1" if r.kind == "rule" else "",
    }


def used_links(r: AudienceRow) -> list[list[str]]:
    """[audience id, activity id, canvas href, activity name, status] per visible activity using the audience."""
    return [[str(r.id), str(u.activity_id), canvas_route(u.activity_id), u.name, u.status.label]
            for u in r.used_by if u.visible]


class AudiencesState(PagedList, rx.State):
    SORTABLE: ClassVar[Collection[str]] = service.SORTABLE
    DESCENDING_FIRST: ClassVar[frozenset[str]] = frozenset(_DESCENDING_FIRST)
    search: str = ""
    kind: str = ALL
    sort: str = "updated"
    total: int = 0
    rows: list[dict[str, str]] = []
    used: list[list[str]] = []  # used_links of every row of the page
    error: str = ""
    loaded: bool = False
    deleting: str = ""  # the id the confirmation dialog asks about ("" = closed)
    deleting_name: str = ""
    delete_error: str = ""

    @rx.var
    def filtered(self) -> bool:
        return bool(self.search or self.kind != ALL)

    def _query(self) -> AudienceQuery:
        return AudienceQuery(search=self.search, kind=None if self.kind == ALL else self.kind, sort=self.sort,
                             descending=self.descending, page=self.page, page_size=self.page_size)

    def _show(self, data: AudiencePage) -> None:
        self.rows = [row(r) for r in data.rows]
        self.used = [link for r in data.rows for link in used_links(r)]
        self.total, self.pages, self.page = data.total, data.pages, data.page
        self.error, self.loaded = "", True

    async def _refresh(self):
        query = self._query()
        out = await run(self, lambda s, u: service.list_page(session=s, actor=u, query=query))
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
        self.reset()
        return await self._refresh()

    @rx.event
    async def submit_search(self, form: dict[str, str]):
        self.search, self.page = (form.get("search") or "").strip(), 1
        return await self._refresh()

    @rx.event
    async def set_kind(self, value: str):
        self.kind, self.page = value if value in KIND_LABELS else ALL, 1
        return await self._refresh()

    @rx.event
    async def reset_filters(self):
        self.search, self.kind, self.page = "", ALL, 1
        return await self._refresh()

    # ------------------------------------------------------------------ delete

    @rx.event
    def ask_delete(self, audience_id: str, name: str):
        self.deleting, self.deleting_name, self.delete_error = audience_id, name, ""

    @rx.event
    def cancel_delete(self):
        self.deleting, self.deleting_name, self.delete_error = "", "", ""

    @rx.event
    async def confirm_delete(self):
        if not self.deleting.isdigit():
            return None
        audience_id, name = int(self.deleting), self.deleting_name
        out = await run(self, lambda s, u: service.delete_audience(session=s, actor=u, audience_id=audience_id),
                        write=True)
        if out.signed_out:
            return out.problem()
        if out.error:  # stays open with the refusal (it names the activities using the audience)
            self.delete_error = out.error
            return None
        self.deleting, self.deleting_name = "", ""
        await self._refresh()
        return rx.toast.success(f"Deleted “{name}”.")
