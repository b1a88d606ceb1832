"""An admin's table under Settings (users, API keys, frequency caps): loaded through one service call, refused as
a whole for a non-admin — the page then shows the service's refusal instead of the table. One load, so every tab
treats a refusal and a signed-out session alike."""

from collections.abc import Callable, Iterable
from typing import Any

import reflex as rx
from reflex.event import EventSpec

from marketing_app.states.service import Call, run


class AdminTable(rx.State, mixin=True):
    loaded: bool = False
    refused: str = ""
    rows: list[dict[str, str]] = []

    async def _load_rows(self, call: Call[Iterable[Any]], row: Callable[[Any], dict[str, str]]) -> EventSpec | None:
        """Rows from `call(session, actor)`, each made by `row`; a refusal empties the table and is kept."""
        out = await run(self, call)
        self.loaded = True
        if out.signed_out:
            return out.problem()
        if not out.ok or out.value is None:
            self.rows, self.refused = [], out.error
            return None
        self.refused = ""
        self.rows = [row(item) for item in out.value]
        return None
