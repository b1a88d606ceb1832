"""The table of an admin's Settings tab (users, API keys, frequency caps): fixed column widths, one row per state
row, and what an empty table means said in words — the view side of `states/admin_table.py`."""

from collections.abc import Callable
from typing import Any

import reflex as rx


def settings_table(*, columns: list[tuple[str, str]], rows: Any, row: Callable[[Any], rx.Component],
                   table_id: str, empty: str = "") -> rx.Component:
    """`columns`: (header, width; "" = the rest). `empty`: the sentence shown when there is no row (`{id}-empty`,
    table ids end in "-table")."""
    head = rx.el.thead(rx.el.tr(*[rx.el.th(label, style={"width": width} if width else {})
                                  for label, width in columns]))
    parts: list[rx.Component] = [rx.el.table(head, rx.el.tbody(rx.foreach(rows, row)),
                                             class_name="settings-table", id=table_id)]
    if empty:
        parts.append(rx.cond(rows.length() == 0,
                             rx.center(rx.text(empty, size="2", class_name="muted"), padding="32px",
                                       id=table_id.removesuffix("-table") + "-empty")))
    return rx.box(*parts, class_name="panel")
