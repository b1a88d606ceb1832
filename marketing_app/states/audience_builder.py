"""The rule builder (`/audiences/new`, `/audiences/<id>`): groups of conditions turned into the engine's rule
format (engine/shared/audiences.py) and an estimate of the audience's size with a few matching customers.

The builder edits a root group (all / any) holding conditions and sub-groups of conditions (each all / any):
two levels, which covers what a marketer draws; a stored rule nested deeper opens in the JSON editor, which
takes any rule the format allows. The estimate is re-read after a change has settled: typed values reach the
state through a debounced input (one event after the typing stops, never per keystroke), a choice in a select
is one event; each event validates the rule locally and, when it is valid, asks the engine once
(`estimate_rule`: a count and a LIMIT-5 sample). An answer for an older rule than the one shown is dropped.
"""

import json
from itertools import count
from typing import Any

import reflex as rx

from engine.services import audiences as service
from engine.shared.audiences import validate_rule
from marketing_app.routes import segment
from marketing_app.states.service import run

KINDS: list[tuple[str, str]] = [("tag", "Tag"), ("attr", "Attribute"), ("column", "Profile"),
                                ("event", "Behaviour event"), ("audience", "Audience")]
VALUE_OPS: list[tuple[str, str]] = [
    ("eq", "is"), ("neq", "is not"), ("in", "is one of"), ("not_in", "is none of"), ("gt", ">"), ("gte", "≥"),
    ("lt", "<"), ("lte", "≤"), ("contains", "contains"), ("exists", "is set"), ("missing", "is not set"),
    ("within_days", "within the last N days"),
]
EVENT_OPS: list[tuple[str, str]] = [("did", "did"), ("did_not", "did not do")]
AUDIENCE_OPS: list[tuple[str, str]] = [("member", "is in"), ("not_member", "is not in")]
OP_CHOICES: dict[str, list[tuple[str, str]]] = {"tag": VALUE_OPS, "attr": VALUE_OPS, "column": VALUE_OPS,
                                                "event": EVENT_OPS, "audience": AUDIENCE_OPS}
_keys = count(1)


def _key() -> str:
    return f"k{next(_keys)}"


def blank(kind: str = "tag", group: str = "root") -> dict[str, str]:
    op = OP_CHOICES[kind][0][0]
    return {"key": _key(), "type": "cond", "group": group, "kind": kind, "field": "qaid" if kind == "column" else "",
            "op": op, "value": "", "times": "1", "days": "30", "comb": ""}


def _scalar(text: str) -> Any:
    text = text.strip()
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def _int(text: str, default: int) -> int | str:
    text = text.strip()
    return int(text) if text.isdigit() else (default if not text else text)


def to_cond(r: dict[str, str]) -> dict[str, Any]:
    """One builder row as a rule condition (the engine's validator says what is wrong with it, if anything)."""
    kind, name, op, value = r["kind"], r["field"].strip(), r["op"], r["value"]
    if kind == "event":
        return {"field": f"event:{name}", "op": op, "value": {"times": _int(r["times"], 1), "days": _int(r["days"], 0)}}
    if kind == "audience":
        return {"field": f"audience:{name}", "op": "member", "value": op == "member"}
    field = name if kind == "column" else f"{kind}:{name}"
    if op in ("exists", "missing"):
        return {"field": field, "op": "exists", "value": op == "exists"}
    if op in ("in", "not_in"):
        return {"field": field, "op": op, "value": [_scalar(v) for v in value.split(",") if v.strip()]}
    if op == "within_days":
        return {"field": field, "op": op, "value": _scalar(value)}
    if op == "contains" or (kind == "column" and field != "created_at"):
        return {"field": field, "op": op, "value": value.strip()}
    return {"field": field, "op": op, "value": _scalar(value)}


def from_cond(c: dict[str, Any], group: str) -> dict[str, str] | None:
    """A rule condition as a builder row; None when the builder cannot show it (then the JSON editor does)."""
    field, op, value = str(c.get("field", "")), str(c.get("op", "")), c.get("value")
    row = blank("tag", group)
    if field.startswith("event:"):
        v = value if isinstance(value, dict) else {}
        row.update(kind="event", field=field[6:], op=op, times=str(v.get("times", 1)), days=str(v.get("days", "")))
        return row
    if field.startswith("audience:"):
        row.update(kind="audience", field=field[9:], op="member" if value in (None, True) else "not_member")
        return row
    kind, _, name = field.partition(":") if field.startswith(("tag:", "attr:")) else ("column", "", field)
    if op == "exists":
        op = "exists" if value in (None, True) else "missing"
        value = ""
    text = ", ".join(str(v) for v in value) if isinstance(value, list) else (
        ("true" if value else "false") if isinstance(value, bool) else ("" if value is None else str(value)))
    row.update(kind=kind, field=name, op=op, value=text)
    return row


def rows_for(rule: dict[str, Any]) -> tuple[str, list[dict[str, str]]] | None:
    """(root combinator, rows) of a rule the builder can show, else None."""
    keys = [k for k in ("all", "any") if k in rule]
    if len(keys) != 1 or not isinstance(rule[keys[0]], list):
        return None
    rows: list[dict[str, str]] = []
    for item in rule[keys[0]]:
        if not isinstance(item, dict):
            return None
        sub = [k for k in ("all", "any") if k in item]
        if sub:
            if len(sub) != 1 or not isinstance(item[sub[0]], list):
                return None
            gkey = _key()
            rows.append({"key": gkey, "type": "group", "group": gkey, "comb": sub[0], "kind": "", "field": "",
                         "op": "", "value": "", "times": "", "days": ""})
            for c in item[sub[0]]:
                if not isinstance(c, dict) or {"all", "any"} & set(c):
                    return None
                r = from_cond(c, gkey)
                if r is None:
                    return None
                rows.append(r)
        else:
            r = from_cond(item, "root")
            if r is None:
                return None
            rows.append(r)
    return keys[0], rows


def rule_of(root: str, rows: list[dict[str, str]]) -> dict[str, Any]:
    items: list[dict[str, Any]] = [to_cond(r) for r in rows if r["type"] == "cond" and r["group"] == "root"]
    for g in (r for r in rows if r["type"] == "group"):
        conds = [to_cond(r) for r in rows if r["type"] == "cond" and r["group"] == g["key"]]
        if conds:
            items.append({g["comb"]: conds})
    return {root: items}


class AudienceBuilderState(rx.State):
    audience_id: str = ""  # "" = a new audience
    name: str = ""
    root: str = "all"
    rows: list[dict[str, str]] = []
    mode: str = "builder"  # builder / json
    json_text: str = ""
    audiences: list[list[str]] = []  # [id, name] of the other audiences (membership conditions)
    problems: list[str] = []
    size: str = ""
    raw_size: str = ""
    counted_at: str = ""
    sample: list[dict[str, str]] = []
    estimating: bool = False
    error: str = ""
    loaded: bool = False
    saving: bool = False
    _generation: int = 0

    @rx.var
    def title(self) -> str:
        return "Edit rule audience" if self.audience_id else "New rule audience"

    def _rule(self) -> dict[str, Any] | None:
        if self.mode == "json":
            try:
                parsed = json.loads(self.json_text or "{}")
            except ValueError as err:
                self.problems = [f"The JSON is not valid: {err}"]
                return None
            return parsed if isinstance(parsed, dict) else {}
        return rule_of(self.root, self.rows)

    async def _estimate(self):
        """Validate locally; when valid, one estimate from the engine. Drops an answer for an older rule."""
        rule = self._rule()
        if rule is None:
            self.size = self.raw_size = ""
            return None
        problems = validate_rule(rule)
        if self.mode == "builder" and any(r["type"] == "cond" and not r["field"].strip() for r in self.rows):
            problems = ["Complete every condition to see the estimate."]
        if problems:
            self.problems, self.size, self.raw_size, self.sample = problems[:5], "", "", []
            return None
        self._generation += 1
        generation, own = self._generation, int(self.audience_id) if self.audience_id.isdigit() else None
        self.estimating = True
        out = await run(self, lambda s, u: service.estimate_rule(session=s, actor=u, rule=rule, audience_id=own))
        if generation != self._generation:
            return None
        self.estimating = False
        if out.signed_out:
            return out.problem()
        if out.error or out.value is None:
            self.problems, self.size, self.raw_size, self.sample = [out.error], "", "", []
            return None
        self.problems = []
        self.size, self.raw_size = f"{out.value.size:,}", str(out.value.size)
        self.counted_at = out.value.counted_at.strftime("%H:%M:%S UTC")
        self.sample = out.value.sample
        return None

    @rx.event
    async def load(self):
        path = self.router.url.path
        wanted = segment(path, 1)
        self.reset()
        out = await run(self, lambda s, u: service.list_audiences(session=s, actor=u))
        if out.signed_out:
            return out.problem()
        self.audiences = [[str(a.id), a.name] for a in out.value or [] if str(a.id) != wanted]
        if wanted.isdigit():
            got = await run(self, lambda s, u: service.get_audience(session=s, actor=u, audience_id=int(wanted)))
            if got.error or got.value is None:
                self.error, self.loaded = got.error or "Audience not found.", True
                return None
            if got.value.kind != "rule":
                self.error, self.loaded = "Only a rule audience can be edited; a static list is fixed.", True
                return None
            self.audience_id, self.name = wanted, got.value.name
            shown = rows_for(got.value.rule)
            self.json_text = json.dumps(got.value.rule, indent=2, ensure_ascii=False)
            if shown is None:
                self.mode = "json"
            else:
                self.root, self.rows = shown
        else:
            self.rows = [blank()]
            self.json_text = json.dumps(rule_of(self.root, self.rows), indent=2)
        self.loaded = True
        return await self._estimate()

    # ------------------------------------------------------------------ editing

    @rx.event
    def set_name(self, value: str):
        self.name = value

    @rx.event
    async def set_root(self, value: str):
        self.root = "any" if value == "any" else "all"
        return await self._estimate()

    @rx.event
    async def add_condition(self, group: str):
        rows = list(self.rows)
        at = max([i for i, r in enumerate(rows) if r["group"] == group], default=len(rows) - 1) + 1
        rows.insert(at if group != "root" else len([r for r in rows if r["group"] == "root"]), blank("tag", group))
        self.rows = rows
        return await self._estimate()

    @rx.event
    async def add_group(self):
        gkey = _key()
        self.rows = [*self.rows, {"key": gkey, "type": "group", "group": gkey, "comb": "any", "kind": "",
                                  "field": "", "op": "", "value": "", "times": "", "days": ""}, blank("tag", gkey)]
        return await self._estimate()

    @rx.event
    async def remove(self, key: str):
        doomed = {key} | {r["key"] for r in self.rows if r["group"] == key and r["type"] == "cond"}
        self.rows = [r for r in self.rows if r["key"] not in doomed]
        return await self._estimate()

    @rx.event
    async def set_part(self, key: str, part: str, value: str):
        if part not in ("kind", "field", "op", "value", "times", "days", "comb"):
            return None
        rows = []
        for r in self.rows:
            if r["key"] == key:
                r = {**r, part: value}
                if part == "kind" and value in OP_CHOICES:
                    r.update(op=OP_CHOICES[value][0][0], field="qaid" if value == "column" else "", value="")
            rows.append(r)
        self.rows = rows
        return await self._estimate()

    @rx.event
    async def set_mode(self, value: str | list[str]):
        value = value if isinstance(value, str) else (value[0] if value else "builder")
        if value == "json" and self.mode == "builder":
            self.json_text = json.dumps(rule_of(self.root, self.rows), indent=2, ensure_ascii=False)
        elif value == "builder" and self.mode == "json":
            try:
                parsed = json.loads(self.json_text or "{}")
            except ValueError:
                parsed = None
            shown = rows_for(parsed) if isinstance(parsed, dict) else None
            if shown is None:
                return rx.toast.error("This rule nests deeper than the builder shows: keep editing it as JSON.")
            self.root, self.rows = shown
        self.mode = "json" if value == "json" else "builder"
        return await self._estimate()

    @rx.event
    async def set_json(self, value: str):
        self.json_text = value
        return await self._estimate()

    @rx.event
    async def save(self):
        rule = self._rule()
        if rule is None:
            return rx.toast.error("; ".join(self.problems))
        name, own = self.name, int(self.audience_id) if self.audience_id.isdigit() else None
        if own is None:
            out = await run(self, lambda s, u: service.create_rule_audience(session=s, actor=u, name=name, rule=rule),
                            write=True)
        else:
            out = await run(self, lambda s, u: service.update_rule_audience(session=s, actor=u, audience_id=own,
                                                                             name=name, rule=rule), write=True)
        if not out.ok:
            return out.problem()
        return [rx.toast.success(f"Saved “{name.strip()}”."), rx.redirect("/audiences")]
