"""Audiences: static lists (CSV import, Generate Audience / Generate Crowd) and rules over attributes and tags,
materialised when a flow runs. The rule format, its validator and compiler, and materialising / counting /
membership live in engine/shared/audiences.py (the runtime uses them too); here are the workspace's audience
actions: list, create, preview, delete, import.
"""

import csv
import io
import re
from dataclasses import dataclass, field
from typing import IO, Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from engine.errors import Conflict, Invalid, NotFound
from engine.models import Audience, AudienceKind, AudienceMember, User, row_id, table_of
from engine.permissions import require_writer
from engine.shared.audiences import rule_query, validate_rule
from engine.shared.customers import (
    PROFILE_FIELDS,
    _dialect_insert,
    check_fields,
    ids_for_qaids,
    upsert_customers,
)

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


def preview_rule(*, session: Session, actor: User, rule: dict[str, Any]) -> int:
    """How many customers of the actor's workspace a rule matches now (the rule builder's live count)."""
    problems = validate_rule(rule)
    if problems:
        raise Invalid("The rule is not valid: " + "; ".join(problems) + ".")
    query = rule_query(actor.workspace_id, rule)
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
