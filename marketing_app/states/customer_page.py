"""What every section of a customer's profile (`/customers/<id>`) does alike: read the id from the URL, fetch its
view through one service call, and keep the service's refusal ("Customer not found." for an id out of reach).
The profile and its consent section mix this in and say only what they fetch and how they show it."""

from typing import Any

import reflex as rx

from engine.services.customers import NOT_FOUND
from marketing_app.routes import segment
from marketing_app.states.service import Call, run


class CustomerPage(rx.State, mixin=True):
    customer_id: int = 0
    error: str = ""

    def _fetch(self, customer_id: int) -> Call[Any]:
        raise NotImplementedError

    def _show(self, view: Any) -> None:
        raise NotImplementedError

    def _missing(self, error: str) -> None:
        self.error = error

    async def _reload(self):  # noqa: ANN202 — an event's return (a redirect or toast), as Reflex takes it
        out = await run(self, self._fetch(self.customer_id))
        if out.signed_out:
            return out.problem()
        if out.error or out.value is None:
            self._missing(out.error or NOT_FOUND)
            return None
        self._show(out.value)
        return None

    @rx.event
    async def load(self):
        wanted = segment(self.router.url.path, 1)  # /customers/<id>
        self.reset()
        if not wanted.isdigit():
            self._missing(NOT_FOUND)
            return None
        self.customer_id = int(wanted)
        return await self._reload()
