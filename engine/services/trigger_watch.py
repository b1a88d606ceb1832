"""Keep the behaviour-event trigger index fresh: whenever a flush changes an activity's status or live
version, the workspace's index is invalidated after the commit. One listener, so no code path that moves an
activity (services, scheduler, runtime) can forget it."""

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from engine.models import Activity


@event.listens_for(Session, "before_flush")
def _watch(session: Session, _context: object, _instances: object) -> None:
    changed = set()
    for obj in list(session.dirty) + list(session.new):
        if isinstance(obj, Activity):
            state = inspect(obj)
            if obj in session.new or any(state.attrs[a].history.has_changes() for a in ("status", "live_version_id")):
                changed.add(obj.workspace_id)
    if changed:
        from engine.services.events import bump_trigger_index

        for workspace_id in changed:
            bump_trigger_index(workspace_id, session=session)  # type: ignore[arg-type]
