"""Variables in message content: {name}, {qaid}, {phone}, {email}, component extras such as {short_link}, and
any other {key} from the customer's attributes (then tags). A missing value renders as an empty text."""

import re
from functools import lru_cache
from typing import Any

from engine.components.base import CustomerView
from engine.components.conditions import lookup

VARIABLE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_.]*)\}")
BUILTINS = ("name", "qaid", "phone", "email")


def variables(template: str) -> list[str]:
    return VARIABLE.findall(template or "")


def template_problems(field: str, template: str) -> list[str]:
    """Stray braces outside well-formed {variables}."""
    rest = VARIABLE.sub("", template or "")
    if "{" in rest or "}" in rest:
        return [f"{field}: unmatched brace; write variables as {{name}} or {{attribute_key}}"]
    return []


def value_of(customer: CustomerView, key: str, extra: dict[str, Any] | None = None) -> str:
    if extra and key in extra:
        found: Any = extra[key]
    elif key in BUILTINS:
        found = getattr(customer, key)
    else:
        found = lookup(customer.attributes, key)
        if found is None:
            found = customer.tags.get(key)
    return "" if found is None else str(found)


@lru_cache(maxsize=1024)
def _parts(template: str) -> tuple[tuple[str, str | None], ...]:
    """The template split once into (literal, variable) pairs; variable None after the last literal."""
    parts: list[tuple[str, str | None]] = []
    last = 0
    for m in VARIABLE.finditer(template):
        parts.append((template[last:m.start()], m.group(1)))
        last = m.end()
    parts.append((template[last:], None))
    return tuple(parts)


def render(template: str, customer: CustomerView, extra: dict[str, Any] | None = None) -> str:
    parts = _parts(template or "")
    if len(parts) == 1:
        return parts[0][0]
    out = []
    for literal, key in parts:
        out.append(literal)
        if key is not None:
            out.append(value_of(customer, key, extra))
    return "".join(out)
