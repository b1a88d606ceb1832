"""Sorting and paging, as every list page has them (activities, audiences, customers, message templates,
Reach Tasks): one set of events, so a fix to how a list pages reaches every list. A page's state mixes this in,
names its service's sortable columns and re-queries in `_refresh`."""

from collections.abc import Collection
from typing import ClassVar

import reflex as rx

PAGE_SIZES = ["10", "20", "50", "100"]
PAGE_SIZE = 20


def page_items(page: int, pages: int) -> list[str]:
    """Page buttons: first, last, the current one and its neighbours, "…" for the gaps."""
    wanted = sorted({1, pages, page - 1, page, page + 1} & set(range(1, pages + 1)))
    out: list[str] = []
    for number in wanted:
        if out and number - int(out[-1]) > 1:
            out.append("…")
        out.append(str(number))
    return out


class PagedList(rx.State, mixin=True):
    sort: str = ""
    descending: bool = True
    page: int = 1
    pages: int = 1
    page_size: int = PAGE_SIZE

    #: the columns the page's service sorts by, and those whose first click sorts newest / largest first
    SORTABLE: ClassVar[Collection[str]] = ()
    DESCENDING_FIRST: ClassVar[frozenset[str]] = frozenset()

    @rx.var
    def page_items(self) -> list[str]:
        return page_items(self.page, self.pages)

    async def _refresh(self):  # noqa: ANN202 — an event's return (the page's toasts), as Reflex takes it
        raise NotImplementedError

    @rx.event
    async def sort_by(self, key: str):
        """A header click: the same column again flips the order, another starts in its natural order."""
        if key not in self.SORTABLE:
            return None
        if key == self.sort:
            self.descending = not self.descending
        else:
            self.sort, self.descending = key, key in self.DESCENDING_FIRST
        self.page = 1
        return await self._refresh()

    @rx.event
    async def go_to(self, page: str):
        if not page.isdigit() or int(page) == self.page:
            return None
        self.page = int(page)
        return await self._refresh()

    @rx.event
    async def next_page(self):
        if self.page < self.pages:
            self.page += 1
            return await self._refresh()
        return None

    @rx.event
    async def prev_page(self):
        if self.page > 1:
            self.page -= 1
            return await self._refresh()
        return None

    @rx.event
    async def set_page_size(self, size: str):
        self.page_size = int(size) if size in PAGE_SIZES else PAGE_SIZE
        self.page = 1
        return await self._refresh()
