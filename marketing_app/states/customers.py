"""The Customers page (`/customers`): one page of the workspace's customers found by a prefix of their QAID,
name, email or phone (`engine.services.customers.search_customers`), sorted and paged by the engine. Phones
arrive masked for everyone but admins: the page shows what the service gives. `?q=` in the URL searches."""

from collections.abc import Collection
from typing import ClassVar

import reflex as rx

from engine.services import customers as customers_service
from engine.services.customers import COUNT_LIMIT, CustomerPage, CustomerRow
from marketing_app.routes import customer_route
from marketing_app.states.paged_list import PagedList
from marketing_app.states.service import run

ROUTE = "/customers"
#: the sorts that start descending (the newest first)
_DESCENDING_FIRST = {"created_at"}


def row(customer: CustomerRow) -> dict[str, str]:
    return {"id": str(customer.id), "qaid": customer.qaid, "name": customer.name or "—",
            "phone": customer.phone or "—", "email": customer.email or "—",
            "created": customer.created_at.strftime("%Y-%m-%d %H:%M"), "href": customer_route(customer.id)}


class CustomersState(PagedList, rx.State):
    SORTABLE: ClassVar[Collection[str]] = customers_service.SORTS
    DESCENDING_FIRST: ClassVar[frozenset[str]] = frozenset(_DESCENDING_FIRST)
    query: str = ""
    sort: str = "qaid"
    descending: bool = False
    total: int = 0
    more: bool = False
    rows: list[dict[str, str]] = []
    error: str = ""
    loaded: bool = False

    @rx.var
    def total_label(self) -> str:
        return f"{COUNT_LIMIT:,}+ (refine the search)" if self.more else f"{self.total:,}"

    def _show(self, data: CustomerPage) -> None:
        self.rows = [row(c) for c in data.rows]
        self.total, self.more, self.pages, self.page = data.total, data.more, data.pages, data.page
        self.error, self.loaded = "", True

    async def _refresh(self):
        query, sort, descending, page, size = self.query, self.sort, self.descending, self.page, self.page_size
        out = await run(self, lambda s, u: customers_service.search_customers(
            session=s, actor=u, query=query, sort=sort, descending=descending, page=page, page_size=size))
        if out.signed_out:
            return out.problem()
        if out.error or out.value is None:
            self.rows, self.total, self.more, self.pages, self.page = [], 0, False, 1, 1
            self.error, self.loaded = out.error or "Not found.", True
            return None
        self._show(out.value)
        return None

    @rx.event
    async def load(self):
        wanted = str(self.router.url.query_parameters.get("q", "") or "")
        self.reset()
        self.query = wanted.strip()
        return await self._refresh()

    @rx.event
    async def submit_search(self, form: dict[str, str]):
        self.query, self.page = (form.get("query") or "").strip(), 1
        return await self._refresh()

    @rx.event
    async def clear_search(self):
        self.query, self.page = "", 1
        return await self._refresh()

