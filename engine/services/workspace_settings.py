"""Settings → Workspace (issue 15, admins): the workspace's name, the IANA time zone its date-time inputs are typed
in (engine/services/local_time.py) and its in-progress cap (engine/shared/in_progress.py checks it when an
activity starts). Lowering the cap under the number running now stops nothing: it only refuses new starts
until enough have ended."""

from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import available_timezones

from sqlmodel import Session, col, func, select

from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.models import Activity, Role, User, Workspace
from engine.settings import get_settings
from engine.status import ActivityStatus

NAME_MAX = 60  # Workspace.name's column length
CAP_MIN, CAP_MAX = 1, 1000
ADMINS_ONLY = "Only an admin can change the workspace's settings."


@dataclass(frozen=True)
class WorkspaceSettings:
    name: str
    time_zone: str
    in_progress_cap: int
    in_progress_now: int
    api_docs_url: str  # the events API's OpenAPI document, served by the API process


@lru_cache(maxsize=1)
def time_zones() -> tuple[str, ...]:
    """Every IANA zone name this machine knows (the inputs' suggestions), sorted."""
    return tuple(sorted(z for z in available_timezones() if "/" in z or z == "UTC"))


@lru_cache(maxsize=1)
def _known_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def api_docs_url() -> str:
    return get_settings().api_public_url.rstrip("/") + "/docs"


def _require_admin(actor: User) -> None:
    if actor.role != Role.ADMIN:
        raise Forbidden(ADMINS_ONLY)


def _workspace(session: Session, actor: User) -> Workspace:
    workspace = session.get(Workspace, actor.workspace_id)
    if workspace is None:
        raise NotFound("Workspace not found.")
    return workspace


def _view(session: Session, workspace: Workspace) -> WorkspaceSettings:
    running = session.exec(select(func.count()).select_from(Activity).where(
        Activity.workspace_id == workspace.id, Activity.status == ActivityStatus.IN_PROGRESS)).one()
    return WorkspaceSettings(name=workspace.name, time_zone=workspace.time_zone,
                             in_progress_cap=workspace.in_progress_cap, in_progress_now=running,
                             api_docs_url=api_docs_url())


def workspace_settings(*, session: Session, actor: User) -> WorkspaceSettings:
    _require_admin(actor)
    return _view(session, _workspace(session, actor))


def _cap(value: str | int) -> int:
    text = str(value).strip()
    if not text.isdigit() or not CAP_MIN <= int(text) <= CAP_MAX:
        raise Invalid(f"In-progress cap: enter a whole number from {CAP_MIN} to {CAP_MAX}.")
    return int(text)


def save_workspace(*, session: Session, actor: User, name: str, time_zone: str,
                   in_progress_cap: str | int) -> WorkspaceSettings:
    """Validate all three fields, then save them together (nothing is saved when one is refused)."""
    _require_admin(actor)
    workspace = _workspace(session, actor)
    name = (name or "").strip()
    if not name:
        raise Invalid("Name the workspace.")
    if len(name) > NAME_MAX:
        raise Invalid(f"A workspace name can be at most {NAME_MAX} characters ({len(name)} now).")
    zone = (time_zone or "").strip()
    if zone not in _known_zones():
        raise Invalid(f'Time zone: "{zone}" is not an IANA time zone name (e.g. Europe/Paris, Asia/Shanghai, '
                      "UTC).")
    cap = _cap(in_progress_cap)
    taken = session.exec(select(Workspace.id).where(func.lower(col(Workspace.name)) == name.lower(),
                                                    Workspace.id != workspace.id)).first()
    if taken is not None:
        raise Conflict(f'Another workspace is named "{name}": choose another name.')
    workspace.name, workspace.time_zone, workspace.in_progress_cap = name, zone, cap
    session.add(workspace)
    session.flush()
    return _view(session, workspace)
