"""The Automated Marketing list: counts per status, filters, search, server-side sorting and paging.

Everything is filtered by what the actor may see (permissions.visible_clause) first, so counts, search and
pages can never reveal a private activity of someone else. Searches apply inside the chosen status.
"""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, and_, func, or_
from sqlalchemy.orm import Mapped
from sqlmodel import Session, col, select

from engine.errors import Invalid
from engine.models import (
    Activity,
    ActivityCampaignLink,
    ActivityGroup,
    ActivityVersion,
    MarketingCampaign,
    Schedule,
    User,
    VersionAudience,
    row_id,
)
from engine.permissions import visible_clause
from engine.services.groups import subtree_ids
from engine.status import FINISHED_STATUSES, ActivityStatus, ApprovalStatus, approval_label

SORTABLE: dict[str, Mapped[Any]] = {
    "name": col(Activity.name),
    "status": col(Activity.status),
    "approval_status": col(Activity.approval_status),
    "created_at": col(Activity.created_at),
    "updated_at": col(Activity.updated_at),
    "start_time": col(Activity.start_time),
    "end_time": col(Activity.end_time),
}
#: the status-bar filter accepts every status plus "finished" (normal and abnormal ends together)
STATUS_FILTERS = {s.value for s in ActivityStatus} | {"finished"}
#: seed 004's second filter: an approval status, or "none" (never asked to go live: N/A)
APPROVAL_FILTERS = {a.value for a in ApprovalStatus} | {"none"}
MAX_PAGE_SIZE = 200


class ListQuery(BaseModel):
    status: str | None = None
    approval: str | None = None  # APPROVAL_FILTERS
    group_id: int | None = None
    ungrouped: bool = False
    search: str = ""
    campaign_ids: list[int] = Field(default_factory=list)
    process_id: int | None = None  # made from this reusable process (services.processes)
    audience_id: int | None = None  # its current or live version's Target Audience enters this audience
    sort: str = "updated_at"
    descending: bool = True
    page: int = 1
    page_size: int = 20


class ActivityRow(BaseModel):
    id: int
    name: str
    description: str
    status: str
    status_label: str
    owner_id: int
    owner_name: str
    is_public: bool
    group_id: int | None
    group_name: str
    start_time: datetime | None
    end_time: datetime | None
    created_at: datetime
    updated_at: datetime
    version_number: int | None
    template_key: str | None
    campaigns: list[str]
    schedule: str = "Once"  # schedule_label
    next_run: datetime | None = None  # when the scheduler starts its next round (None: nothing planned)
    approval_status: str = ""  # seed 004: "" = never asked to go live
    approval_label: str = "N/A"
    process_id: int | None = None  # the process it was made from (None: none, or that process was deleted)
    process_name: str = ""  # "" when not made from a process


class ActivityPage(BaseModel):
    rows: list[ActivityRow]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def _scope(*, session: Session, actor: User, group_id: int | None, ungrouped: bool) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = [visible_clause(actor)]
    if ungrouped:
        clauses.append(col(Activity.group_id).is_(None))
    elif group_id is not None:
        clauses.append(col(Activity.group_id).in_(subtree_ids(session=session, workspace_id=actor.workspace_id,
                                                              group_id=group_id)))
    return clauses


def expand_campaigns(*, session: Session, workspace_id: int, campaign_ids: list[int]) -> list[int]:
    """Sub-campaign ids for a selection: a primary campaign stands for all of its sub-campaigns."""
    if not campaign_ids:
        return []
    rows = session.exec(
        select(MarketingCampaign).where(
            MarketingCampaign.workspace_id == workspace_id,
            (col(MarketingCampaign.id).in_(campaign_ids)) | (col(MarketingCampaign.parent_id).in_(campaign_ids)),
        )
    ).all()
    return sorted({c.id for c in rows if c.parent_id is not None and c.id is not None})


def _status_clause(status: str) -> ColumnElement[bool]:
    if status not in STATUS_FILTERS:
        raise Invalid(f"Unknown status filter '{status}'.")
    if status == "finished":
        return col(Activity.status).in_([s.value for s in FINISHED_STATUSES])
    return col(Activity.status) == status


def list_activities(*, session: Session, actor: User, query: ListQuery) -> ActivityPage:
    if query.sort not in SORTABLE:
        raise Invalid(f"Cannot sort by '{query.sort}'.")
    page_size = min(max(query.page_size, 1), MAX_PAGE_SIZE)
    clauses = _scope(session=session, actor=actor, group_id=query.group_id, ungrouped=query.ungrouped)
    if query.status:
        clauses.append(_status_clause(query.status))
    if query.approval:
        if query.approval not in APPROVAL_FILTERS:
            raise Invalid(f"Unknown approval status filter '{query.approval}'.")
        clauses.append(col(Activity.approval_status).is_(None) if query.approval == "none"
                       else col(Activity.approval_status) == query.approval)
    if query.search.strip():
        clauses.append(func.lower(Activity.name).contains(query.search.strip().lower(), autoescape=True))
    if query.campaign_ids:
        subs = expand_campaigns(session=session, workspace_id=actor.workspace_id, campaign_ids=query.campaign_ids)
        clauses.append(col(Activity.id).in_(
            select(ActivityCampaignLink.activity_id).where(col(ActivityCampaignLink.campaign_id).in_(subs))
        ))
    if query.process_id is not None:
        clauses.append(col(Activity.process_id) == query.process_id)
    if query.audience_id is not None:
        using = select(VersionAudience.version_id).where(VersionAudience.audience_id == query.audience_id)
        clauses.append(or_(col(Activity.current_version_id).in_(using), col(Activity.live_version_id).in_(using)))
    where = and_(*clauses)
    total = session.exec(select(func.count()).select_from(Activity).where(where)).one()
    pages = max(1, -(-total // page_size))
    page = min(max(query.page, 1), pages)
    order = SORTABLE[query.sort]
    ordering = [order.desc() if query.descending else order.asc(),
                col(Activity.id).desc() if query.descending else col(Activity.id).asc()]
    stmt = (
        select(Activity, User.display_name, ActivityGroup.name, ActivityVersion.number)
        .join(User, col(User.id) == Activity.owner_id)
        .outerjoin(ActivityGroup, col(ActivityGroup.id) == Activity.group_id)
        .outerjoin(ActivityVersion, col(ActivityVersion.id) == Activity.current_version_id)
        .where(where)
        .order_by(*ordering)
        .offset((page - 1) * page_size)
        .limit(page_size)
    )
    found = session.exec(stmt).all()
    campaigns = campaign_names(session=session, activity_ids=[a.id for a, *_ in found])
    rows = [
        ActivityRow(
            id=row_id(a), name=a.name, description=a.description, status=a.status,
            status_label=ActivityStatus(a.status).label, owner_id=a.owner_id, owner_name=owner,
            is_public=a.is_public, group_id=a.group_id, group_name=gname or "Ungrouped",
            start_time=a.start_time, end_time=a.end_time, created_at=a.created_at, updated_at=a.updated_at,
            version_number=vnum, template_key=a.template_key, campaigns=campaigns.get(row_id(a), []),
            schedule=schedule_label(a.schedule, a.schedule_every), next_run=next_run(a),
            approval_status=a.approval_status or "", approval_label=approval_label(a.approval_status),
            process_id=a.process_id, process_name=a.process_name or "",
        )
        for a, owner, gname, vnum in found
    ]
    return ActivityPage(rows=rows, total=total, page=page, page_size=page_size)


_UNITS = {Schedule.MINUTES: "minute", Schedule.HOURLY: "hour", Schedule.DAILY: "day", Schedule.MONTHLY: "month"}
_EVERY_ONE = {Schedule.HOURLY: "Hourly", Schedule.DAILY: "Daily", Schedule.MONTHLY: "Monthly"}


def schedule_label(schedule: Schedule | str, every: int = 1) -> str:
    """"Once", "Daily", "Every 15 minutes", "Every 2 months": what the list and the dialogs call a schedule."""
    schedule = Schedule(schedule)
    if schedule == Schedule.ONCE:
        return "Once"
    if every <= 1 and schedule in _EVERY_ONE:
        return _EVERY_ONE[schedule]
    return f"Every {every} {_UNITS[schedule]}{'s' if every != 1 else ''}"


def next_run(activity: Activity) -> datetime | None:
    """When the scheduler starts the activity's next round, from the row alone (no query: the list stays as fast):
    a Not Started one at its start time; an In Progress periodic one at its next cycle while that is before the
    end time (engine/runtime/lifecycle.py cycles_due); anything else has none planned (a Paused one waits for
    Resume and its new start time)."""
    if activity.status == ActivityStatus.NOT_STARTED:
        return activity.start_time
    if activity.status == ActivityStatus.IN_PROGRESS and activity.schedule != Schedule.ONCE and activity.next_run_at:
        if activity.end_time is None or activity.next_run_at < activity.end_time:
            return activity.next_run_at
    return None


def campaign_names(*, session: Session, activity_ids: list[int | None]) -> dict[int, list[str]]:
    """activity id -> its sub-activities' names (the list's and the reach tasks' Sub-activities column)."""
    if not activity_ids:
        return {}
    pairs = session.exec(
        select(ActivityCampaignLink.activity_id, MarketingCampaign.name)
        .join(MarketingCampaign, col(MarketingCampaign.id) == ActivityCampaignLink.campaign_id)
        .where(col(ActivityCampaignLink.activity_id).in_(activity_ids))
        .order_by(MarketingCampaign.name)
    ).all()
    out: dict[int, list[str]] = {}
    for activity_id, name in pairs:
        out.setdefault(activity_id, []).append(name)
    return out


def status_counts(
    *, session: Session, actor: User, group_id: int | None = None, ungrouped: bool = False
) -> dict[str, int]:
    """Total and per-status counts for the status bar, within visibility and the selected group."""
    where = and_(*_scope(session=session, actor=actor, group_id=group_id, ungrouped=ungrouped))
    by_status = dict(
        session.exec(select(Activity.status, func.count()).where(where).group_by(Activity.status)).all()
    )
    counts = {s.value: int(by_status.get(s.value, 0)) for s in ActivityStatus}
    counts["finished"] = counts[ActivityStatus.COMPLETED.value] + counts[ActivityStatus.ABNORMAL_END.value]
    counts["finished_normal"] = counts[ActivityStatus.COMPLETED.value]
    counts["total"] = sum(int(v) for v in by_status.values())
    return counts
