"""Who is in an audience: the rule format, its validator and SQL compiler, and the queries that materialise
an audience, count it or check which customers belong to it. Below the services and the runtime, which both
use it: the runtime materialises the trigger's audience when a round starts and checks membership for
Audience Judgment; the audience services (engine/services/audiences.py) validate and preview rules.

Rule format (stored in `Audience.rule`)::

    {"all": [cond | group, ...], "any": [cond | group, ...]}     # a group; "all" AND, "any" OR (≥1 matches)
    cond = {"field": F, "op": OP, "value": V}

- F: "tag:<tag name>", "attr:<attribute name>", or a customer column: qaid, name, phone, email,
  wechat_openid, push_token, timezone, created_at; "event:<event name>" (behaviour events) and
  "audience:<audience id>" (membership of another audience).
- OP: eq, neq, in, not_in, gt, gte, lt, lte, contains, exists (value true/false, default true), and
  within_days (created_at or an ISO-date attribute within the last V days; our addition for "new members").
- Negative ops (neq, not_in, exists false) also match customers that lack the field.
- Behaviour events take op "did" or "did_not" with value {"times": N, "days": D}: did the event at least N
  times (default 1) in the last D days (1..3650); "did_not" is its exact negation. Compiled to a correlated
  count over the (customer_id, name, occurred_at) index, EXISTS when N is 1.
- Audience membership takes op "member" with value true (default) or false. A static audience compiles to
  EXISTS over its members; a rule audience inlines its rule (cycles and references deeper than MAX_DEPTH are
  refused), so membership needs the audiences of the workspace: `rule_query(..., audiences=loader)`.
- Numbers compare as numbers (a tag value "3" is gt 2), text compares as text, true/false as booleans.
- Groups nest (a cond may itself be {"all": [...]} or {"any": [...]}); when both keys are given both must
  hold. At least one condition overall: "everyone" is {"all": [{"field": "qaid", "op": "exists"}]}.

Every rule compiles to one SQL query (correlated EXISTS for tags, JSON extraction for attributes), so
materialising a 1M-customer audience is one indexed query, not a Python loop. A failure to materialise (the
audience is gone, its rule is bad, the database fails) raises `CrowdDataError`, which the runtime turns into
the "failed to obtain crowd data" Abnormal End (re-runnable).
"""

from collections.abc import Callable, Iterator
from datetime import timedelta
from itertools import islice
from typing import Any, TypeGuard

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Float,
    Select,
    and_,
    cast,
    exists,
    false,
    func,
    literal,
    literal_column,
    not_,
    or_,
    true,
)
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlmodel import Session, col, select

from engine import clock
from engine.errors import ServiceError
from engine.models import Audience, AudienceKind, AudienceMember, BehaviorEvent, table_of
from engine.shared.customers import CUSTOMER, TAG, chunks, not_staff, parse_time

MAX_CONDITIONS = 100
MAX_DEPTH = 5
OPS = ("eq", "neq", "in", "not_in", "gt", "gte", "lt", "lte", "contains", "exists", "within_days")
EVENT_OPS = ("did", "did_not")
AUDIENCE_OPS = ("member",)
MAX_EVENT_DAYS = 3650
MAX_EVENT_TIMES = 1_000_000
MEMBER_CHUNK = 20_000  # ids a round start reads (and queues the batches of) at a time
COLUMN_FIELDS = ("qaid", "name", "phone", "email", "wechat_openid", "push_token", "timezone", "created_at")
_COMPARE = {"gt": "__gt__", "gte": "__ge__", "lt": "__lt__", "lte": "__le__"}


class CrowdDataError(ServiceError):
    """An audience could not be materialised: the "failed to obtain crowd data" case of an execution record.
    `str(err)` starts with "Failed to obtain crowd data:" and says why."""

    def __init__(self, audience_id: int, detail: str) -> None:
        super().__init__(f"Failed to obtain crowd data: {detail}")
        self.audience_id = audience_id
        self.detail = detail



def _split_field(name: Any) -> tuple[str, str] | None:
    if not isinstance(name, str):
        return None
    if name.startswith(("tag:", "attr:", "event:", "audience:")):
        kind, _, key = name.partition(":")
        return (kind, key.strip()) if key.strip() else None
    return ("column", name) if name in COLUMN_FIELDS else None


def _is_scalar(value: Any) -> bool:
    return isinstance(value, str | int | float | bool) and not (isinstance(value, float) and value != value)


def _is_number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_cond(cond: dict[str, Any], where: str) -> list[str]:
    fld, op, value = cond.get("field"), cond.get("op"), cond.get("value")
    split = _split_field(fld)
    if split is None:
        return [f"{where}: unknown field {fld!r} (use tag:<name>, attr:<name>, event:<name>, audience:<id> "
                f"or one of {', '.join(COLUMN_FIELDS)})"]
    kind, key = split
    if kind == "event":
        return _check_event(op, value, where)
    if kind == "audience":
        if not key.isdigit() or int(key) < 1:
            return [f"{where}: 'audience:' takes an audience id"]
        if op not in AUDIENCE_OPS:
            return [f"{where}: audience membership takes the operator 'member'"]
        return [] if value is None or isinstance(value, bool) else [f"{where}: 'member' takes true or false"]
    if op not in OPS:
        return [f"{where}: unknown operator {op!r} (use one of {', '.join(OPS)})"]
    if op == "exists":
        return [] if value is None or isinstance(value, bool) else [f"{where}: 'exists' takes true or false"]
    if op == "within_days":
        if not (kind == "attr" or key == "created_at"):
            return [f"{where}: 'within_days' applies to created_at and date attributes"]
        return [] if _is_number(value) and value > 0 else [f"{where}: 'within_days' needs a positive number of days"]
    if op in ("in", "not_in"):
        if not isinstance(value, list) or not value or not all(_is_scalar(v) for v in value):
            return [f"{where}: '{op}' needs a non-empty list of values"]
        if len(value) > 1000:
            return [f"{where}: '{op}' takes at most 1000 values"]
        values = value
    elif op == "contains":
        if not isinstance(value, str) or not value:
            return [f"{where}: 'contains' needs some text"]
        values = [value]
    else:
        if not _is_scalar(value):
            return [f"{where}: '{op}' needs a value (text, number or true/false)"]
        if op in _COMPARE and isinstance(value, bool):
            return [f"{where}: '{op}' needs a number or text, not true/false"]
        values = [value]
    if key == "created_at":
        if op == "contains":
            return [f"{where}: 'contains' does not apply to created_at"]
        for v in values:
            if not isinstance(v, str):
                return [f"{where}: created_at compares with an ISO date/time"]
            try:
                parse_time(v)
            except ValueError:
                return [f"{where}: {v!r} is not an ISO date/time"]
    return []


def _check_event(op: Any, value: Any, where: str) -> list[str]:
    if op not in EVENT_OPS:
        return [f"{where}: a behaviour event takes the operator 'did' or 'did_not'"]
    if not isinstance(value, dict) or set(value) - {"times", "days"}:
        return [f"{where}: '{op}' takes {{\"times\": N, \"days\": D}}"]
    times, days = value.get("times", 1), value.get("days")
    problems = []
    if not (isinstance(times, int) and not isinstance(times, bool) and 1 <= times <= MAX_EVENT_TIMES):
        problems.append(f"{where}: 'times' is a whole number from 1 to {MAX_EVENT_TIMES:,}")
    if not (isinstance(days, int) and not isinstance(days, bool) and 1 <= days <= MAX_EVENT_DAYS):
        problems.append(f"{where}: 'days' is a whole number from 1 to {MAX_EVENT_DAYS}")
    return problems


def referenced_audiences(rule: Any) -> set[int]:
    """The audience ids a rule's membership conditions name (at any depth)."""
    out: set[int] = set()

    def walk(group: Any) -> None:
        if not isinstance(group, dict):
            return
        for key in ("all", "any"):
            for item in group.get(key) or [] if isinstance(group.get(key), list) else []:
                if isinstance(item, dict) and ({"all", "any"} & set(item)):
                    walk(item)
                elif isinstance(item, dict):
                    split = _split_field(item.get("field"))
                    if split and split[0] == "audience" and split[1].isdigit():
                        out.add(int(split[1]))

    walk(rule)
    return out


def validate_rule(rule: Any) -> list[str]:
    """Problems with a rule, in words for the rule builder (empty = valid)."""
    problems: list[str] = []
    count = 0

    def walk(group: Any, where: str, depth: int) -> None:
        nonlocal count
        if not isinstance(group, dict) or not ({"all", "any"} & set(group)):
            problems.append(f"{where}: a group is an object with \"all\" and/or \"any\" lists")
            return
        extra = set(group) - {"all", "any"}
        if extra:
            problems.append(f"{where}: unknown key(s) {', '.join(sorted(extra))}")
        if depth > MAX_DEPTH:
            problems.append(f"{where}: groups nest at most {MAX_DEPTH} deep")
            return
        for key in ("all", "any"):
            if key not in group:
                continue
            items = group[key]
            if not isinstance(items, list):
                problems.append(f"{where}.{key}: must be a list")
                continue
            for i, item in enumerate(items, start=1):
                here = f"{where}.{key}[{i}]"
                if isinstance(item, dict) and ({"all", "any"} & set(item)):
                    walk(item, here, depth + 1)
                elif isinstance(item, dict):
                    count += 1
                    problems.extend(_check_cond(item, here))
                else:
                    problems.append(f"{here}: a condition is an object with field, op and value")

    walk(rule, "rule", 1)
    if not problems and count == 0:
        problems.append("rule: add at least one condition")
    if count > MAX_CONDITIONS:
        problems.append(f"rule: at most {MAX_CONDITIONS} conditions ({count} given)")
    return problems


class as_number(FunctionElement[float]):  # noqa: N801 (reads like the SQL function it renders)
    """Text as a number, NULL when it is not one: a tag value "n/a" or an attribute "unknown" is simply not
    greater than 3, where a plain CAST would fail the whole query (PostgreSQL) or read 0 (SQLite)."""

    type = Float()
    name = "as_number"
    inherit_cache = True


def _arg(element: as_number, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(next(iter(element.clauses)), **kw)


@compiles(as_number)
def _as_number_default(element: as_number, compiler: Any, **kw: Any) -> str:
    return f"CAST({_arg(element, compiler, **kw)} AS FLOAT)"


@compiles(as_number, "sqlite")
def _as_number_sqlite(element: as_number, compiler: Any, **kw: Any) -> str:
    # the value is read once, in a one-row subquery: SQLite repeats a repeated expression (a CASE naming it
    # three times extracted the JSON attribute three times: the 1M-customer estimate 0.61 -> 0.46 s)
    a = _arg(element, compiler, **kw)
    return f"(SELECT CASE WHEN v <> '' AND v NOT GLOB '*[^0-9.eE+-]*' THEN CAST(v AS REAL) END FROM (SELECT {a} AS v))"


@compiles(as_number, "postgresql")
def _as_number_postgresql(element: as_number, compiler: Any, **kw: Any) -> str:
    a, b = (_arg(element, compiler, **kw) for _ in range(2))
    pattern = r"^\s*[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?\s*$"
    return f"(CASE WHEN {a} ~ '{pattern}' THEN CAST({b} AS FLOAT) END)"


def _like(value: str) -> str:
    return "%" + value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _compared(target: ColumnElement[Any], op: str, value: object) -> ColumnElement[bool]:
    """`target <op> value` for the ordering operators of _COMPARE."""
    if op == "gt":
        return target > value
    if op == "gte":
        return target >= value
    if op == "lt":
        return target < value
    if op == "lte":
        return target <= value
    raise ValueError(f"operator {op} is not an ordering")


def _attr_eq(expr: Any, value: object) -> ColumnElement[bool]:
    """A JSON attribute equals a value of the value's type (never a cast that can fail on other data)."""
    text: ColumnElement[str] = expr.as_string()
    if isinstance(value, bool):  # JSON true reads "true" (PostgreSQL) or "1" (SQLite)
        return text.in_(("true", "1") if value else ("false", "0"))
    if _is_number(value):
        return as_number(text) == value
    return text == value


def _attr_cond(key: str, op: str, value: Any) -> ColumnElement[bool]:
    expr = CUSTOMER.c.attributes[key]
    present: ColumnElement[bool] = expr.as_string().is_not(None)
    if op == "exists":
        return present if value in (None, True) else not_(present)
    if op == "within_days":
        # ISO text compares in time order; the upper bound also keeps non-date text ("Shanghai") out
        now = clock.now()
        return and_(expr.as_string() >= (now - timedelta(days=value)).isoformat(),
                    expr.as_string() <= (now + timedelta(days=1)).isoformat())
    if op == "contains":
        text: ColumnElement[str] = expr.as_string()
        return text.like(_like(value), escape="\\")
    if op in ("eq", "neq"):
        match = _attr_eq(expr, value)
        return match if op == "eq" else or_(not_(present), not_(match))
    if op in ("in", "not_in"):
        match = or_(*[_attr_eq(expr, v) for v in value])
        return match if op == "in" else or_(not_(present), not_(match))
    target = as_number(expr.as_string()) if _is_number(value) else expr.as_string()
    return _compared(target, op, value)


def _tag_cond(key: str, op: str, value: Any, by_index: bool = True) -> ColumnElement[bool]:
    base = [TAG.c.customer_id == CUSTOMER.c.id, TAG.c.tag == key]

    def has(*extra: Any) -> ColumnElement[bool]:
        return exists().where(*base, *extra)

    def tagged(value_match: ColumnElement[bool]) -> ColumnElement[bool]:
        # an exact value: `id IN (ids with that tag value)` lets the planner start from the (tag, value) index
        # (a third of a million customers, say) instead of probing every customer (1M: 1.3 s -> 0.5 s on SQLite)
        if not by_index:  # a first-n read in id order: probing each customer stops sooner than listing all ids
            return has(value_match)
        return CUSTOMER.c.id.in_(select(TAG.c.customer_id).where(TAG.c.tag == key, value_match))

    def text(v: Any) -> str:
        return ("true" if v else "false") if isinstance(v, bool) else str(v)

    if op == "exists":
        return has() if value in (None, True) else not_(has())
    if op == "contains":
        return has(TAG.c.value.like(_like(value), escape="\\"))
    if op in ("eq", "neq"):
        match = has(as_number(TAG.c.value) == value) if _is_number(value) else tagged(TAG.c.value == text(value))
        return match if op == "eq" else not_(match)
    if op in ("in", "not_in"):
        match = tagged(TAG.c.value.in_([text(v) for v in value]))
        return match if op == "in" else not_(match)
    if op in _COMPARE:
        target = as_number(TAG.c.value) if _is_number(value) else TAG.c.value
        return has(_compared(target, op, value))
    raise ValueError(f"operator {op} does not apply to tags")


def _column_cond(key: str, op: str, value: Any) -> ColumnElement[bool]:
    column = CUSTOMER.c[key]
    if key == "created_at":
        if op == "exists":
            return true() if value in (None, True) else false()
        if op == "within_days":
            return column >= clock.now() - timedelta(days=value)
        value = [parse_time(v) for v in value] if isinstance(value, list) else parse_time(value)
        present: ColumnElement[bool] = column.is_not(None)
    else:
        present = and_(column.is_not(None), column != "")
    if op == "exists":
        return present if value in (None, True) else not_(present)
    if op == "contains":
        return column.like(_like(value), escape="\\")
    if op in ("eq", "neq"):
        match = column == value
        return match if op == "eq" else or_(not_(present), not_(match))
    if op in ("in", "not_in"):
        match = column.in_(value)
        return match if op == "in" else or_(not_(present), not_(match))
    return _compared(column, op, value)


_EVENT = table_of(BehaviorEvent)
_MEMBERS = table_of(AudienceMember)
#: audience id -> the audience (None: not one of the workspace's); `rule_query`'s way to resolve membership
AudienceLoader = Callable[[int], Audience | None]
#: a drivable condition -> how many ids its index holds (None: unknown); `index_sizes` asks the database
SizeOf = Callable[[dict[str, Any]], int | None]


class RuleReferenceError(ValueError):
    """A membership condition names a missing audience, a cycle, or nests too deep (says which, in words)."""


def _event_ids(name: str, value: dict[str, Any], workspace_id: int | None) -> Select[Any]:
    """Customer ids that did the event at least N times in the last D days, from the (workspace_id, name,
    occurred_at, customer_id) index alone: the form of an event condition that drives a rule."""
    times, since = int(value.get("times", 1)), clock.now() - timedelta(days=int(value["days"]))
    where = [_EVENT.c.name == name, _EVENT.c.occurred_at >= since]
    if workspace_id is not None:  # an event is recorded in its customer's workspace
        where.insert(0, _EVENT.c.workspace_id == workspace_id)
    ids = select(_EVENT.c.customer_id).where(*where)
    return ids if times == 1 else ids.group_by(_EVENT.c.customer_id).having(func.count() >= times)


def _event_cond(name: str, op: str, value: dict[str, Any]) -> ColumnElement[bool]:
    times, since = int(value.get("times", 1)), clock.now() - timedelta(days=int(value["days"]))
    where = [_EVENT.c.customer_id == CUSTOMER.c.id, _EVENT.c.name == name, _EVENT.c.occurred_at >= since]
    if times == 1:
        did: ColumnElement[bool] = exists().where(*where)
    else:  # "is there an N-th one": the probe stops after N index entries, where a count would read them all
        did = select(literal_column("1")).select_from(_EVENT).where(*where).offset(times - 1).limit(1).exists()
    return did if op == "did" else not_(did)


def _drivable(item: Any) -> bool:
    """A condition that can list its customer ids from an index: an exact tag value (eq / in, not a number
    compared as one) or "did" an event."""
    if not isinstance(item, dict) or {"all", "any"} & set(item):
        return False
    split = _split_field(item.get("field"))
    if split is None:
        return False
    op, value = item.get("op"), item.get("value")
    if split[0] == "tag":
        return op == "in" or (op == "eq" and not _is_number(value))
    return split[0] == "event" and op == "did"


def _driver(rule: dict[str, Any], sizes: SizeOf | None) -> int | None:
    """Which condition of the rule's top-level "all" list starts the query: the drivable one the index says
    is smallest (None: no size known, or nothing drivable)."""
    items = rule.get("all") if isinstance(rule.get("all"), list) else []
    if sizes is None or not items:
        return None
    known = [(n, i) for i, item in enumerate(items) if _drivable(item) and (n := sizes(item)) is not None]
    return min(known)[1] if known else None


def compile_rule(rule: dict[str, Any], audiences: AudienceLoader | None = None,
                 _path: tuple[int, ...] = (), by_index: bool = True, sizes: SizeOf | None = None,
                 workspace_id: int | None = None) -> ColumnElement[bool]:
    """The rule as a WHERE clause over the customer table (validate it first). `audiences` resolves the
    membership conditions; RuleReferenceError when one names an unknown audience or a cycle. `by_index`
    False: exact tag values as correlated probes (for reading the first few matches, not all).

    `sizes` (with `workspace_id`): how many ids a drivable condition's index holds. Then the smallest of the
    top-level "all" conditions is the one id list the query starts from (`id IN (...)`, read from its index)
    and every other condition is a per-candidate probe: SQLite builds a temporary index of *every* `IN`
    list it meets, so a second list (250,000 Shanghai ids) cost more than probing the candidates of the first.
    """
    driver = _driver(rule, sizes)
    if driver is not None:
        item = rule["all"][driver]
        kind, key = _split_field(item["field"]) or ("", "")
        if kind == "tag":
            values = item["value"] if item["op"] == "in" else [item["value"]]
            texts = [("true" if v else "false") if isinstance(v, bool) else str(v) for v in values]
            start: ColumnElement[bool] = CUSTOMER.c.id.in_(
                select(TAG.c.customer_id).where(TAG.c.tag == key, TAG.c.value.in_(texts)))
        else:
            start = CUSTOMER.c.id.in_(_event_ids(key, item.get("value") or {}, workspace_id))
        rest = {**rule, "all": [i for n, i in enumerate(rule["all"]) if n != driver]}
        if not rest["all"]:
            del rest["all"]
        if not ({"all", "any"} & set(rest)):
            return start
        return and_(start, compile_rule(rest, audiences, _path, by_index=False))  # no sizes: no second driver

    def member(key: str, value: Any) -> ColumnElement[bool]:
        aid = int(key)
        other = audiences(aid) if audiences is not None else None
        if other is None:
            raise RuleReferenceError(f"audience {aid} does not exist")
        if aid in _path:
            raise RuleReferenceError(f"audience “{other.name}” refers back to itself")
        if len(_path) >= MAX_DEPTH:
            raise RuleReferenceError(f"audiences refer to audiences more than {MAX_DEPTH} deep")
        if other.kind == AudienceKind.RULE:
            if validate_rule(other.rule):
                raise RuleReferenceError(f"the rule of audience “{other.name}” is invalid")
            match = compile_rule(other.rule, audiences, (*_path, aid), by_index)
        else:
            match = exists().where(_MEMBERS.c.audience_id == aid, _MEMBERS.c.customer_id == CUSTOMER.c.id)
        return match if value in (None, True) else not_(match)

    def cond(item: dict[str, Any]) -> ColumnElement[bool]:
        if {"all", "any"} & set(item):
            return group(item)
        split = _split_field(item["field"])
        if split is None:
            raise TypeError(f"unknown field {item['field']!r}: validate the rule first")
        kind, key = split
        op, value = item["op"], item.get("value")
        if kind == "tag":
            return _tag_cond(key, op, value, by_index)
        if kind == "attr":
            return _attr_cond(key, op, value)
        if kind == "event":
            return _event_cond(key, op, value or {})
        if kind == "audience":
            return member(key, value)
        return _column_cond(key, op, value)

    def group(g: dict[str, Any]) -> ColumnElement[bool]:
        parts = []
        if g.get("all"):
            parts.append(and_(*[cond(i) for i in g["all"]]))
        if g.get("any"):
            parts.append(or_(*[cond(i) for i in g["any"]]))
        return and_(*parts) if parts else true()

    return group(rule)


def rule_query(workspace_id: int, rule: dict[str, Any], audiences: AudienceLoader | None = None,
               self_id: int | None = None, by_index: bool = True, sizes: SizeOf | None = None) -> Select[Any]:
    """Customer ids matching the rule. `self_id`: the audience the rule belongs to (a reference to it is a
    cycle). `sizes` (`index_sizes`): start from the rule's most selective indexed condition."""
    path = (self_id,) if self_id is not None else ()
    where = compile_rule(rule, audiences, path, by_index, sizes, workspace_id)
    return select(CUSTOMER.c.id).where(CUSTOMER.c.workspace_id == workspace_id, where, not_staff())


def index_sizes(session: Session, workspace_id: int) -> SizeOf:
    """How many ids a drivable condition's index holds (one index-only count each): what `compile_rule`
    compares to choose the condition a rule starts from. Counts tags over every workspace (an estimate)."""

    def size(item: dict[str, Any]) -> int | None:
        kind, key = _split_field(item.get("field")) or ("", "")
        if kind == "tag":
            values = item["value"] if item["op"] == "in" else [item["value"]]
            texts = [("true" if v else "false") if isinstance(v, bool) else str(v) for v in values]
            query = select(func.count()).select_from(TAG).where(TAG.c.tag == key, TAG.c.value.in_(texts))
        elif kind == "event":
            since = clock.now() - timedelta(days=int((item.get("value") or {})["days"]))
            query = select(func.count()).select_from(_EVENT).where(
                _EVENT.c.workspace_id == workspace_id, _EVENT.c.name == key, _EVENT.c.occurred_at >= since)
        else:
            return None
        return int(session.execute(query).scalar_one())

    return size


def audience_loader(session: Session, workspace_id: int) -> AudienceLoader:
    """Loads the workspace's audiences by id (another workspace's reads as missing)."""

    def load(audience_id: int) -> Audience | None:
        found = session.get(Audience, audience_id)
        return found if found is not None and found.workspace_id == workspace_id else None

    return load


def _members_query(session: Session, audience: Audience) -> Select[Any]:
    """Customer ids of the audience (unordered). Raises CrowdDataError for a bad rule."""
    if audience.kind == AudienceKind.RULE:
        problems = validate_rule(audience.rule)
        if problems:
            raise CrowdDataError(audience.id or 0, f"the rule of audience “{audience.name}” is invalid: "
                                 + "; ".join(problems[:3]) + ".")
        try:
            return rule_query(audience.workspace_id, audience.rule,
                              audience_loader(session, audience.workspace_id), audience.id,
                              sizes=index_sizes(session, audience.workspace_id))
        except RuleReferenceError as err:
            raise CrowdDataError(audience.id or 0, f"the rule of audience “{audience.name}”: {err}.") from err
    return (select(AudienceMember.customer_id)
            .join(CUSTOMER, CUSTOMER.c.id == col(AudienceMember.customer_id))
            .where(AudienceMember.audience_id == audience.id, CUSTOMER.c.workspace_id == audience.workspace_id,
                   not_staff()))


def _load(session: Session, audience_id: int, workspace_id: int | None) -> Audience:
    try:
        audience = session.get(Audience, audience_id)
    except SQLAlchemyError as err:
        raise CrowdDataError(audience_id, f"the database could not be read ({err.__class__.__name__}).") from err
    if audience is None:
        raise CrowdDataError(audience_id, f"audience {audience_id} no longer exists.")
    if workspace_id is not None and audience.workspace_id != workspace_id:
        raise CrowdDataError(audience_id, f"audience {audience_id} belongs to another workspace.")
    return audience


def materialize(*, session: Session, audience_id: int, workspace_id: int | None = None) -> list[int]:
    """The customer ids of an audience right now, ascending. An empty audience is not an error.

    Raises CrowdDataError when it cannot be computed: the audience was deleted (or, with `workspace_id`, is
    another workspace's), its rule is invalid, or the database failed (the caller's session then needs a
    rollback before further use).
    """
    return [i for part in member_chunks(session=session, audience_id=audience_id, workspace_id=workspace_id)
            for i in part]


def member_chunks(*, session: Session, audience_id: int, workspace_id: int | None = None,
                  size: int | None = None) -> Iterator[list[int]]:
    """`materialize`, `size` ids at a time as the database streams them (ascending, none empty): a round's
    first batches go to the workers while the rest of a million is still being read. The same CrowdDataError,
    the audience's own problems before the first chunk, a database failure at any chunk."""
    size = size or MEMBER_CHUNK
    audience = _load(session, audience_id, workspace_id)
    query = _members_query(session, audience)
    try:
        # streamed: a million buffered result rows cost the worker that starts the round ~100 MiB more than the
        # list of ids itself. On the session's Core connection, not through the ORM: the ORM's per-row result
        # work made this 2.6 CPU-s per million ids (0.8 here)
        ordered = query.order_by(query.selected_columns[0]).execution_options(yield_per=size)
        rows = iter(session.connection().execute(ordered).scalars())  # sliced: `partitions` and `fetchmany`
        while part := [int(i) for i in islice(rows, size)]:  # cost ~1.6 µs more an id than iterating
            yield part
    except SQLAlchemyError as err:
        raise CrowdDataError(audience_id, f"the database failed while reading audience “{audience.name}” "
                             f"({err.__class__.__name__}).") from err


def sample_members(*, session: Session, audience_id: int, limit: int, workspace_id: int | None = None) -> list[int]:
    """Up to `limit` customer ids of the audience, spread over it rather than its oldest ids (a dry run's
    sample): ordered by a fixed multiplicative hash of the id, so the same audience gives the same sample."""
    audience = _load(session, audience_id, workspace_id)
    query = _members_query(session, audience)
    first = query.selected_columns[0]
    try:
        spread = (cast(first, BigInteger) * literal(2654435761, BigInteger)) % literal(4294967291, BigInteger)
        ordered = query.order_by(spread, first).limit(limit)
        return [int(i) for i in session.connection().execute(ordered).scalars()]
    except SQLAlchemyError as err:
        raise CrowdDataError(audience_id, f"the database failed while reading audience “{audience.name}” "
                             f"({err.__class__.__name__}).") from err


def members_among(*, session: Session, audience_id: int, customer_ids: list[int],
                  workspace_id: int | None = None) -> set[int]:
    """Which of `customer_ids` are in the audience (Audience Judgment), without materialising all of it."""
    audience = _load(session, audience_id, workspace_id)
    query = _members_query(session, audience)
    out: set[int] = set()
    try:
        for part in chunks(list(dict.fromkeys(customer_ids))):
            out.update(session.execute(query.where(query.selected_columns[0].in_(part))).scalars())
    except SQLAlchemyError as err:
        raise CrowdDataError(audience_id, f"the database failed while reading audience “{audience.name}” "
                             f"({err.__class__.__name__}).") from err
    return out


def count_members(*, session: Session, audience_id: int, workspace_id: int | None = None) -> int:
    audience = _load(session, audience_id, workspace_id)
    query = _members_query(session, audience)
    try:
        return int(session.execute(select(func.count()).select_from(query.subquery())).scalar_one())
    except SQLAlchemyError as err:
        raise CrowdDataError(audience_id, f"the database failed while counting audience “{audience.name}” "
                             f"({err.__class__.__name__}).") from err
