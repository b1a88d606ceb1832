"""Task details of a reach task (seed 003, "View details"): the content with a preview, the send time, the counts
(included, succeeded, failed, no feedback), one row per number sent (last four digits only, time, result,
failure reason) and **Generate Audience** from the succeeded / failed / no-feedback numbers.

Where it comes from: a task is a round × a component of the channel (engine/services/reach_tasks.py); its
counts are the round's counters (the list's numbers), its rows the component's per-customer send rows
(`CustomerStep`: the result a receipt wrote, the reason the provider gave or "No receipt within 72 hours"
once the scheduler's 72-hour rule failed it), joined to the customer for the phone number.

Retention: those rows are kept 7 days (168 hours, engine/runtime/lifecycle.py RETENTION). A task sent 7 days
ago or more is *expired* by rule, from its send time and the engine clock, whether or not the scheduler's purge
has run yet: the page shows the counts and says the details expired, lists no number, and
`generate_audience` refuses. Generate Audience is Generate Crowd (engine/services/crowds.py, the
`generate_crowd` actor): the same checks, operation rows, progress and worker.

Why the receive time is the send's time: the engine keeps one time per send (when it was handed to the
provider); the simulator's and providers' receipts carry no delivery time of their own here.
"""

import math
import re
from datetime import UTC, datetime

from pydantic import BaseModel, Field
from sqlmodel import Session, col, func, select

from engine import clock
from engine.errors import Conflict, Invalid
from engine.models import Customer, CustomerStep, ExecutionRecord, User
from engine.models.crowd import CrowdOperation
from engine.runtime.lifecycle import RETENTION
from engine.services import crowds
from engine.services.reach_tasks import ReachTask, channel_of, get_task, parse_task_id, sms_segments

#: the results an audience can be generated from, as the details page names them
AUDIENCE_RESULTS: dict[str, str] = {"success": "Succeeded", "failed": "Failed", "pending": "No feedback"}
PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
EXPIRED_NOTE = "The details of this task expired: numbers and results are kept for 7 days (168 hours) after sending."
_VARIABLE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_.]*)\}")
#: what a preview fills the built-in variables with (other variables stay visible as [key])
PREVIEW_VALUES = {"name": "Alex Chen", "qaid": "QA000001", "phone": "+86 138 0000 1234",
                  "email": "alex@example.com", "short_link": "https://s.example/Ab3dE9"}


class NumberRow(BaseModel):
    number: str  # "•••• 1234": the last four digits only, "—" without a phone number
    at: datetime
    result: str  # success / failed / pending
    result_label: str
    reason: str = ""


class TaskDetails(BaseModel):
    task: ReachTask
    preview: str  # the content as a recipient reads it, with sample values
    segments: int  # SMS parts of the preview (0 for other channels)
    sent_at: datetime
    expires_at: datetime
    expired: bool
    note: str = ""
    included: int
    success: int
    failed: int
    no_feedback: int
    not_sent: int  # included, without a phone number: never sent
    rows: list[NumberRow] = Field(default_factory=list)
    result: str = ""  # the rows' filter ("" = all)
    total: int = 0
    page: int = 1
    pages: int = 1
    page_size: int = PAGE_SIZE
    audience_refusal: str = ""  # why Generate Audience is not offered ("" = it is)
    operations: list[crowds.OperationRow] = Field(default_factory=list)


def last_four(phone: str | None) -> str:
    """Only the last four digits of a number are ever shown."""
    digits = "".join(c for c in phone or "" if c.isdigit())
    return f"•••• {digits[-4:]}" if digits else "—"


def preview(content: str) -> str:
    """The content with sample values for the built-in variables; any other variable shows as [key]."""
    return _VARIABLE.sub(lambda m: PREVIEW_VALUES.get(m.group(1), f"[{m.group(1)}]"), content)


def _aware(when: datetime) -> datetime:
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def send_time(record: ExecutionRecord) -> datetime:
    """When the task sent: its round's start (the 7 days run from it)."""
    return _aware(record.started_at)


def is_expired(record: ExecutionRecord, now: datetime) -> bool:
    return now >= send_time(record) + RETENTION


def task_details(*, session: Session, actor: User, channel: str, task_id: str, result: str = "", page: int = 1,
                 page_size: int = PAGE_SIZE, now: datetime | None = None) -> TaskDetails:
    """The details page of one task the actor may see (module docstring); rows filtered by a result, paged."""
    now = now or clock.now()
    if result and result not in AUDIENCE_RESULTS:
        raise Invalid(f"Unknown result '{result}'.")
    task = get_task(session=session, actor=actor, channel=channel, task_id=task_id, now=now)
    record = session.get(ExecutionRecord, task.record_id)
    assert record is not None  # get_task found it
    expired = is_expired(record, now)
    shown = preview(task.content)
    page_size = max(1, min(int(page_size), MAX_PAGE_SIZE))
    out = TaskDetails(
        task=task, preview=shown, segments=sms_segments(shown)[1] if channel_of(channel).key == "sms" else 0,
        sent_at=send_time(record), expires_at=send_time(record) + RETENTION, expired=expired,
        note=EXPIRED_NOTE if expired else "", included=task.audience, success=task.success, failed=task.failed,
        no_feedback=task.pending, not_sent=task.not_sent, result=result, page_size=page_size,
        audience_refusal=_refusal(actor, expired),
    )
    if not expired:
        where = [col(CustomerStep.record_id) == task.record_id, col(CustomerStep.node_id) == task.node_id]
        if result:
            where.append(col(CustomerStep.result) == result)
        else:
            where.append(col(CustomerStep.result).in_(list(AUDIENCE_RESULTS)))
        out.total = int(session.exec(select(func.count()).select_from(CustomerStep).where(*where)).one())
        out.pages = max(1, math.ceil(out.total / page_size))
        out.page = max(1, min(int(page), out.pages))
        rows = session.exec(
            select(Customer.phone, CustomerStep.at, CustomerStep.result, CustomerStep.reason)
            .select_from(CustomerStep)
            .join(Customer, col(Customer.id) == col(CustomerStep.customer_id), isouter=True)
            .where(*where).order_by(col(CustomerStep.at).desc(), col(CustomerStep.customer_id))
            .offset((out.page - 1) * page_size).limit(page_size)).all()
        out.rows = [NumberRow(number=last_four(phone), at=_aware(at), result=res,
                              result_label=AUDIENCE_RESULTS.get(res, res), reason=reason or "")
                    for phone, at, res, reason in rows]
    out.operations = crowds.list_operations(session=session, actor=actor, record_id=task.record_id,
                                            node_id=task.node_id)
    return out


def _refusal(actor: User, expired: bool) -> str:
    if expired:
        return EXPIRED_NOTE + " No audience can be generated from it."
    return crowds.crowd_refusal(actor)


def generate_audience(*, session: Session, actor: User, channel: str, task_id: str, result: str, name: str,
                      now: datetime | None = None) -> CrowdOperation:
    """Accept a Generate Audience request (a Generate Crowd operation on the task's round and component); the
    caller hands it to the workers (`crowd_actor.enqueue`). Refused once the details expired (7 days)."""
    now = now or clock.now()
    channel_of(channel)
    if result not in AUDIENCE_RESULTS:
        raise Invalid(f"Choose which numbers to save: {', '.join(AUDIENCE_RESULTS.values())}.")
    task = get_task(session=session, actor=actor, channel=channel, task_id=task_id, now=now)
    record = session.get(ExecutionRecord, task.record_id)
    assert record is not None
    if is_expired(record, now):
        raise Conflict(EXPIRED_NOTE + " No audience can be generated from it.")
    return crowds.request_crowd(session=session, actor=actor, record_id=task.record_id, node_id=task.node_id,
                                result=result, name=name)


__all__ = ["AUDIENCE_RESULTS", "EXPIRED_NOTE", "NumberRow", "TaskDetails", "generate_audience", "is_expired",
           "last_four", "parse_task_id", "preview", "task_details"]
