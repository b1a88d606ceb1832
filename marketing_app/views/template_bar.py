"""A message editor's template bar (`states/template_picker.TemplatePicker`), on a touch component's canvas panel
and in a normal task's form: "Pick a template" (a menu of the channel's templates, loaded when it opens), "Save
as template" (a name and the workspace switch) and "Create template", which opens the Message templates page on
that channel in a new tab (the editor keeps its unsaved changes)."""

from typing import Any

import reflex as rx

from marketing_app import styles
from marketing_app.states.message_templates import ROUTE


def _choice(m: Any, c: rx.Var[dict[str, str]]) -> rx.Component:  # noqa: ANN401 — a TemplatePicker state class
    return rx.menu.item(
        rx.vstack(
            rx.hstack(rx.text(c["name"], size="2", weight="medium"),
                      rx.cond(c["moderation"] == "failed",
                              rx.badge("Fails moderation", color_scheme="red", size="1", variant="soft")),
                      spacing="2", align="center"),
            rx.text(c["text"], size="1", color=styles.MUTED, class_name="truncate", max_width="300px"),
            spacing="0",
        ),
        on_select=m.pick(c["id"]), class_name="template-choice", height="auto", padding_y="6px",
        custom_attrs={"data-name": c["name"]},
    )


def _picker(m: Any) -> rx.Component:  # noqa: ANN401
    return rx.menu.root(
        rx.menu.trigger(rx.button(rx.icon("file-text", size=13), "Pick a template", size="1", variant="soft",
                                  id="pick-template", type="button")),
        rx.menu.content(
            rx.cond(m.choices.length() > 0, rx.foreach(m.choices, lambda c: _choice(m, c)),
                    rx.menu.item(rx.cond(m.loading, "Loading…", "No template of this channel yet"), disabled=True)),
            max_height="320px", id="template-menu",
        ),
        on_open_change=m.load_choices,
    )


def _save_dialog(m: Any, what: str) -> rx.Component:  # noqa: ANN401
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Save as template"),
            rx.dialog.description(f"Saves {what} as a message template of its channel.", size="2"),
            rx.vstack(
                rx.input(value=m.save_name, on_change=m.set_save_name, placeholder="Template name (≤ 60)",
                         id="save-template-name", width="100%"),
                rx.hstack(rx.switch(checked=m.save_public, on_change=m.set_save_public, id="save-template-public"),
                          rx.text("Shared with the workspace", size="2"), spacing="2", align="center"),
                rx.cond(m.save_error != "", rx.text(m.save_error, size="2", color="var(--red-11)",
                                                    id="save-template-error")),
                rx.flex(rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray")),
                        rx.button("Save", on_click=m.save, id="save-template-ok"), justify="end", spacing="2",
                        width="100%"),
                spacing="3", margin_top="12px",
            ),
            max_width="420px",
        ),
        open=m.save_open, on_open_change=m.set_save_open,
    )


def template_bar(m: Any, *, channel: rx.Var[str] | str, read_only: rx.Var[bool] | None = None,  # noqa: ANN401
                 what: str = "this component's content") -> rx.Component:
    """`m`: the editor's TemplatePicker state; `channel`: its touch component type; `read_only`: hides the picker
    (saving a template changes nothing the editor holds, so it stays)."""
    picker = _picker(m) if read_only is None else rx.cond(~read_only, _picker(m))
    return rx.hstack(
        picker,
        rx.button(rx.icon("save", size=13), "Save as template", size="1", variant="ghost", on_click=m.open_save,
                  id="save-as-template", type="button"),
        rx.spacer(),
        rx.link("Create template", href=ROUTE + "?channel=" + channel, is_external=True, size="1",
                id="create-template-link"),
        _save_dialog(m, what),
        spacing="2", align="center", width="100%", wrap="wrap", id="template-bar",
    )
