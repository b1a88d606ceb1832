"""The template bar of a touch component's panel: "Pick a template" (a menu of the channel's templates, loaded
when it opens), "Save as template" (a name and the workspace switch) and "Create template", which opens the
Message templates page on that channel in a new tab (the canvas keeps its unsaved changes)."""

import reflex as rx

from marketing_app import styles
from marketing_app.states.canvas_message_templates import CanvasMessageTemplateState as M
from marketing_app.states.canvas_panel import CanvasPanelState as P
from marketing_app.states.message_templates import ROUTE


def _choice(c: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.menu.item(
        rx.vstack(
            rx.hstack(rx.text(c["name"], size="2", weight="medium"),
                      rx.cond(c["moderation"] == "failed",
                              rx.badge("Fails moderation", color_scheme="red", size="1", variant="soft")),
                      spacing="2", align="center"),
            rx.text(c["text"], size="1", color=styles.MUTED, class_name="truncate", max_width="300px"),
            spacing="0",
        ),
        on_select=M.pick(c["id"]), class_name="template-choice", height="auto", padding_y="6px",
        custom_attrs={"data-name": c["name"]},
    )


def _picker() -> rx.Component:
    return rx.menu.root(
        rx.menu.trigger(rx.button(rx.icon("file-text", size=13), "Pick a template", size="1", variant="soft",
                                  id="pick-template", type="button")),
        rx.menu.content(
            rx.cond(M.choices.length() > 0, rx.foreach(M.choices, _choice),
                    rx.menu.item(rx.cond(M.loading, "Loading…", "No template of this channel yet"), disabled=True)),
            max_height="320px", id="template-menu",
        ),
        on_open_change=M.load_choices,
    )


def _save_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Save as template"),
            rx.dialog.description("Saves this component's content as a message template of its channel.", size="2"),
            rx.vstack(
                rx.input(value=M.save_name, on_change=M.set_save_name, placeholder="Template name (≤ 60)",
                         id="save-template-name", width="100%"),
                rx.hstack(rx.switch(checked=M.save_public, on_change=M.set_save_public),
                          rx.text("Shared with the workspace", size="2"), spacing="2", align="center"),
                rx.cond(M.save_error != "", rx.text(M.save_error, size="2", color="var(--red-11)",
                                                    id="save-template-error")),
                rx.flex(rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray")),
                        rx.button("Save", on_click=M.save, id="save-template-ok"), justify="end", spacing="2",
                        width="100%"),
                spacing="3", margin_top="12px",
            ),
            max_width="420px",
        ),
        open=M.save_open, on_open_change=M.set_save_open,
    )


def template_bar() -> rx.Component:
    return rx.hstack(
        rx.cond(~P.read_only, _picker()),
        rx.button(rx.icon("save", size=13), "Save as template", size="1", variant="ghost", on_click=M.open_save,
                  id="save-as-template", type="button"),
        rx.spacer(),
        rx.link("Create template", href=ROUTE + "?channel=" + P.kind, is_external=True, size="1",
                id="create-template-link"),
        _save_dialog(),
        spacing="2", align="center", width="100%", wrap="wrap", id="template-bar",
    )
