"""/audiences/new and /audiences/<id>: the rule builder — groups of conditions over tags, attributes, profile
columns, behaviour events and other audiences, with the estimated size and a sample of matching customers."""

import reflex as rx

from engine.shared.audiences import COLUMN_FIELDS
from marketing_app.states.audience_builder import AUDIENCE_OPS, EVENT_OPS, KINDS, VALUE_OPS
from marketing_app.states.audience_builder import AudienceBuilderState as S
from marketing_app.states.auth import AuthState
from marketing_app.templates import template

STYLESHEET = "/audiences/audiences.css"


def _select(items: list[tuple[str, str]], value: rx.Var[str], on_change: object, css: str,
            width: str = "150px") -> rx.Component:
    return rx.select.root(
        rx.select.trigger(class_name=css, width=width),
        rx.select.content(*[rx.select.item(label, value=key) for key, label in items]),
        value=value, on_change=on_change, size="2",
    )


def _text(r: rx.Var[dict[str, str]], part: str, placeholder: str, width: str) -> rx.Component:
    return rx.debounce_input(
        rx.input(value=r[part], on_change=lambda v: S.set_part(r["key"], part, v), placeholder=placeholder,
                 size="2", width=width, class_name=f"cond-{part}"),
        debounce_timeout=400,
    )


def _condition(r: rx.Var[dict[str, str]]) -> rx.Component:
    kind = r["kind"]
    name = rx.match(
        kind,
        ("column", _select([(c, c) for c in COLUMN_FIELDS], r["field"], lambda v: S.set_part(r["key"], "field", v),
                           "cond-field", "150px")),
        ("audience", rx.select.root(
            rx.select.trigger(placeholder="Choose an audience", class_name="cond-field", width="200px"),
            rx.select.content(rx.foreach(S.audiences, lambda a: rx.select.item(a[1], value=a[0]))),
            value=r["field"], on_change=lambda v: S.set_part(r["key"], "field", v), size="2")),
        _text(r, "field", rx.match(kind, ("tag", "tag name"), ("event", "event name"), "attribute name"), "170px"),
    )
    op = rx.match(
        kind,
        ("event", _select(EVENT_OPS, r["op"], lambda v: S.set_part(r["key"], "op", v), "cond-op", "130px")),
        ("audience", _select(AUDIENCE_OPS, r["op"], lambda v: S.set_part(r["key"], "op", v), "cond-op", "130px")),
        _select(VALUE_OPS, r["op"], lambda v: S.set_part(r["key"], "op", v), "cond-op", "190px"),
    )
    tail = rx.match(
        kind,
        ("event", rx.hstack(rx.text("at least", size="2"), _text(r, "times", "N", "70px"),
                            rx.text("times in the last", size="2"), _text(r, "days", "D", "70px"),
                            rx.text("days", size="2"), align="center", spacing="2")),
        ("audience", rx.fragment()),
        rx.cond((r["op"] == "exists") | (r["op"] == "missing"), rx.fragment(),
                _text(r, "value", rx.cond((r["op"] == "in") | (r["op"] == "not_in"), "a, b, c", "value"),
                      "200px")),
    )
    return rx.hstack(
        _select(KINDS, kind, lambda v: S.set_part(r["key"], "kind", v), "cond-kind", "160px"),
        name, op, tail,
        rx.icon_button(rx.icon("x", size=14), size="1", variant="ghost", color_scheme="gray",
                       on_click=S.remove(r["key"]), class_name="remove-cond", aria_label="Remove condition"),
        align="center", spacing="2", wrap="wrap", class_name="rule-cond",
        padding_left=rx.cond(r["group"] == "root", "0", "24px"),
        custom_attrs={"data-key": r["key"], "data-group": r["group"]},
    )


def _group_header(r: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.hstack(
        rx.text("Group: match", size="2", weight="medium"),
        _select([("all", "all"), ("any", "any")], r["comb"], lambda v: S.set_part(r["key"], "comb", v),
                "group-comb", "90px"),
        rx.text("of these", size="2"),
        rx.button(rx.icon("plus", size=13), "Condition", size="1", variant="soft", on_click=S.add_condition(r["key"]),
                  class_name="add-to-group"),
        rx.spacer(),
        rx.button("Remove group", size="1", variant="ghost", color_scheme="red", on_click=S.remove(r["key"])),
        align="center", spacing="2", width="100%", class_name="rule-group-head", padding_top="10px",
        border_top="1px dashed var(--gray-a6)", custom_attrs={"data-key": r["key"]},
    )


def _builder() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.text("Customers who match", size="2", weight="medium"),
            _select([("all", "all"), ("any", "any")], S.root, S.set_root, "root-comb", "90px"),
            rx.text("of the following", size="2"),
            align="center", spacing="2",
        ),
        rx.foreach(S.rows, lambda r: rx.cond(r["type"] == "group", _group_header(r), _condition(r))),
        rx.hstack(
            rx.button(rx.icon("plus", size=14), "Condition", variant="soft", on_click=S.add_condition("root"),
                      id="add-condition"),
            rx.button(rx.icon("list_plus", size=14), "Group", variant="soft", color_scheme="gray",
                      on_click=S.add_group, id="add-group"),
            spacing="3",
        ),
        spacing="3", width="100%", id="rule-builder",
    )


def _json() -> rx.Component:
    return rx.debounce_input(
        rx.text_area(value=S.json_text, on_change=S.set_json, rows="16", width="100%", id="rule-json",
                     font_family="monospace"),
        debounce_timeout=600,
    )


def _estimate() -> rx.Component:
    return rx.vstack(
        rx.text("Estimated size", size="2", class_name="muted"),
        rx.hstack(
            rx.heading(rx.cond(S.size != "", S.size, "—"), size="7", id="estimate",
                       custom_attrs={"data-size": S.raw_size}),
            rx.cond(S.estimating, rx.spinner(size="2")),
            align="center", spacing="3",
        ),
        rx.cond(S.counted_at != "", rx.text("counted ", S.counted_at, size="1", class_name="muted")),
        rx.cond(S.problems.length() > 0,
                rx.callout(rx.foreach(S.problems, lambda p: rx.text(p, size="2")), icon="info",
                           color_scheme="amber", id="rule-problems", width="100%")),
        rx.cond(S.sample.length() > 0, rx.vstack(
            rx.text("Sample of matching customers", size="2", class_name="muted"),
            rx.el.table(rx.el.tbody(rx.foreach(S.sample, lambda c: rx.el.tr(
                rx.el.td(c["qaid"], title=c["qaid"]), rx.el.td(c["name"], title=c["name"]),
                rx.el.td(c["email"], title=c["email"]), class_name="sample-row"))),
                class_name="sample-table"),
            spacing="1", id="sample")),
        spacing="2", class_name="panel", padding="16px", width="320px", min_width="320px", align_self="start",
        id="estimate-panel",
    )


def _form() -> rx.Component:
    writer = AuthState.role != "manager"
    return rx.vstack(
        rx.hstack(
            rx.input(value=S.name, on_change=S.set_name, placeholder="Audience name (at most 60 characters)",
                     max_length=60, width="360px", id="audience-name", size="2"),
            rx.spacer(),
            rx.segmented_control.root(
                rx.segmented_control.item("Builder", value="builder"),
                rx.segmented_control.item("JSON", value="json"),
                value=S.mode, on_change=S.set_mode, id="mode",
            ),
            width="100%", align="center",
        ),
        rx.hstack(
            rx.box(rx.cond(S.mode == "json", _json(), _builder()), class_name="panel", padding="16px", flex="1",
                   min_width="0"),
            _estimate(),
            align="start", spacing="4", width="100%",
        ),
        rx.hstack(
            rx.link(rx.button("Cancel", variant="soft", color_scheme="gray"), href="/audiences"),
            rx.cond(writer, rx.button("Save", on_click=S.save, id="save-audience"),
                    rx.badge("Read-only", color_scheme="gray", size="2", id="read-only")),
            spacing="3", justify="end", width="100%",
        ),
        spacing="4", width="100%",
    )


def _page() -> rx.Component:
    return rx.vstack(
        rx.el.link(rel="stylesheet", href=STYLESHEET),
        rx.hstack(rx.link(rx.icon("arrow_left", size=16), href="/audiences", aria_label="Back to audiences"),
                  rx.heading(S.title, size="6", id="page-title"), align="center", spacing="3"),
        rx.cond(S.error != "",
                rx.callout(S.error, icon="triangle_alert", color_scheme="red", id="builder-error", width="100%"),
                rx.cond(S.loaded, _form(), rx.center(rx.spinner(size="3"), padding="40px"))),
        spacing="4", width="100%", id="audience-builder",
    )


@template(route="/audiences/new", title="New audience", on_load=S.load)
def new_audience() -> rx.Component:
    return _page()


@template(route="/audiences/[audience_id]", title="Edit audience", on_load=S.load)
def edit_audience() -> rx.Component:
    return _page()
