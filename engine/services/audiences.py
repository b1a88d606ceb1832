"""Audiences: static lists (CSV import, Generate Audience / Generate Crowd) and rules over attributes and tags,
materialised when a flow runs.

Rule format (stored in `Audience.rule`)::

    {"all": [cond | group, ...], "any": [cond | group, ...]}     # a group; "all" AND, "any" OR (≥1 matches)
    cond = {"field": F, "op": OP, "value": V}

- F: "tag:<tag name>", "attr:<attribute name>", or a customer column: qaid, name, phone, email,
  wechat_openid, push_token, timezone, created_at.
- OP: eq, neq, in, not_in, gt, gte, lt, lte, contains, exists (value true/false, default true), and
  within_days (created_at or an ISO-date attribute within the last V days; our addition for "new members").
- Negative ops (neq, not_in, exists false) also match customers that lack the field.
- Numbers compare as numbers (a tag value "3" is gt 2), text compares as text, true/false as booleans.
- Groups nest (a cond may itself be {"all": [...]} or {"any": [...]}); when both keys are given both must
  hold. At least one condition overall: "everyone" is {"all": [{"field": "qaid", "op": "exists"}]}.

Every rule compiles to one SQL query (correlated EXISTS for tags, JSON extraction for attributes), so
materialising a 1M-customer audience is one indexed query, not a Python loop. A failure to materialise (the
audience is gone, its rule is bad, the database fails) raises `CrowdDataError`, which the runtime turns into
the "failed to obtain crowd data" Abnormal End (re-runnable).
"""

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import IO, Any, TypeGuard

from sqlalchemy import ColumnElement, Float, Select, and_, exists, false, func, not_, or_, true
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlmodel import Session, col, select

from engine import clock
from engine.errors import Conflict, Invalid, NotFound, ServiceError
from engine.models import Audience, AudienceKind, AudienceMember, User, row_id, table_of
from engine.permissions import require_writer
from engine.services.customers import (
    CUSTOMER,
    PROFILE_FIELDS,
    TAG,
    check_fields,
    chunks,
    ids_for_qaids,
    parse_time,
    upsert_customers,
)

NAME_MAX = 60
MAX_IMPORT_ROWS = 1_000_000
MAX_REPORTED_ERRORS = 1000
MAX_CONDITIONS = 100
MAX_DEPTH = 5
OPS = ("eq", "neq", "in", "not_in", "gt", "gte", "lt", "lte", "contains", "exists", "within_days")
COLUMN_FIELDS = ("qaid", "name", "phone", "email", "wechat_openid", "push_token", "timezone", "created_at")
_COMPARE = {"gt": "__gt__", "gte": "__ge__", "lt": "__lt__", "lte": "__le__"}


class CrowdDataError(ServiceError):
    """An audience could not be materialised: the "failed to obtain crowd data" case of an execution record.
    `str(err)` starts with "Failed to obtain crowd data:" and says why."""

    def __init__(self, audience_id: int, detail: str) -> None:
        super().__init__(f"Failed to obtain crowd data: {detail}")
        self.audience_id = audience_id
        self.detail = detail


class CsvImportError(Invalid):
    """The CSV was refused (nothing saved); `errors` lists (line number, problem), line 1 being the header."""

    def __init__(self, errors: list[tuple[int, str]], total: int | None = None) -> None:
        total = total if total is not None else len(errors)
        shown = "; ".join(f"line {line}: {problem}" for line, problem in errors[:10])
        more = f" (and {total - 10} more)" if total > 10 else ""
        noun = "problem" if total == 1 else "problems"
        super().__init__(f"The CSV was not imported ({total} {noun}): {shown}{more}.")
        self.errors = errors


# ---------------------------------------------------------------- reading


def list_audiences(*, session: Session, actor: User, kind: AudienceKind | None = None) -> list[Audience]:
    """The workspace's audiences, oldest first. Every role may read them (managers included)."""
    query = select(Audience).where(Audience.workspace_id == actor.workspace_id)
    if kind is not None:
        query = query.where(Audience.kind == kind)
    return list(session.exec(query.order_by(col(Audience.id))).all())


def get_audience(*, session: Session, actor: User, audience_id: int) -> Audience:
    audience = session.get(Audience, audience_id)
    if audience is None or audience.workspace_id != actor.workspace_id:
        raise NotFound("Audience not found.")
    return audience


def static_sizes(*, session: Session, audience_ids: list[int]) -> dict[int, int]:
    """Member counts of static audiences (one grouped query; rule audiences are counted by `count_members`)."""
    if not audience_ids:
        return {}
    rows = session.exec(select(AudienceMember.audience_id, func.count()).where(
        col(AudienceMember.audience_id).in_(audience_ids)).group_by(col(AudienceMember.audience_id))).all()
    return {aid: int(n) for aid, n in rows}


# ---------------------------------------------------------------- rules


def _split_field(name: Any) -> tuple[str, str] | None:
    if not isinstance(name, str):
        return None
    if name.startswith(("tag:", "attr:")):
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
        return [f"{where}: unknown field {fld!r} (use tag:<name>, attr:<name> or one of {', '.join(COLUMN_FIELDS)})"]
    if op not in OPS:
        return [f"{where}: unknown operator {op!r} (use one of {', '.join(OPS)})"]
    kind, key = split
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
    # each occurrence is processed separately so positional parameters line up
    a, b, c = (_arg(element, compiler, **kw) for _ in range(3))
    return f"(CASE WHEN {a} <> '' AND {b} NOT GLOB '*[^0-9.eE+-]*' THEN CAST({c} AS REAL) END)"


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


def _tag_cond(key: str, op: str, value: Any) -> ColumnElement[bool]:
    base = [TAG.c.customer_id == CUSTOMER.c.id, TAG.c.tag == key]

    def has(*extra: Any) -> ColumnElement[bool]:
        return exists().where(*base, *extra)

    def text(v: Any) -> str:
        return ("true" if v else "false") if isinstance(v, bool) else str(v)

    if op == "exists":
        return has() if value in (None, True) else not_(has())
    if op == "contains":
        return has(TAG.c.value.like(_like(value), escape="\\"))
    if op in ("eq", "neq"):
        match = has(as_number(TAG.c.value) == value) if _is_number(value) else has(TAG.c.value == text(value))
        return match if op == "eq" else not_(match)
    if op in ("in", "not_in"):
        match = has(TAG.c.value.in_([text(v) for v in value]))
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


def compile_rule(rule: dict[str, Any]) -> ColumnElement[bool]:
    """The rule as a WHERE clause over the customer table (validate it first)."""

    def cond(item: dict[str, Any]) -> ColumnElement[bool]:
        if {"all", "any"} & set(item):
            return group(item)
        split = _split_field(item["field"])
        if split is None:
            raise TypeError(f"unknown field {item['field']!r}: validate the rule first")
        kind, key = split
        op, value = item["op"], item.get("value")
        if kind == "tag":
            return _tag_cond(key, op, value)
        if kind == "attr":
            return _attr_cond(key, op, value)
        return _column_cond(key, op, value)

    def group(g: dict[str, Any]) -> ColumnElement[bool]:
        parts = []
        if g.get("all"):
            parts.append(and_(*[cond(i) for i in g["all"]]))
        if g.get("any"):
            parts.append(or_(*[cond(i) for i in g["any"]]))
        return and_(*parts) if parts else true()

    return group(rule)


def _rule_query(workspace_id: int, rule: dict[str, Any]) -> Select[Any]:
    return select(CUSTOMER.c.id).where(CUSTOMER.c.workspace_id == workspace_id, compile_rule(rule))


def _members_query(audience: Audience) -> Select[Any]:
    """Customer ids of the audience (unordered). Raises CrowdDataError for a bad rule."""
    if audience.kind == AudienceKind.RULE:
        problems = validate_rule(audience.rule)
        if problems:
            raise CrowdDataError(audience.id or 0, f"the rule of audience “{audience.name}” is invalid: "
                                 + "; ".join(problems[:3]) + ".")
        return _rule_query(audience.workspace_id, audience.rule)
    return (select(AudienceMember.customer_id)
            .join(CUSTOMER, CUSTOMER.c.id == col(AudienceMember.customer_id))
            .where(AudienceMember.audience_id == audience.id, CUSTOMER.c.workspace_id == audience.workspace_id))


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
    audience = _load(session, audience_id, workspace_id)
    query = _members_query(audience)
    try:
        # streamed in chunks: a million buffered result rows cost the worker that starts the round ~100 MiB more
        # than the list of ids itself
        ordered = query.order_by(query.selected_columns[0]).execution_options(yield_per=20_000)
        return [int(i) for i in session.execute(ordered).scalars()]
    except SQLAlchemyError as err:
        raise CrowdDataError(audience_id, f"the database failed while reading audience “{audience.name}” "
                             f"({err.__class__.__name__}).") from err


def members_among(*, session: Session, audience_id: int, customer_ids: list[int],
                  workspace_id: int | None = None) -> set[int]:
    """Which of `customer_ids` are in the audience (Audience Judgment), without materialising all of it."""
    audience = _load(session, audience_id, workspace_id)
    query = _members_query(audience)
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
    query = _members_query(audience)
    try:
        return int(session.execute(select(func.count()).select_from(query.subquery())).scalar_one())
    except SQLAlchemyError as err:
        raise CrowdDataError(audience_id, f"the database failed while counting audience “{audience.name}” "
                             f"({err.__class__.__name__}).") from err


def preview_rule(*, session: Session, actor: User, rule: dict[str, Any]) -> int:
    """How many customers of the actor's workspace a rule matches now (the rule builder's live count)."""
    problems = validate_rule(rule)
    if problems:
        raise Invalid("The rule is not valid: " + "; ".join(problems) + ".")
    query = _rule_query(actor.workspace_id, rule)
    return int(session.execute(select(func.count()).select_from(query.subquery())).scalar_one())


# ---------------------------------------------------------------- creating


def _check_name(session: Session, workspace_id: int, name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise Invalid("Enter an audience name.")
    if len(name) > NAME_MAX:
        raise Invalid(f"The audience name can be at most {NAME_MAX} characters ({len(name)} entered).")
    if session.exec(select(Audience.id).where(Audience.workspace_id == workspace_id, Audience.name == name)).first():
        raise Conflict(f"An audience named “{name}” already exists.")
    return name


def create_rule_audience(*, session: Session, actor: User, name: str, rule: dict[str, Any]) -> Audience:
    """A rule audience (admins and marketers); its members are computed whenever a flow runs."""
    require_writer(actor)
    name = _check_name(session, actor.workspace_id, name)
    problems = validate_rule(rule)
    if problems:
        raise Invalid("The rule is not valid: " + "; ".join(problems) + ".")
    audience = Audience(workspace_id=actor.workspace_id, name=name, kind=AudienceKind.RULE, rule=rule,
                        source="rule", created_by=actor.id)
    session.add(audience)
    session.flush()
    return audience


def add_members(*, session: Session, audience_id: int, customer_ids: list[int]) -> int:
    """Add customers to a static audience (duplicates ignored); returns how many ids were given."""
    from engine.services.customers import _dialect_insert

    ids = list(dict.fromkeys(customer_ids))
    if not ids:
        return 0
    table = table_of(AudienceMember)
    dialect_insert = _dialect_insert(session)
    rows = [{"audience_id": audience_id, "customer_id": cid} for cid in ids]
    if dialect_insert is not None:
        session.execute(dialect_insert(table).on_conflict_do_nothing(), rows)
    else:
        present = set(session.exec(select(AudienceMember.customer_id).where(
            AudienceMember.audience_id == audience_id)).all())
        session.execute(table.insert(), [r for r in rows if r["customer_id"] not in present])
    return len(ids)


def create_static_audience(*, session: Session, workspace_id: int, name: str, customer_ids: list[int],
                           source: str = "", created_by: int | None = None) -> Audience:
    """A static audience with the given members (Generate Audience / Generate Crowd use this). Names need
    not be unique here: system-made audiences are told apart by `source`."""
    audience = Audience(workspace_id=workspace_id, name=name.strip()[:NAME_MAX] or "Audience",
                        kind=AudienceKind.STATIC, source=source[:120], created_by=created_by)
    session.add(audience)
    session.flush()
    add_members(session=session, audience_id=row_id(audience), customer_ids=customer_ids)
    session.flush()
    return audience


def delete_audience(*, session: Session, actor: User, audience_id: int) -> None:
    """Delete an audience (admins and marketers). Flows that still use it fail with "failed to obtain crowd
    data" on their next run, which the execution records show."""
    require_writer(actor)
    audience = get_audience(session=session, actor=actor, audience_id=audience_id)
    members = table_of(AudienceMember)
    session.execute(members.delete().where(members.c.audience_id == audience.id))
    session.delete(audience)
    session.flush()


# ---------------------------------------------------------------- CSV import

_ALIASES = {"qaid": "qaid", "qa_id": "qaid", "user_id": "qaid", "name": "name", "phone": "phone", "mobile": "phone",
            "email": "email", "wechat_openid": "wechat_openid", "wechat_open_id": "wechat_openid",
            "openid": "wechat_openid", "push_token": "push_token", "timezone": "timezone", "time_zone": "timezone"}
_NUMBER = re.compile(r"^-?(0|[1-9]\d*)(\.\d+)?$")


@dataclass
class ImportResult:
    audience: Audience
    rows: int  # data rows read
    members: int  # distinct customers in the audience
    customers_created: int = 0
    customers_updated: int = 0
    warnings: list[str] = field(default_factory=list)


def _read_text(csv_text: str | None, file: IO[str] | IO[bytes] | None) -> str:
    if csv_text is not None and file is None:
        data: str | bytes = csv_text
    elif file is not None and csv_text is None:
        data = file.read()
    else:
        raise Invalid("Give either the CSV text or a file.")
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as err:
            raise Invalid("The CSV must be UTF-8 text.") from err
    return data.lstrip("\ufeff")


def _header(cells: list[str]) -> list[tuple[str, str]]:
    """(kind, key) per column: ("qaid"|profile field, ""), ("tag", name), ("attr", name)."""
    columns: list[tuple[str, str]] = []
    problems: list[str] = []
    for n, raw in enumerate(cells, start=1):
        text = raw.strip()
        low = text.lower()
        if low.startswith(("tag:", "attr:")):
            kind, _, key = text.partition(":")
            key = key.strip()
            if not key:
                problems.append(f"column {n} ('{text}') has no {kind.lower()} name")
            columns.append((kind.lower(), key))
        elif re.sub(r"[\s-]+", "_", low) in _ALIASES:
            columns.append((_ALIASES[re.sub(r"[\s-]+", "_", low)], ""))
        elif not text:
            problems.append(f"column {n} has no name")
            columns.append(("", ""))
        else:
            problems.append(f"unknown column '{text}'")
            columns.append(("", ""))
    seen: set[tuple[str, str]] = set()
    for c in columns:
        if c in seen and c[0]:
            problems.append(f"the column '{c[0] + (':' + c[1] if c[1] else '')}' appears twice")
        seen.add(c)
    if ("qaid", "") not in seen:
        problems.append("a 'qaid' column is required")
    if problems:
        allowed = "qaid, " + ", ".join(PROFILE_FIELDS) + ", tag:<tag name>, attr:<attribute name>"
        raise CsvImportError([(1, "; ".join(problems) + f" (columns: {allowed})")])
    return columns


def _delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] and not counts[","] else ","


def parse_csv(text: str) -> tuple[list[tuple[int, dict[str, Any]]], bool]:
    """Rows as (line number, customer row), and whether the file carries customer data beyond the QAID.
    Raises CsvImportError with every bad line."""
    first_line = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first_line))
    try:
        header = next(reader)
    except StopIteration:
        raise CsvImportError([(1, "the file is empty; the first line must name the columns")]) from None
    except csv.Error as err:
        raise CsvImportError([(1, f"unreadable header ({err})")]) from None
    columns = _header(header)
    line = reader.line_num
    has_data = any(kind != "qaid" for kind, _ in columns)
    rows: list[tuple[int, dict[str, Any]]] = []
    errors: list[tuple[int, str]] = []
    error_count = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as err:
            error_count += 1
            errors.append((reader.line_num, f"unreadable row ({err})"))
            break
        line_start, line = line + 1, reader.line_num
        if not any(c.strip() for c in cells):
            continue
        if len(rows) >= MAX_IMPORT_ROWS:
            raise CsvImportError([(line_start, f"the file has more than {MAX_IMPORT_ROWS:,} rows")])
        if len(cells) != len(columns):
            error_count += 1
            if len(errors) < MAX_REPORTED_ERRORS:
                errors.append((line_start, f"{len(cells)} values, but the header has {len(columns)} columns"))
            continue
        row: dict[str, Any] = {"attributes": {}, "tags": {}}
        for (kind, key), cell in zip(columns, cells, strict=True):
            value = cell.strip()
            if kind == "tag":
                if value:
                    row["tags"][key] = value
            elif kind == "attr":
                if value:
                    row["attributes"][key] = (float(value) if "." in value else int(value)) \
                        if _NUMBER.match(value) else value
            else:
                row[kind] = value
        problems = check_fields(row)
        if problems:
            error_count += 1
            if len(errors) < MAX_REPORTED_ERRORS:
                errors.append((line_start, "; ".join(problems)))
            continue
        row["qaid"] = row["qaid"].strip()
        rows.append((line_start, row))
    if errors:
        raise CsvImportError(errors, error_count)
    if not rows:
        raise CsvImportError([(2, "the file has a header but no customer rows")])
    return rows, has_data


def import_csv(*, session: Session, actor: User, name: str, csv_text: str | None = None,
               file: IO[str] | IO[bytes] | None = None) -> ImportResult:
    """A static audience from a CSV (admins and marketers): a header line naming the columns, then one
    customer per line. `qaid` is required; name, phone, email, wechat_openid, push_token, timezone,
    tag:<tag> and attr:<attribute> columns create or update the customers (an empty cell keeps the stored
    value). A file of QAIDs only must name existing customers. All or nothing: any bad line refuses the
    whole file with a CsvImportError listing the line numbers."""
    require_writer(actor)
    return import_csv_for_workspace(session=session, workspace_id=actor.workspace_id, name=name,
                                    csv_text=csv_text, file=file, created_by=actor.id, source="CSV import")


def import_csv_for_workspace(
    *, session: Session, workspace_id: int, name: str, csv_text: str | None = None,
    file: IO[str] | IO[bytes] | None = None, created_by: int | None = None, source: str = "CSV import",
) -> ImportResult:
    """`import_csv` without a user (the HTTP API, authenticated by the workspace's API key)."""
    name = _check_name(session, workspace_id, name)
    rows, has_data = parse_csv(_read_text(csv_text, file))
    created = updated = 0
    if has_data:
        result = upsert_customers(session=session, workspace_id=workspace_id, rows=[r for _, r in rows])
        ids, created, updated = result.ids, result.created, result.updated
    else:
        ids = ids_for_qaids(session=session, workspace_id=workspace_id, qaids=[r["qaid"] for _, r in rows])
        unknown = [(line, f"no customer has the QAID '{r['qaid']}' (add profile columns such as name or phone to "
                    "create customers)") for line, r in rows if r["qaid"] not in ids]
        if unknown:
            raise CsvImportError(unknown[:MAX_REPORTED_ERRORS], len(unknown))
    member_ids = list(dict.fromkeys(ids[r["qaid"]] for _, r in rows))
    audience = create_static_audience(session=session, workspace_id=workspace_id, name=name,
                                      customer_ids=member_ids, source=source, created_by=created_by)
    warnings = []
    if len(member_ids) < len(rows):
        warnings.append(f"{len(rows) - len(member_ids)} rows repeated a QAID already in the file.")
    return ImportResult(audience=audience, rows=len(rows), members=len(member_ids), customers_created=created,
                        customers_updated=updated, warnings=warnings)
