"""What the canvas needs to know about a component type, declared by the type itself (so adding a type is one
module): `Meta` on the component class (icon, palette blurb, summary line, starter config, splits, end cap) and
`hints(...)` on its config fields (`json_schema_extra`), which the configuration panel reads from the JSON schema
under the key `HINTS_KEY`. Pure data and pure functions: no Reflex, no database.
"""

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypedDict, Unpack, cast

from pydantic import JsonValue

#: where a field's widget hints sit in its JSON schema
HINTS_KEY = "ui"

Widget = Literal["message", "time", "audience", "earlier_send"]


class FieldHints(TypedDict, total=False):
    """How the configuration panel shows one config field (every key optional)."""

    #: message: a text editor with variable chips and a character count; time: a HH:MM picker; audience: a
    #: picker of the workspace's audiences (the value is the audience id); earlier_send: a picker of the sending
    #: components before this one
    widget: Widget
    #: the variables a message editor offers as chips, e.g. "{name}"
    chips: list[str]
    #: a message editor of SMS text: its count also says how many SMS segments the text takes
    sms_segments: bool
    #: the field shows only while another field of the same object has one of these values: {field: [values]};
    #: a missing value counts as that field's default
    shown_when: dict[str, list[str]]
    #: labels of an enum's values in its select (others: the value, capitalised)
    enum_labels: dict[str, str]
    #: a list field: the noun of one item ("Group" → "Group 2", "Add group")
    item_name: str
    #: a list field whose items are the component's branches ("Group 1 · branch")
    branch_items: bool
    #: a list field whose items carry a `ratio` that must total 100 % (a total row; a new item takes the rest)
    ratio_total: bool
    #: a list field: the item "Add" appends (default: from the item schema's defaults)
    new_item: dict[str, Any]
    #: a list of conditions: the placeholder of a condition's value box
    value_placeholder: str


def hints(**given: Unpack[FieldHints]) -> dict[str, JsonValue]:
    """`json_schema_extra` for a config field: `Field(..., json_schema_extra=hints(widget="time"))`."""
    return {HINTS_KEY: cast(JsonValue, dict(given))}


def hints_of(schema: Mapping[str, Any]) -> FieldHints:
    """The hints in a field's (JSON) schema; empty when it declares none."""
    found = schema.get(HINTS_KEY)
    return cast(FieldHints, found) if isinstance(found, dict) else FieldHints()


@dataclass(frozen=True)
class SummaryContext:
    """What a summary line may name besides the config: audiences by id, other components by node id."""

    audiences: Mapping[int, str] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)


#: (raw config, possibly incomplete or invalid; context) -> the line under the card's name ("" = nothing to say)
Summary = Callable[[Mapping[str, Any], SummaryContext], str]


def no_summary(config: Mapping[str, Any], ctx: SummaryContext) -> str:
    return ""


@dataclass(frozen=True)
class Meta:
    """A component type as the canvas shows it."""

    #: lucide icon (its component name in lucide-react, e.g. "MessageSquareText")
    icon: str
    #: one line under the palette item
    blurb: str
    #: place in its palette group (lower first)
    order: int = 100
    summary: Summary = no_summary
    #: the config a new component starts with: enough structure for its branches to show, never a guessed value
    starter: Mapping[str, Any] = field(default_factory=dict)
    #: a ratio split (groups with a ratio each): branch labels show the ratio
    splits: bool = False
    #: the route ends here: drawn as a small end cap with no branches
    terminal: bool = False

    def starter_config(self) -> dict[str, Any]:
        """A fresh copy of the starter config (callers may change it)."""
        return copy.deepcopy(dict(self.starter))


# ------------------------------------------------------------------------------------------------ summary helpers


def short(text: Any, limit: int = 44) -> str:
    """One line of at most `limit` characters (whitespace collapsed, an ellipsis where cut)."""
    value = " ".join(str(text or "").split())
    return value if len(value) <= limit else value[: limit - 1].rstrip() + "…"


def plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def groups_summary(config: Mapping[str, Any], ctx: SummaryContext) -> str:
    """Condition judgments: "2 groups + others"."""
    groups = config.get("groups") or []
    if not isinstance(groups, list) or not groups:
        return ""
    return f"{plural(len(groups), 'group')} + others"


def field_summary(name: str, *fallbacks: str) -> Summary:
    """The summary of a message: the first non-empty of these text fields, shortened."""

    def summary(config: Mapping[str, Any], ctx: SummaryContext) -> str:
        return short(next((config.get(n) for n in (name, *fallbacks) if config.get(n)), None))

    return summary
