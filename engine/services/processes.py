"""Reusable processes (seed 002 "Associated Process"): save a published flow under a name, list the ones the
actor may see beside the built-in templates (New from Template), create an activity from one, rename or delete.

- Only a published version is saved (the seed: "You can preview only the flows that have been published"); the
  flow is stored without its secrets, as copies and templates are (services.secrets.drop).
- Visibility follows the source activity when saved: a private activity's process is seen by its creator and
  admins only; a public one's by the workspace (engine/permissions.py). Anyone who may copy the activity (any
  writer who sees it) may save it as a process, which is theirs.
- An activity created from a process records its id and name; renaming updates the name they show, deleting
  keeps it (the list then says "deleted").
"""

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import func
from sqlmodel import Session, col, select, update

from engine import clock
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.models import Activity, ActivityVersion, Process, User, row_id
from engine.models.process import PROCESS_DESCRIPTION_MAX, PROCESS_NAME_MAX
from engine.permissions import can_see_process, process_refusal, process_visible_clause, require, require_writer
from engine.services import secrets as secret_service
from engine.services.activities import ActivityInput, create_activity, get_activity
from engine.status import Action, VersionState

NOT_PUBLISHED = "Only a published flow can be saved as a process: publish the activity first."


class ProcessRow(BaseModel):
    """One process as New from Template lists it."""

    id: int
    name: str
    description: str
    owner_name: str
    is_public: bool
    source: str  # "Spring sale · V3"
    created_at: datetime
    flow: dict[str, Any]
    manage_why_not: str  # "" = the actor may rename and delete it


def _check_name(session: Session, workspace_id: int, name: str, description: str, exclude: int | None = None) -> str:
    name = name.strip()
    if not name:
        raise Invalid("Enter a process name.")
    if len(name) > PROCESS_NAME_MAX:
        raise Invalid(f"The process name can be at most {PROCESS_NAME_MAX} characters ({len(name)} entered).")
    if len(description) > PROCESS_DESCRIPTION_MAX:
        raise Invalid(f"The description can be at most {PROCESS_DESCRIPTION_MAX} characters "
                      f"({len(description)} entered).")
    taken = select(Process.id).where(Process.workspace_id == workspace_id,
                                     func.lower(Process.name) == name.lower())
    if exclude is not None:
        taken = taken.where(col(Process.id) != exclude)
    if session.exec(taken).first() is not None:
        raise Conflict(f"A process named “{name}” already exists.")
    return name


def published_version(*, session: Session, activity: Activity, version_id: int | None = None) -> ActivityVersion:
    """The version a process is saved from: `version_id` if it is a published version of the activity, else the
    live one (the published version that runs or ran last). Conflict when there is none."""
    if version_id is not None:
        version = session.get(ActivityVersion, version_id)
        if version is None or version.activity_id != activity.id:
            raise NotFound("Version not found.")
        if version.state != VersionState.PUBLISHED:
            raise Conflict(f"V{version.number} is a draft. {NOT_PUBLISHED}")
        return version
    version = session.get(ActivityVersion, activity.live_version_id) if activity.live_version_id else None
    if version is None:
        version = session.exec(select(ActivityVersion).where(
            ActivityVersion.activity_id == activity.id, ActivityVersion.state == VersionState.PUBLISHED,
        ).order_by(col(ActivityVersion.number).desc())).first()
    if version is None:
        raise Conflict(NOT_PUBLISHED)
    return version


def save_refusal(*, session: Session, actor: User, activity: Activity) -> str:
    """Why `actor` cannot save `activity` as a process ("" = they can): the canvas greys its button with it."""
    try:
        require(actor, activity, Action.COPY)
        require_writer(actor)
        published_version(session=session, activity=activity)
    except (Forbidden, Conflict, NotFound) as err:
        return err.message
    return ""


def save_process(*, session: Session, actor: User, activity_id: int, name: str, description: str = "",
                 version_id: int | None = None) -> Process:
    """Save a published version of a visible activity as a process owned by the actor (secrets dropped)."""
    activity = get_activity(session=session, actor=actor, activity_id=activity_id)
    require(actor, activity, Action.COPY)
    require_writer(actor)
    version = published_version(session=session, activity=activity, version_id=version_id)
    name = _check_name(session, actor.workspace_id, name, description)
    process = Process(workspace_id=actor.workspace_id, name=name, description=description,
                      flow=secret_service.drop(dict(version.flow)), owner_id=row_id(actor),
                      is_public=activity.is_public, source_activity_id=activity.id,
                      source_activity_name=activity.name, source_version_number=version.number)
    session.add(process)
    session.flush()
    return process


def get_process(*, session: Session, actor: User, process_id: int) -> Process:
    process = session.get(Process, process_id)
    if process is None or not can_see_process(actor, process):
        raise NotFound("Process not found.")
    return process


def list_processes(*, session: Session, actor: User) -> list[ProcessRow]:
    """The processes `actor` may see, by name."""
    found = session.exec(select(Process, User.display_name).join(User, col(User.id) == Process.owner_id)
                         .where(process_visible_clause(actor)).order_by(func.lower(Process.name))).all()
    return [ProcessRow(id=row_id(p), name=p.name, description=p.description, owner_name=owner,
                       is_public=p.is_public, source=f"{p.source_activity_name} · V{p.source_version_number}",
                       created_at=p.created_at, flow=p.flow, manage_why_not=process_refusal(actor, p) or "")
            for p, owner in found]


def process_choices(*, session: Session, actor: User) -> list[tuple[int, str]]:
    """(id, name) of the visible processes: the activity list's Process filter."""
    return [(row_id(p), p.name) for p in session.exec(select(Process).where(process_visible_clause(actor))
                                                      .order_by(func.lower(Process.name))).all()]


def _manageable(session: Session, actor: User, process_id: int) -> Process:
    process = get_process(session=session, actor=actor, process_id=process_id)
    reason = process_refusal(actor, process)
    if reason:
        raise Forbidden(reason)
    return process


def rename_process(*, session: Session, actor: User, process_id: int, name: str,
                   description: str | None = None) -> Process:
    """New name (and description); activities made from it show the new name."""
    process = _manageable(session, actor, process_id)
    description = process.description if description is None else description
    process.name = _check_name(session, process.workspace_id, name, description, exclude=process.id)
    process.description = description
    process.updated_at = clock.now()
    session.add(process)
    session.exec(update(Activity).where(col(Activity.process_id) == process.id).values(process_name=process.name))
    session.flush()
    return process


def delete_process(*, session: Session, actor: User, process_id: int) -> None:
    """The activities made from it keep their flows and the name they came from (the list says "deleted")."""
    process = _manageable(session, actor, process_id)
    session.exec(update(Activity).where(col(Activity.process_id) == process.id).values(process_id=None))
    session.delete(process)
    session.flush()


def create_from_process(*, session: Session, actor: User, data: ActivityInput, process_id: int) -> Activity:
    """New from Template with a process: its flow (no secrets: each must be set again), its name remembered."""
    process = get_process(session=session, actor=actor, process_id=process_id)
    return create_activity(session=session, actor=actor, data=data, flow=secret_service.drop(dict(process.flow)),
                           process=(row_id(process), process.name))
