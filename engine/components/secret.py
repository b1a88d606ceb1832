"""Secret fields of component configs: a type of their own, so a credential never sits in a flow.

A config field annotated `Secret` (one value, e.g. the webhook's signing secret) or `SecretMap` (a map whose
values are secret under some keys, e.g. the webhook's Authorization header) holds, in the stored flow JSON,
only a marker:

- `{"$secret": "<id>"}`: the value is stored apart, encrypted (engine/secrets.py, table `secretvalue`);
- `{"$secret": null}`: dropped when the activity was copied: the copy must set its own (a validation problem);
- a plain string: typed in, on its way to a service that stores it and writes the marker in its place
  (engine/services/secrets.py `absorb`); never persisted;
- `""` / missing: not set.

Parsing a config turns a marker into a `SecretRef`, whose text never shows the value; the channel resolves it
at the moment it sends (engine.secrets.reveal). Which fields are secret is read from the config classes
(`secret_fields`), never from a hand-kept list.
"""

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, PlainSerializer, WithJsonSchema

MARKER = "$secret"
NOT_COPIED = "not copied with the activity: set your own"


@dataclass(frozen=True, slots=True)
class SecretRef:
    """A secret field's parsed value: a stored secret's id, a value typed in but not stored yet (`plain`), or
    `dropped` (not copied). `str()` / `repr()` never contain the value."""

    id: str | None = None
    plain: str | None = field(default=None, repr=False)
    dropped: bool = False

    def __str__(self) -> str:  # the channel groups messages by their options' text: the id keeps nodes apart
        return f"secret:{self.id}" if self.id else "secret:unset"

    __repr__ = __str__

    @property
    def is_set(self) -> bool:
        return bool(self.id or self.plain)


def is_marker(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {MARKER}


def marker(secret_id: str | None) -> dict[str, str | None]:
    return {MARKER: secret_id}


@dataclass(frozen=True)
class SecretMark:
    """Field metadata: this value is secret. Limits are checked on the typed value (the stored one is opaque)."""

    min_length: int = 1
    max_length: int = 1000


@dataclass(frozen=True)
class SecretMapMark:
    """Field metadata: a str -> str map whose values are secret under the keys `secret_key` accepts."""

    secret_key: Callable[[str], bool]
    max_length: int = 1000


def _to_ref(mark: SecretMark) -> Callable[[Any], SecretRef | None]:
    def parse(value: Any) -> SecretRef | None:
        if value is None or value == "" or isinstance(value, SecretRef):
            return value or None
        if is_marker(value):
            secret_id = value[MARKER]
            if secret_id is not None and (not isinstance(secret_id, str) or not secret_id):
                raise ValueError("not a secret reference")
            return SecretRef(id=secret_id, dropped=secret_id is None)
        if isinstance(value, str):
            if len(value) < mark.min_length:
                raise ValueError(f"at least {mark.min_length} characters")
            if len(value) > mark.max_length or "\n" in value or "\r" in value:
                raise ValueError(f"one line of at most {mark.max_length} characters")
            return SecretRef(plain=value)
        raise ValueError("a text or a secret reference")
    return parse


def _map_value(value: Any) -> str | SecretRef:
    if isinstance(value, SecretRef) or isinstance(value, str):
        return value
    if is_marker(value):
        secret_id = value[MARKER]
        return SecretRef(id=secret_id if isinstance(secret_id, str) and secret_id else None,
                         dropped=not (isinstance(secret_id, str) and secret_id))
    raise ValueError("a text or a secret reference")


def _dump(value: SecretRef | str | None) -> Any:
    """What a parsed config dumps to: the marker (a plain value is never written back out)."""
    if isinstance(value, SecretRef):
        return marker(value.id) if value.id or value.dropped else ("" if value.plain is None else "[secret]")
    return value


def Secret(*, min_length: int = 1, max_length: int = 1000) -> Any:  # noqa: N802 — reads as a type
    """The annotation of a secret config field (optional: None when not set)."""
    mark = SecretMark(min_length=min_length, max_length=max_length)
    return Annotated[SecretRef | None, mark, BeforeValidator(_to_ref(mark)), PlainSerializer(_dump),
                     WithJsonSchema({"type": "string", "secret": True, "maxLength": max_length})]


MapValue = Annotated[str | SecretRef, BeforeValidator(_map_value), PlainSerializer(_dump),
                     WithJsonSchema({"type": "string"})]


def SecretMap(secret_key: Callable[[str], bool], *, max_items: int = 20, max_length: int = 1000) -> Any:  # noqa: N802
    """The annotation of a str map with secret values under some keys (HTTP headers)."""
    return Annotated[dict[str, MapValue], SecretMapMark(secret_key, max_length),
                     WithJsonSchema({"type": "object", "additionalProperties": {"type": "string"},
                                     "maxProperties": max_items, "secret_values": True})]


# ------------------------------------------------------------------------------------------------ the registry


@dataclass(frozen=True)
class SecretField:
    name: str  # the config field
    mark: SecretMark | SecretMapMark

    @property
    def is_map(self) -> bool:
        return isinstance(self.mark, SecretMapMark)


_FIELDS: dict[type[BaseModel], list[SecretField]] = {}


def secret_fields(config_class: type[BaseModel]) -> list[SecretField]:
    """The secret fields of a config class, read from its annotations (cached)."""
    found = _FIELDS.get(config_class)
    if found is None:
        found = []
        for name, info in config_class.model_fields.items():
            mark = next((m for m in info.metadata if isinstance(m, SecretMark | SecretMapMark)), None)
            if mark is not None:
                found.append(SecretField(name, mark))
        _FIELDS[config_class] = found
    return found


@dataclass
class Slot:
    """One secret place in a raw config: `path` is "secret" or "headers.Authorization" (the row's `field`)."""

    path: str
    value: Any
    put: Callable[[Any], None]


def slots(config_class: type[BaseModel], raw: Any) -> Iterator[Slot]:
    """The secret places of a raw (JSON) config, with a setter each; a map's values count under its secret keys
    and wherever a marker already stands."""
    if not isinstance(raw, dict):
        return
    for f in secret_fields(config_class):
        if isinstance(f.mark, SecretMapMark):
            values = raw.get(f.name)
            if not isinstance(values, dict):
                continue
            for key in list(values):
                if f.mark.secret_key(str(key)) or is_marker(values[key]):
                    yield Slot(f"{f.name}.{key}", values[key], _setter(values, key))
        elif f.name in raw:
            yield Slot(f.name, raw[f.name], _setter(raw, f.name))


def _setter(container: dict[str, Any], key: str) -> Callable[[Any], None]:
    def put(value: Any) -> None:
        container[key] = value
    return put


def problems(config_class: type[BaseModel], raw: Any) -> list[str]:
    """A dropped secret (a copy's) is a problem to fix before publishing: the copy asks for its own."""
    return [f"{s.path}: {NOT_COPIED}" for s in slots(config_class, raw)
            if is_marker(s.value) and s.value[MARKER] is None]


SECRET_HEADERS = {"authorization", "proxy-authorization", "x-api-key", "cookie", "api-key"}
_SECRET_WORDS = re.compile(r"token|secret|password|passwd|api[-_]?key|auth|signature|credential", re.I)


def is_secret_header(name: str) -> bool:
    """Authorization, Proxy-Authorization, X-Api-Key, Cookie, and any header whose name says it holds a
    credential (…-Token, …-Secret, …-Password, …-Auth…): their values are stored as secrets."""
    return name.strip().lower() in SECRET_HEADERS or bool(_SECRET_WORDS.search(name))
