"""Audiences: static lists (CSV import, Generate Audience / Generate Crowd) and rules over attributes and tags,
materialised when a flow runs. The rule format, its validator and compiler, and materialising / counting /
membership live in engine/shared/audiences.py (the runtime uses them too); here are the workspace's audience
actions: list (the /audiences page), create, edit, preview, delete, import.

"Used by" is read from the flows of every activity's current and live versions (target audience triggers and
Audience Judgment groups) and from the workspace's rules that name the audience (membership conditions). A
*live* activity (Not Started, In Progress, Paused) or another rule that uses an audience refuses its deletion,
naming them: deleting it would only turn their next round into "failed to obtain crowd data".
"""

import csv
import io
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any

from pydantic import BaseModel
from sqlalchemy import func
from sqlmodel import Session, col, select

from engine import clock
from engine.errors import Conflict, Invalid, NotFound
from engine.models import (
    Activity,
    ActivityVersion,
    Audience,
    AudienceKind,
    AudienceMember,
    User,
    row_id,
    table_of,
)
from engine.permissions import can_see, require_writer
from engine.services import consent
from engine.shared.audiences import (
    CrowdDataError,
    RuleReferenceError,
    audience_loader,
    count_members,
    index_sizes,
    referenced_audiences,
    rule_query,
    validate_rule,
)
from engine.shared.customers import (
    CUSTOMER,
    PROFILE_FIELDS,
    QAID_MAX,
    TAG_NAME_MAX,
    TAG_VALUE_MAX,
    BulkWriter,
    _dialect_insert,
    field_problem,
    ids_for_qaids,
    upsert_customers,
)
from engine.status import ActivityStatus

NAME_MAX = 60
MAX_IMPORT_ROWS = 1_000_000
MAX_REPORTED_ERRORS = 1000


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


def _checked_query(session: Session, workspace_id: int, rule: dict[str, Any], self_id: int | None = None,
                   by_index: bool = True) -> Any:
    """The rule's query; for a whole count (`by_index`) it starts from its most selective indexed condition."""
    problems = validate_rule(rule)
    if problems:
        raise Invalid("The rule is not valid: " + "; ".join(problems) + ".")
    try:
        sizes = index_sizes(session, workspace_id) if by_index else None
        return rule_query(workspace_id, rule, audience_loader(session, workspace_id), self_id, by_index, sizes)
    except RuleReferenceError as err:
        raise Invalid(f"The rule is not valid: {err}.") from err


def preview_rule(*, session: Session, actor: User, rule: dict[str, Any], audience_id: int | None = None) -> int:
    """How many customers of the actor's workspace a rule matches now (the rule builder's live count)."""
    query = _checked_query(session, actor.workspace_id, rule, audience_id)
    return int(session.execute(select(func.count()).select_from(query.subquery())).scalar_one())


@dataclass(frozen=True)
class Estimate:
    size: int
    sample: list[dict[str, str]]  # qaid, name, email of a few matching customers (lowest ids)
    counted_at: datetime


def estimate_rule(*, session: Session, actor: User, rule: dict[str, Any], audience_id: int | None = None,
                  sample: int = 5) -> Estimate:
    """The rule builder's estimate: the count (one query) and a few matching customers (one more, LIMIT n)."""
    query = _checked_query(session, actor.workspace_id, rule, audience_id)
    size = int(session.execute(select(func.count()).select_from(query.subquery())).scalar_one())
    # the rule in id order with per-customer probes: it stops at the n-th match (`id IN (rule)`, or the count's
    # index-driven form, would compute the whole rule first)
    first = _checked_query(session, actor.workspace_id, rule, audience_id, by_index=False)
    rows = session.execute(first.with_only_columns(CUSTOMER.c.qaid, CUSTOMER.c.name, CUSTOMER.c.email)
                           .order_by(CUSTOMER.c.id).limit(sample)).all() if size and sample > 0 else []
    return Estimate(size=size, sample=[{"qaid": q, "name": n or "", "email": e or ""} for q, n, e in rows],
                    counted_at=clock.now())


# ---------------------------------------------------------------- the list page

LIVE_STATUSES = frozenset({ActivityStatus.NOT_STARTED, ActivityStatus.IN_PROGRESS, ActivityStatus.PAUSED})
SORTABLE = ("name", "kind", "updated", "creator")
MAX_PAGE_SIZE = 100


def kind_of(audience: Audience) -> str:
    """rule / imported (CSV, API) / generated (Generate Audience, Generate Crowd, and the demo's lists)."""
    if audience.kind == AudienceKind.RULE:
        return "rule"
    return "imported" if "import" in (audience.source or "").lower() else "generated"


@dataclass(frozen=True)
class UsedBy:
    activity_id: int
    name: str
    status: ActivityStatus
    visible: bool  # False: a private activity of someone else (named only as "a private activity")

    @property
    def live(self) -> bool:
        return self.status in LIVE_STATUSES


def _flow_audiences(flow: Mapping[str, Any]) -> Iterator[int]:
    for node in flow.get("nodes") or []:
        config = node.get("config") or {} if isinstance(node, dict) else {}
        if node.get("type") == "target_audience" and isinstance(config.get("audience_id"), int):
            yield config["audience_id"]
        if node.get("type") == "audience_judgment":
            for g in config.get("groups") or []:
                if isinstance(g, dict) and isinstance(g.get("audience_id"), int):
                    yield g["audience_id"]


def used_by(*, session: Session, actor: User, audience_ids: list[int] | None = None) -> dict[int, list[UsedBy]]:
    """Audience id -> the activities whose current or live version uses it, by name."""
    wanted = set(audience_ids) if audience_ids is not None else None
    activities = session.exec(select(Activity).where(Activity.workspace_id == actor.workspace_id)).all()
    by_version: dict[int, Activity] = {}
    for a in activities:
        for vid in (a.current_version_id, a.live_version_id):
            if vid:
                by_version[vid] = a
    out: dict[int, dict[int, UsedBy]] = {}
    if by_version:
        rows = session.exec(select(ActivityVersion.id, ActivityVersion.flow)
                            .where(col(ActivityVersion.id).in_(list(by_version)))).all()
        for vid, flow in rows:
            activity = by_version[int(vid or 0)]
            for aid in _flow_audiences(flow or {}):
                if wanted is None or aid in wanted:
                    out.setdefault(aid, {})[row_id(activity)] = UsedBy(
                        row_id(activity), activity.name, activity.status, can_see(actor, activity))
    return {aid: sorted(users.values(), key=lambda u: u.name.lower()) for aid, users in out.items()}


def rules_using(*, session: Session, workspace_id: int, audience_id: int) -> list[Audience]:
    """The workspace's rule audiences whose rule names `audience_id` (membership conditions)."""
    rules = session.exec(select(Audience).where(Audience.workspace_id == workspace_id,
                                                Audience.kind == AudienceKind.RULE)).all()
    return [a for a in rules if a.id != audience_id and audience_id in referenced_audiences(a.rule)]


class AudienceQuery(BaseModel):
    search: str = ""
    kind: str | None = None  # rule / imported / generated
    sort: str = "updated"
    descending: bool = True
    page: int = 1
    page_size: int = 20


@dataclass(frozen=True)
class AudienceRow:
    id: int
    name: str
    kind: str
    size: int | None  # None: the rule could not be counted (size_error says why)
    counted_at: datetime | None  # rules: when the size was counted (now); static lists: None (fixed)
    size_error: str
    creator: str
    used_by: list[UsedBy]
    updated_at: datetime
    source: str


@dataclass(frozen=True)
class AudiencePage:
    rows: list[AudienceRow]
    total: int
    page: int
    pages: int


def list_page(*, session: Session, actor: User, query: AudienceQuery) -> AudiencePage:
    """One page of the workspace's audiences (every role reads them). Sizes: static lists in one grouped
    count, rules counted live, one query each for the rows of the page only."""
    if query.sort not in SORTABLE:
        raise Invalid(f"Cannot sort by {query.sort!r}.")
    size = max(1, min(query.page_size, MAX_PAGE_SIZE))
    stmt = select(Audience).where(Audience.workspace_id == actor.workspace_id)
    if query.search.strip():
        stmt = stmt.where(func.lower(Audience.name).contains(query.search.strip().lower(), autoescape=True))
    if query.kind == "rule":
        stmt = stmt.where(Audience.kind == AudienceKind.RULE)
    elif query.kind in ("imported", "generated"):
        imported = func.lower(Audience.source).contains("import")
        stmt = stmt.where(Audience.kind == AudienceKind.STATIC, imported if query.kind == "imported"
                          else ~imported)
    total = int(session.exec(select(func.count()).select_from(stmt.subquery())).one())
    pages = max(1, -(-total // size))
    page = max(1, min(query.page, pages))
    updated = func.coalesce(col(Audience.updated_at), col(Audience.created_at))
    creator = select(User.display_name).where(User.id == Audience.created_by).scalar_subquery()
    kind_key = func.lower(Audience.source).contains("import")
    orders_by: dict[str, Any] = {"name": func.lower(Audience.name), "updated": updated,
                                 "creator": func.coalesce(creator, ""), "kind": col(Audience.kind)}
    order = orders_by[query.sort]
    orders = [order.desc() if query.descending else order.asc()]
    if query.sort == "kind":
        orders.append(kind_key.desc() if query.descending else kind_key.asc())
    stmt = stmt.order_by(*orders, col(Audience.id).desc() if query.descending else col(Audience.id))
    audiences = list(session.exec(stmt.offset((page - 1) * size).limit(size)).all())
    ids = [row_id(a) for a in audiences]
    static = static_sizes(session=session, audience_ids=[i for i, a in zip(ids, audiences, strict=True)
                                                         if a.kind != AudienceKind.RULE])
    users = used_by(session=session, actor=actor, audience_ids=ids)
    creators = dict(session.exec(select(User.id, User.display_name).where(
        col(User.id).in_([a.created_by for a in audiences if a.created_by]))).all()) if audiences else {}
    rows = []
    for a in audiences:
        counted: datetime | None = None
        error = ""
        if a.kind == AudienceKind.RULE:
            try:
                n: int | None = count_members(session=session, audience_id=row_id(a), workspace_id=a.workspace_id)
                counted = clock.now()
            except CrowdDataError as err:
                n, error = None, err.detail
        else:
            n = static.get(row_id(a), 0)
        rows.append(AudienceRow(
            id=row_id(a), name=a.name, kind=kind_of(a), size=n, counted_at=counted, size_error=error,
            creator=creators.get(a.created_by or 0, "System" if a.created_by is None else "—"),
            used_by=users.get(row_id(a), []), updated_at=a.updated_at or a.created_at, source=a.source))
    return AudiencePage(rows=rows, total=total, page=page, pages=pages)


# ---------------------------------------------------------------- creating


def _check_name(session: Session, workspace_id: int, name: str, self_id: int | None = None) -> str:
    name = (name or "").strip()
    if not name:
        raise Invalid("Enter an audience name.")
    if len(name) > NAME_MAX:
        raise Invalid(f"The audience name can be at most {NAME_MAX} characters ({len(name)} entered).")
    same = select(Audience.id).where(Audience.workspace_id == workspace_id, Audience.name == name)
    if self_id is not None:
        same = same.where(Audience.id != self_id)
    if session.exec(same).first():
        raise Conflict(f"An audience named “{name}” already exists.")
    return name


def check_name(session: Session, workspace_id: int, name: str) -> str:
    """The name trimmed, or Invalid / Conflict (empty, too long, taken): the import asks before reading a file."""
    return _check_name(session, workspace_id, name)


def create_rule_audience(*, session: Session, actor: User, name: str, rule: dict[str, Any]) -> Audience:
    """A rule audience (admins and marketers); its members are computed whenever a flow runs."""
    require_writer(actor)
    name = _check_name(session, actor.workspace_id, name)
    _checked_query(session, actor.workspace_id, rule)
    audience = Audience(workspace_id=actor.workspace_id, name=name, kind=AudienceKind.RULE, rule=rule,
                        source="rule", created_by=actor.id)
    session.add(audience)
    session.flush()
    return audience


def update_rule_audience(*, session: Session, actor: User, audience_id: int, name: str,
                         rule: dict[str, Any]) -> Audience:
    """Rename a rule audience and replace its rule (admins and marketers); flows read the new rule on their
    next round. A rule may not come to refer to itself, directly or through other rules."""
    require_writer(actor)
    audience = get_audience(session=session, actor=actor, audience_id=audience_id)
    if audience.kind != AudienceKind.RULE:
        raise Conflict("Only a rule audience can be edited; a static list is fixed.")
    name = _check_name(session, actor.workspace_id, name, self_id=row_id(audience))
    _checked_query(session, actor.workspace_id, rule, row_id(audience))
    audience.name, audience.rule, audience.updated_at = name, rule, clock.now()
    session.add(audience)
    session.flush()
    return audience


def add_members(*, session: Session, audience_id: int, customer_ids: list[int],
                progress: Callable[[int], None] | None = None) -> int:
    """Add customers to a static audience (duplicates ignored); returns how many ids were given. `progress`
    hears how many more were written, block by block."""
    ids = list(dict.fromkeys(customer_ids))
    if not ids:
        return 0
    table = table_of(AudienceMember)
    dialect_insert = _dialect_insert(session)
    if dialect_insert is not None:  # SQLite, PostgreSQL: plain tuples through the driver (a million members)
        raw = BulkWriter(session)
        raw.many(f"INSERT INTO audiencemember (audience_id, customer_id) VALUES ({raw.ph}, {raw.ph}) "
                 "ON CONFLICT DO NOTHING", [(audience_id, cid) for cid in ids], progress)
        raw.refresh_statistics(len(ids), "audiencemember")
        return len(ids)
    present = set(session.exec(select(AudienceMember.customer_id).where(
        AudienceMember.audience_id == audience_id)).all())
    session.execute(table.insert(), [{"audience_id": audience_id, "customer_id": cid} for cid in ids
                                     if cid not in present])
    return len(ids)


def create_static_audience(*, session: Session, workspace_id: int, name: str, customer_ids: list[int],
                           source: str = "", created_by: int | None = None,
                           progress: Callable[[int], None] | None = None) -> Audience:
    """A static audience with the given members (Generate Audience / Generate Crowd use this). Names need
    not be unique here: system-made audiences are told apart by `source`."""
    audience = Audience(workspace_id=workspace_id, name=name.strip()[:NAME_MAX] or "Audience",
                        kind=AudienceKind.STATIC, source=source[:120], created_by=created_by)
    session.add(audience)
    session.flush()
    add_members(session=session, audience_id=row_id(audience), customer_ids=customer_ids, progress=progress)
    session.flush()
    return audience


def delete_audience(*, session: Session, actor: User, audience_id: int) -> None:
    """Delete an audience (admins and marketers). Refused while a live activity (Not Started, In Progress,
    Paused) or another rule uses it, naming them; a Draft or ended activity that still names it fails with
    "failed to obtain crowd data" if it ever runs again."""
    require_writer(actor)
    audience = get_audience(session=session, actor=actor, audience_id=audience_id)
    live = [u for u in used_by(session=session, actor=actor, audience_ids=[row_id(audience)]).get(
        row_id(audience), []) if u.live]
    rules = rules_using(session=session, workspace_id=actor.workspace_id, audience_id=row_id(audience))
    if live or rules:
        names = [f"“{u.name}” ({u.status.label})" for u in live if u.visible]
        hidden = sum(1 for u in live if not u.visible)
        if hidden:
            names.append(f"{hidden} private activit{'y' if hidden == 1 else 'ies'} of other users")
        names += [f"the rule of audience “{a.name}”" for a in rules]
        raise Conflict(f"“{audience.name}” cannot be deleted while it is used by " + ", ".join(names) + ".")
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


def decode_csv(data: str | bytes) -> str:
    """The file as text (UTF-8, a byte-order mark dropped); Invalid when it is not UTF-8."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as err:
            raise Invalid("The CSV must be UTF-8 text.") from err
    return data.lstrip("\ufeff")


def _read_text(csv_text: str | None, file: IO[str] | IO[bytes] | None) -> str:
    if csv_text is not None and file is None:
        return decode_csv(csv_text)
    if file is not None and csv_text is None:
        return decode_csv(file.read())
    raise Invalid("Give either the CSV text or a file.")


SKIP = "-"  # a mapped column the import leaves out


def _header(cells: list[str]) -> list[tuple[str, str]]:
    """(kind, key) per column: ("qaid"|profile field, ""), ("tag", name), ("attr", name), ("skip", "")."""
    columns: list[tuple[str, str]] = []
    problems: list[str] = []
    for n, raw in enumerate(cells, start=1):
        text = raw.strip()
        low = text.lower()
        if text == SKIP:
            columns.append(("skip", ""))
        elif low.startswith(("tag:", "attr:")):
            kind, _, key = text.partition(":")
            key = key.strip()
            if not key:
                problems.append(f"column {n} ('{text}') has no {kind.lower()} name")
            elif kind.lower() == "tag" and len(key) > TAG_NAME_MAX:
                problems.append(f"column {n}: the tag name '{key[:20]}…' is longer than {TAG_NAME_MAX} characters")
            columns.append((kind.lower(), key))
        elif low.startswith(consent.IMPORT_PREFIX):  # optout:<channel>: the customer's consent (issue 15)
            key = text.partition(":")[2].strip().lower()
            if key not in consent.CHANNELS:
                problems.append(f"column {n} ('{text}'): unknown channel (use {', '.join(consent.CHANNELS)})")
            columns.append(("optout", key))
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
        if c in seen and c[0] and c[0] != "skip":
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


def csv_header(text: str) -> list[str]:
    """The first line's column names (the mapping step shows them)."""
    first_line = text.split("\n", 1)[0]
    try:
        return next(csv.reader(io.StringIO(first_line), delimiter=_delimiter(first_line)), [])
    except csv.Error:
        return []


def suggested_column(name: str) -> str:
    """What a header cell maps to by default: a profile field, tag:/attr: as written, else attr:<name>."""
    text = name.strip()
    low = re.sub(r"[\s-]+", "_", text.lower())
    if text.lower().startswith(("tag:", "attr:", consent.IMPORT_PREFIX)):
        kind, _, key = text.partition(":")
        return f"{kind.lower()}:{key.strip()}"
    return _ALIASES.get(low, f"attr:{text}" if text else SKIP)


Progress = Callable[[str, int, int], None]  # (phase, done, total)


def parse_csv(text: str, columns: list[str] | None = None,
              progress: Progress | None = None) -> tuple[list[tuple[int, dict[str, Any]]], bool]:
    """Rows as (line number, customer row), and whether the file carries customer data beyond the QAID.
    `columns` replaces the header's names (the mapping step; "-" leaves a column out). Raises CsvImportError
    with every bad line."""
    first_line = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first_line))
    try:
        header = next(reader)
    except StopIteration:
        raise CsvImportError([(1, "the file is empty; the first line must name the columns")]) from None
    except csv.Error as err:
        raise CsvImportError([(1, f"unreadable header ({err})")]) from None
    if columns is not None:
        if len(columns) != len(header):
            raise CsvImportError([(1, f"the mapping names {len(columns)} columns, the file has {len(header)}")])
        header = columns
    columns_ = _header(header)
    line = reader.line_num
    has_data = any(kind not in ("qaid", "skip") for kind, _ in columns_)
    qaid_at = columns_.index(("qaid", ""))
    order = {f: n for n, f in enumerate(PROFILE_FIELDS)}  # problems in check_fields' order
    profile_at = sorted(((at, kind) for at, (kind, _) in enumerate(columns_) if kind in order),
                        key=lambda c: order[c[1]])
    tags_at = [(at, key) for at, (kind, key) in enumerate(columns_) if kind == "tag"]
    attrs_at = [(at, key) for at, (kind, key) in enumerate(columns_) if kind == "attr"]
    optouts_at = [(at, key) for at, (kind, key) in enumerate(columns_) if kind == "optout"]
    total_lines = text.count("\n") + 1
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
        if progress is not None and line_start % 5000 == 0:
            progress("reading", line_start, total_lines)
        if not any(c.strip() for c in cells):
            continue
        if len(rows) >= MAX_IMPORT_ROWS:
            raise CsvImportError([(line_start, f"the file has more than {MAX_IMPORT_ROWS:,} rows")])
        if len(cells) != len(columns_):
            error_count += 1
            if len(errors) < MAX_REPORTED_ERRORS:
                errors.append((line_start, f"{len(cells)} values, but the header has {len(columns_)} columns"))
            continue
        # the checks of `check_fields`, column by column (a million rows: a generic check per row cost ~10 s)
        qaid = cells[qaid_at].strip()
        problems = []
        if not qaid:
            problems.append("the qaid is empty")
        elif len(qaid) > QAID_MAX:
            problems.append(f"the qaid is longer than {QAID_MAX} characters")
        row: dict[str, Any] = {"qaid": qaid, "attributes": {}, "tags": {}}
        for at, name_ in profile_at:
            value = row[name_] = cells[at].strip()
            if value and (problem := field_problem(name_, value)):
                problems.append(problem)
        for at, key in tags_at:
            value = cells[at].strip()
            if value:
                if len(value) > TAG_VALUE_MAX:
                    problems.append(f"the value of tag '{key}' is longer than {TAG_VALUE_MAX} characters")
                row["tags"][key] = value
        for at, key in attrs_at:
            value = cells[at].strip()
            if value:
                row["attributes"][key] = (float(value) if "." in value else int(value)) \
                    if _NUMBER.match(value) else value
        if optouts_at:
            consent.parse_import_cells(row, [(key, cells[at]) for at, key in optouts_at], problems)
        if problems:
            error_count += 1
            if len(errors) < MAX_REPORTED_ERRORS:
                errors.append((line_start, "; ".join(problems)))
            continue
        rows.append((line_start, row))
    if errors:
        raise CsvImportError(errors, error_count)
    if not rows:
        raise CsvImportError([(2, "the file has a header but no customer rows")])
    return rows, has_data


#: what `parse_csv` returns: (line number, customer row) per data line, and whether there is profile data
Parsed = tuple[list[tuple[int, dict[str, Any]]], bool]


def import_csv(*, session: Session, actor: User, name: str, csv_text: str | None = None,
               file: IO[str] | IO[bytes] | None = None, columns: list[str] | None = None,
               progress: Progress | None = None, parsed: Parsed | None = None) -> ImportResult:
    """A static audience from a CSV (admins and marketers): a header line naming the columns, then one
    customer per line. `qaid` is required; name, phone, email, wechat_openid, push_token, timezone,
    tag:<tag> and attr:<attribute> columns create or update the customers (an empty cell keeps the stored
    value). A file of QAIDs only must name existing customers. All or nothing: any bad line refuses the
    whole file with a CsvImportError listing the line numbers. `parsed`: the file already read by
    `parse_csv` (outside the write transaction, which then holds SQLite's write lock only to write)."""
    require_writer(actor)
    return import_csv_for_workspace(session=session, workspace_id=actor.workspace_id, name=name,
                                    csv_text=csv_text, file=file, created_by=actor.id, source="CSV import",
                                    columns=columns, progress=progress, parsed=parsed)


def import_csv_for_workspace(
    *, session: Session, workspace_id: int, name: str, csv_text: str | None = None,
    file: IO[str] | IO[bytes] | None = None, created_by: int | None = None, source: str = "CSV import",
    columns: list[str] | None = None, progress: Progress | None = None, parsed: Parsed | None = None,
) -> ImportResult:
    """`import_csv` without a user (the HTTP API, authenticated by the workspace's API key). `progress` hears
    ("reading", line, lines) while the file is checked, then ("saving", done, rows) as the rows are written."""
    name = _check_name(session, workspace_id, name)
    rows, has_data = parsed if parsed is not None else parse_csv(_read_text(csv_text, file), columns, progress)
    created = updated = 0
    written = 0
    # the bar's "saving" steps: customer rows, tag rows, members (each written in blocks)
    steps = len(rows) * (2 + (1 if any(r["tags"] for _, r in rows) else 0)) if has_data else len(rows)
    if progress is not None:
        progress("saving", 0, steps)

    def wrote(n: int) -> None:
        nonlocal written
        written += n
        if progress is not None:
            progress("saving", min(written, steps), steps)

    consents = consent.take_import_rows([r for _, r in rows])  # optout:<channel> columns, applied below
    if has_data:  # parse_csv checked every row
        result = upsert_customers(session=session, workspace_id=workspace_id, rows=[r for _, r in rows],
                                  checked=True, progress=wrote)
        ids, created, updated = result.ids, result.created, result.updated
    else:
        ids = ids_for_qaids(session=session, workspace_id=workspace_id, qaids=[r["qaid"] for _, r in rows])
        unknown = [(line, f"no customer has the QAID '{r['qaid']}' (add profile columns such as name or phone to "
                    "create customers)") for line, r in rows if r["qaid"] not in ids]
        if unknown:
            raise CsvImportError(unknown[:MAX_REPORTED_ERRORS], len(unknown))
    consent.apply_import(session=session, ids=ids, consents=consents)
    member_ids = list(dict.fromkeys(ids[r["qaid"]] for _, r in rows))
    audience = create_static_audience(session=session, workspace_id=workspace_id, name=name,
                                      customer_ids=member_ids, source=source, created_by=created_by, progress=wrote)
    warnings = []
    if len(member_ids) < len(rows):
        warnings.append(f"{len(rows) - len(member_ids)} rows repeated a QAID already in the file.")
    return ImportResult(audience=audience, rows=len(rows), members=len(member_ids), customers_created=created,
                        customers_updated=updated, warnings=warnings)
