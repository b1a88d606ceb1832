"""The right-hand configuration panel, generated from each component type's config schema.

`rows(...)` walks the pydantic JSON schema of the selected component (engine.flow.registry: spec.schema()) with
its current config and returns flat `FieldRow`s that one `rx.foreach` renders: plain fields by JSON type (text,
number, switch, select for enums, checkboxes for lists of choices, key/value lists for string maps), lists of
objects as sections of numbered items with Add / Remove, condition rows (subject · operator · value), and the
widgets a field asks for in its hints (engine.components.meta.hints, in the schema under "ui"): audience pickers,
message editors with variable chips, time-of-day pickers, ratio totals that must reach 100 %, the earlier send a
Result Judgment reads, enum labels, item names, fields shown only for some value of another one. Nothing here
names a component type: a new type gets its panel from its own module.

Pure: no Reflex state here; paths are dotted and 0-based ("groups.0.conditions.1.value"); the engine's messages
count from 1 ("groups.1.conditions.2.value"), `one_based` converts.
"""

import copy
import re
from dataclasses import dataclass, field
from typing import Any

from engine.components.conditions import OP_LABELS, Op
from engine.components.meta import hints_of
from engine.components.secret import MARKER, SecretMapMark, is_marker, secret_fields
from engine.flow.moderation import segment_label
from engine.flow.registry import get_spec

Config = dict[str, Any]


@dataclass
class Choice:
    value: str = ""
    label: str = ""
    checked: bool = False


@dataclass
class FieldRow:
    key: str = ""  # React key: changes when the input must be re-created with a new default value
    path: str = ""  # dotted, 0-based
    kind: str = "text"
    label: str = ""
    help: str = ""
    value: str = ""
    value2: str = ""  # kv: the value; cond: the operator
    value3: str = ""  # cond: the compared value; secret / kv-secret: "set", "not copied" or "" (never the value)
    subject: str = ""  # cond: the name of the compared field ("tag", "property"; "" for results)
    subject_label: str = ""
    checked: bool = False
    options: list[Choice] = field(default_factory=list)
    chips: list[str] = field(default_factory=list)
    depth: int = 0
    error: str = ""
    required: bool = False
    placeholder: str = ""
    count: str = ""  # "12 / 500"
    ok: bool = True  # total rows: the ratios reach 100
    removable: bool = False
    index: int = 0  # kv: the pair's position


# ------------------------------------------------------------------------------------------------ paths


def split_path(path: str) -> list[str | int]:
    return [int(p) if p.isdigit() else p for p in path.split(".") if p != ""]


def one_based(path: str) -> str:
    return ".".join(str(int(p) + 1) if p.isdigit() else p for p in path.split("."))


def get_at(config: Any, path: str, default: Any = None) -> Any:
    current = config
    for part in split_path(path):
        if isinstance(part, int) and isinstance(current, list) and 0 <= part < len(current):
            current = current[part]
        elif isinstance(part, str) and isinstance(current, dict) and part in current:
            current = current[part]
        else:
            return default
    return current


def set_at(config: Config, path: str, value: Any, *, remove: bool = False) -> Config:
    """A copy of `config` with `value` at `path` (containers created on the way); remove=True deletes it."""
    out = copy.deepcopy(config) if isinstance(config, dict) else {}
    parts = split_path(path)
    current: Any = out
    for i, part in enumerate(parts[:-1]):
        nxt = parts[i + 1]
        if isinstance(current, list):
            while len(current) <= int(part):
                current.append({})
            if not isinstance(current[int(part)], dict | list):
                current[int(part)] = [] if isinstance(nxt, int) else {}
            current = current[int(part)]
        else:
            if not isinstance(current.get(part), dict | list):
                current[part] = [] if isinstance(nxt, int) else {}
            current = current[part]
    last = parts[-1]
    if isinstance(current, list):
        if remove:
            if 0 <= int(last) < len(current):
                current.pop(int(last))
        else:
            while len(current) <= int(last):
                current.append(None)
            current[int(last)] = value
    elif remove:
        current.pop(last, None)
    else:
        current[last] = value
    return out


# ------------------------------------------------------------------------------------------------ schema


def _resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        return root.get("$defs", {}).get(ref.split("/")[-1], {})
    return schema


def schema_at(root: dict[str, Any], path: str) -> dict[str, Any]:
    """The (resolved) schema of the value at `path`."""
    current = root
    for part in split_path(path):
        current = _resolve(current, root)
        if isinstance(part, int):
            current = current.get("items", {})
        elif "properties" in current:
            current = current["properties"].get(part, {})
        else:
            extra = current.get("additionalProperties")
            current = extra if isinstance(extra, dict) else {}
    return _resolve(current, root)


def _types(schema: dict[str, Any]) -> set[str]:
    if "type" in schema:
        return {schema["type"]}
    return {s.get("type") for s in schema.get("anyOf", []) if isinstance(s, dict) and s.get("type")}


def _is_condition(schema: dict[str, Any]) -> bool:
    props = schema.get("properties", {})
    return "op" in props and "value" in props


def _subject(schema: dict[str, Any]) -> str:
    return next((k for k in schema.get("properties", {}) if k not in ("op", "value")), "")


def starter_item(root: dict[str, Any], item_schema: dict[str, Any]) -> Any:
    """A new list item: the schema's defaults, with one starter row in each required non-empty list."""
    schema = _resolve(item_schema, root)
    if schema.get("type") != "object" and "properties" not in schema:
        return ""
    item: Config = {}
    for name, prop in schema.get("properties", {}).items():
        prop = _resolve(prop, root)
        if "default" in prop:
            item[name] = copy.deepcopy(prop["default"])
        elif prop.get("type") == "array" and prop.get("minItems", 0) >= 1:
            item[name] = [starter_item(root, prop.get("items", {}))]
    return item


# ------------------------------------------------------------------------------------------------ values


def value_text(value: Any) -> str:
    """A condition value as the text box shows it: lists comma-separated."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(value_text(v) for v in value)
    return str(value)


def parse_value(op: str, text: str) -> Any:
    """What the value box means for `op`: a list for is one of / is none of, true/false/none for exists."""
    text = (text or "").strip()
    if op in (Op.IN, Op.NOT_IN):
        return [p.strip() for p in text.split(",") if p.strip()]
    if op == Op.EXISTS:
        return {"true": True, "false": False}.get(text.lower())
    return text or None


def parse_input(schema: dict[str, Any], text: str) -> tuple[Any, bool]:
    """(value, remove) for what was typed into a field of `schema`: numbers become numbers (a wrong one is
    kept as typed, so the engine's validation names it); an empty optional number is removed."""
    types = _types(schema)
    text = text if isinstance(text, str) else str(text)
    if types & {"integer", "number"} and "string" not in types:
        stripped = text.strip()
        if not stripped:
            return None, True
        try:
            return (int(stripped) if "integer" in types else float(stripped)), False
        except ValueError:
            return stripped, False
    return text, False


# ------------------------------------------------------------------------------------------------ rows


@dataclass
class Context:
    """What the hand-made widgets need besides the schema."""

    component_type: str
    gen: int = 0
    audiences: list[tuple[int, str]] = field(default_factory=list)
    sources: list[tuple[str, str]] = field(default_factory=list)  # Result Judgment: (node id, label)
    errors: dict[str, str] = field(default_factory=dict)  # 1-based path -> message
    used: set[str] = field(default_factory=set)  # the errors a row shows next to its field
    replacing: set[str] = field(default_factory=set)  # secret rows whose "replace" was clicked (their `secret_key`)

    def error(self, path: str) -> str:
        """The message for the field at the 0-based `path` ("" if none); remembered as shown."""
        key = one_based(path)
        message = self.errors.get(key, "")
        if message:
            self.used.add(key)
        return message

    def unshown(self, messages: list[str]) -> list[str]:
        """Messages no row shows (cross-field rules, e.g. the ratios' total): the panel lists these on top."""
        return [m for m in messages if m.partition(": ")[0] not in self.used]


def describe_path(component_type: str, path: str) -> str:
    """A 1-based engine path in the panel's words: "groups.1.conditions.2.value" → "Group 1 › Condition 2 ›
    Value"."""
    spec = get_spec(component_type)
    if spec is None:
        return path
    root = spec.schema()
    words: list[str] = []
    zero: list[str] = []
    schema: dict[str, Any] = root
    parts = path.split(".")
    for i, part in enumerate(parts):
        if part.isdigit():
            noun = hints_of(schema).get("item_name", "Item") if i else "Item"
            words[-1:] = [f"{noun} {part}"]
            zero.append(str(int(part) - 1))
            continue
        zero.append(part)
        schema = schema_at(root, ".".join(zero))
        words.append(str(schema.get("title") or part.replace("_", " ").capitalize()))
    return " › ".join(words)


def humanize(component_type: str, message: str) -> str:
    """An engine message "path: text" with the path in the panel's words."""
    path, sep, text = message.partition(": ")
    if sep and re.fullmatch(r"[\w.]+", path):
        return f"{describe_path(component_type, path)}: {text}"
    return message


def problems_by_path(messages: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for message in messages:
        path, sep, text = message.partition(": ")
        if sep and re.fullmatch(r"[\w.]+", path):
            out.setdefault(path, text)
    return out


def rows(component_type: str, config: Config, ctx: Context) -> list[FieldRow]:
    spec = get_spec(component_type)
    if spec is None:
        return []
    root = spec.schema()
    out: list[FieldRow] = []
    _object(out, root, root, config or {}, "", 0, ctx)
    return out


def _visible(schema: dict[str, Any], config: Config, prop: dict[str, Any]) -> bool:
    """Whether a field shows: its `shown_when` hint against the value of the other field of the same object (or
    that field's default)."""
    for other, values in (hints_of(prop).get("shown_when") or {}).items():
        default = schema.get("properties", {}).get(other, {}).get("default")
        if str(config.get(other) or default or "") not in values:
            return False
    return True


def _key(ctx: Context, path: str) -> str:
    return f"{ctx.gen}:{path}"


def _object(out: list[FieldRow], root: dict[str, Any], schema: dict[str, Any], value: Any, path: str, depth: int,
            ctx: Context) -> None:
    schema = _resolve(schema, root)
    value = value if isinstance(value, dict) else {}
    required = set(schema.get("required", []))
    for name, prop in schema.get("properties", {}).items():
        if not _visible(schema, value, prop):
            continue
        sub = f"{path}.{name}" if path else name
        _field(out, root, _resolve(prop, root), value.get(name, prop.get("default")), sub, name, depth, ctx,
               name in required)


def _base(ctx: Context, schema: dict[str, Any], path: str, kind: str, depth: int, required: bool) -> FieldRow:
    return FieldRow(key=_key(ctx, path), path=path, kind=kind, label=str(schema.get("title") or path.split(".")[-1]),
                    help=str(schema.get("description") or ""), depth=depth, required=required,
                    error=ctx.error(path))


def _field(out: list[FieldRow], root: dict[str, Any], schema: dict[str, Any], value: Any, path: str, name: str,
           depth: int, ctx: Context, required: bool) -> None:
    types = _types(schema)
    hint = hints_of(schema)
    widget = hint.get("widget")
    if widget == "audience":
        row = _base(ctx, schema, path, "select", depth, required)
        row.value = str(value) if isinstance(value, int) else ""
        row.options = [Choice(str(i), n) for i, n in ctx.audiences]
        row.placeholder = "Choose an audience"
        out.append(row)
        return
    if widget == "earlier_send":
        row = _base(ctx, schema, path, "select", depth, required)
        row.value = str(value or "")
        row.options = [Choice(i, label) for i, label in ctx.sources]
        row.placeholder = "Choose an earlier send" if ctx.sources else "Add a Marketing Touch or Data Push before it"
        out.append(row)
        return
    if schema.get("secret"):
        _secret(out, ctx, schema, value, path, depth, required)
        return
    if "enum" in schema and "string" in types:
        row = _base(ctx, schema, path, "select", depth, required)
        row.value = str(value or "")
        labels = hint.get("enum_labels") or {}
        row.options = [Choice(str(v), labels.get(str(v), str(v).replace("_", " ").capitalize()))
                       for v in schema["enum"]]
        row.placeholder = "Choose"
        out.append(row)
        return
    if "boolean" in types:
        row = _base(ctx, schema, path, "switch", depth, required)
        row.checked = bool(value)
        out.append(row)
        return
    if types & {"integer", "number"} and not types & {"string", "array"}:
        row = _base(ctx, schema, path, "ratio" if name == "ratio" else "number", depth, required)
        row.value = "" if value is None else str(value)
        low, high = schema.get("minimum"), schema.get("maximum")
        for alt in schema.get("anyOf", []):
            low, high = alt.get("minimum", low), alt.get("maximum", high)
        row.placeholder = f"{low}–{high}" if low is not None and high is not None else ""
        out.append(row)
        return
    if "array" in types and schema.get("items"):
        item = _resolve(schema["items"], root)
        if "enum" in item:
            row = _base(ctx, schema, path, "multi", depth, required)
            chosen = set(value or [])
            row.options = [Choice(str(v), str(v).replace("_", " "), str(v) in chosen) for v in item["enum"]]
            out.append(row)
            return
        _list(out, root, schema, item, value if isinstance(value, list) else [], path, name, depth, ctx, required)
        return
    if "object" in types and isinstance(schema.get("additionalProperties"), dict):
        _pairs(out, schema, value if isinstance(value, dict) else {}, path, depth, ctx, required)
        return
    if "string" in types or not types:
        text = "" if value is None else str(value)
        if widget in ("time", "message"):
            kind = str(widget)
        elif int(schema.get("maxLength", 0)) > 2000:
            kind = "textarea"
        else:
            kind = "text"
        row = _base(ctx, schema, path, kind, depth, required)
        row.value = text
        if kind == "message":
            row.chips = list(hint.get("chips") or [])
        if schema.get("maxLength") and kind in ("message", "textarea"):
            row.count = f"{len(text)} / {schema['maxLength']}"
            if hint.get("sms_segments"):  # SMS content: segments before variables (the signature adds its own)
                row.count += f" · {segment_label(text)}"
        out.append(row)


def _list(out: list[FieldRow], root: dict[str, Any], schema: dict[str, Any], item: dict[str, Any], items: list[Any],
          path: str, name: str, depth: int, ctx: Context, required: bool) -> None:
    head = _base(ctx, schema, path, "section", depth, required)
    out.append(head)
    low, high = int(schema.get("minItems", 0)), int(schema.get("maxItems", 100))
    hint = hints_of(schema)
    noun = hint.get("item_name", "Item")
    for i, value in enumerate(items):
        sub = f"{path}.{i}"
        if _is_condition(item):
            row = FieldRow(key=_key(ctx, sub), path=sub, kind="cond", depth=depth + 1, removable=len(items) > low,
                           error=ctx.error(sub))
            subject = _subject(item)
            row.subject = subject
            row.subject_label = str(item["properties"][subject].get("title", subject)) if subject else ""
            row.value = str(value.get(subject, "") or "") if isinstance(value, dict) and subject else ""
            op = str(value.get("op", "eq")) if isinstance(value, dict) else "eq"
            row.value2 = op
            row.value3 = value_text(value.get("value")) if isinstance(value, dict) else ""
            row.options = [Choice(o.value, OP_LABELS[o]) for o in Op]
            row.placeholder = _value_placeholder(hint.get("value_placeholder", ""), op)
            for part in ("value", "op", subject):
                row.error = row.error or ctx.error(f"{sub}.{part}")
            out.append(row)
            continue
        title = f"{noun} {i + 1}"
        if hint.get("branch_items"):
            title = f"{noun} {i + 1} · branch"
        out.append(FieldRow(key=_key(ctx, sub), path=sub, kind="item", label=title, depth=depth + 1,
                            removable=len(items) > low, error=ctx.error(sub)))
        _object(out, root, item, value, sub, depth + 1, ctx)
    if len(items) < high:
        out.append(FieldRow(key=_key(ctx, path + ".+"), path=path, kind="add", label=f"Add {noun.lower()}",
                            depth=depth))
    if hint.get("ratio_total"):
        ratios = [v.get("ratio") for v in items if isinstance(v, dict)]
        total = sum(r for r in ratios if isinstance(r, int))
        out.append(FieldRow(key=_key(ctx, path + ".total"), path=path, kind="total", depth=depth,
                            label=f"Total {total}%", ok=total == 100 and len(items) >= 2,
                            help="The ratios must add up to 100%." if total != 100 else ""))


def _value_placeholder(declared: str, op: str) -> str:
    if op in (Op.IN, Op.NOT_IN):
        return "a, b, c"
    if op == Op.EXISTS:
        return "true / false"
    return declared or "value"


SECRET_SET, SECRET_NOT_COPIED = "set", "not copied"


def secret_state(value: Any) -> str:
    """What a write-only row shows of a secret: "set", "not copied" (a copy's, to set again) or "" — never
    the value, nor the stored secret's id."""
    if is_marker(value):
        return SECRET_SET if value[MARKER] else SECRET_NOT_COPIED
    return SECRET_SET if isinstance(value, str) and value else ""


def secret_key(path: str, index: int = -1) -> str:
    """The handle of a secret row (its field, or a map entry by position) for replace / set."""
    return f"{path}.#{index}" if index >= 0 else path


def _secret(out: list[FieldRow], ctx: Context, schema: dict[str, Any], value: Any, path: str, depth: int,
            required: bool) -> None:
    row = _base(ctx, schema, path, "secret", depth, required)
    row.value3 = secret_state(value)
    row.checked = row.value3 != SECRET_SET or secret_key(path) in ctx.replacing  # the input shows
    row.index = -1
    row.key = _key(ctx, path) + (".edit" if row.checked else "")
    out.append(row)


def _secret_map_key(ctx: Context, path: str) -> Any:
    spec = get_spec(ctx.component_type)
    found = next((f for f in secret_fields(spec.component.Config) if f.name == path), None) if spec else None
    return found.mark.secret_key if found is not None and isinstance(found.mark, SecretMapMark) else None


def _pairs(out: list[FieldRow], schema: dict[str, Any], value: dict[str, Any], path: str, depth: int,
           ctx: Context, required: bool) -> None:
    out.append(_base(ctx, schema, path, "section", depth, required))
    secret = _secret_map_key(ctx, path)
    for i, (k, v) in enumerate(value.items()):
        if (secret is not None and secret(str(k))) or is_marker(v):  # write-only: the value never goes out
            state = secret_state(v)
            editing = state != SECRET_SET or secret_key(path, i) in ctx.replacing
            out.append(FieldRow(key=_key(ctx, f"{path}.#{i}") + (".edit" if editing else ""), path=path,
                                kind="kv-secret", value=str(k), value3=state, checked=editing, index=i,
                                depth=depth + 1, removable=True, error=ctx.error(f"{path}.{k}")))
            continue
        out.append(FieldRow(key=_key(ctx, f"{path}.#{i}"), path=path, kind="kv", value=str(k), value2=str(v),
                            index=i, depth=depth + 1, removable=True,
                            error=ctx.error(f"{path}.{k}")))
    if len(value) < int(schema.get("maxProperties", 20)):
        out.append(FieldRow(key=_key(ctx, path + ".+"), path=path, kind="add-kv", label="Add", depth=depth))


# ------------------------------------------------------------------------------------------------ edits


def set_text(component_type: str, config: Config, path: str, text: str) -> Config:
    """What typing `text` into the field at `path` makes of the config."""
    spec = get_spec(component_type)
    root = spec.schema() if spec else {}
    parts = path.split(".")
    if parts[-1] == "value" and len(parts) > 1:  # a condition's value: its meaning follows the operator
        op = str(get_at(config, ".".join(parts[:-1] + ["op"]), "eq"))
        return set_at(config, path, parse_value(op, text))
    if parts[-1] == "op" and len(parts) > 1:
        owner = ".".join(parts[:-1])
        current = get_at(config, owner + ".value")
        out = set_at(config, path, text)
        return set_at(out, owner + ".value", parse_value(text, value_text(current)))
    schema = schema_at(root, path)
    value, remove = parse_input(schema, text)
    if hints_of(schema).get("widget") == "audience":
        value, remove = (int(text), False) if str(text).isdigit() else (None, True)
    return set_at(config, path, value, remove=remove)


def add_item(component_type: str, config: Config, path: str) -> Config:
    spec = get_spec(component_type)
    root = spec.schema() if spec else {}
    items = list(get_at(config, path, []) or [])
    schema = schema_at(root, path)
    hint = hints_of(schema)
    item = copy.deepcopy(hint["new_item"]) if "new_item" in hint else starter_item(root, schema.get("items", {}))
    if hint.get("ratio_total"):  # the new group takes what is left of 100 %
        taken = sum(r for g in items if isinstance(g, dict) and isinstance(r := g.get("ratio"), int))
        item = {"name": "", "ratio": max(1, 100 - taken)}
    return set_at(config, path, [*items, item])


def remove_item(config: Config, path: str) -> Config:
    return set_at(config, path, None, remove=True)


def toggle_choice(config: Config, path: str, choice: str) -> Config:
    chosen = list(get_at(config, path, []) or [])
    chosen = [c for c in chosen if c != choice] if choice in chosen else [*chosen, choice]
    return set_at(config, path, chosen)


def add_pair(config: Config, path: str) -> Config:
    pairs = dict(get_at(config, path, {}) or {})
    k = 1
    while f"key{k}" in pairs:
        k += 1
    pairs[f"key{k}"] = ""
    return set_at(config, path, pairs)


def rename_pair(config: Config, path: str, index: int, new_key: str) -> Config:
    pairs = list((get_at(config, path, {}) or {}).items())
    if not 0 <= index < len(pairs) or not new_key.strip():
        return config
    new_key = new_key.strip()
    if any(k == new_key for i, (k, _) in enumerate(pairs) if i != index):
        return config
    pairs[index] = (new_key, pairs[index][1])
    return set_at(config, path, dict(pairs))


def set_pair_value(config: Config, path: str, index: int, value: Any) -> Config:
    pairs = list((get_at(config, path, {}) or {}).items())
    if not 0 <= index < len(pairs):
        return config
    pairs[index] = (pairs[index][0], value)
    return set_at(config, path, dict(pairs))


def remove_pair(config: Config, path: str, index: int) -> Config:
    pairs = list((get_at(config, path, {}) or {}).items())
    if not 0 <= index < len(pairs):
        return config
    pairs.pop(index)
    return set_at(config, path, dict(pairs))


def set_secret_marker(config: Config, path: str, index: int, marker: dict[str, Any]) -> Config:
    """The config with a stored secret's marker in the field at `path` (index -1) or the map entry `index`."""
    return set_at(config, path, marker) if index < 0 else set_pair_value(config, path, index, marker)


def secret_field_path(config: Config, path: str, index: int) -> str | None:
    """The field the secret service stores under: "secret", or "headers.Authorization" for a map entry."""
    if index < 0:
        return path
    pairs = list((get_at(config, path, {}) or {}).items())
    return f"{path}.{pairs[index][0]}" if 0 <= index < len(pairs) else None


def insert_variable(config: Config, path: str, variable: str) -> Config:
    text = str(get_at(config, path, "") or "")
    joiner = "" if not text or text.endswith((" ", "\n")) else " "
    return set_at(config, path, text + joiner + variable)
