"""Secret fields of an activity's flow: stored apart, encrypted (engine/secrets.py), never in the flow JSON.

Every path that writes a flow runs it through `absorb` (a typed value becomes a new encrypted row and a
`{"$secret": "<id>"}` marker); copies and templates run through `drop` (every secret becomes `{"$secret": null}`:
the copy must set its own, which validation asks for). The canvas's write-only widget stores one value with
`set_secret` and keeps only the marker. Which fields are secret comes from the config classes
(engine/components/secret.py `slots`).
"""

import copy
import uuid
from typing import Any

from sqlmodel import Session, col, delete, select

from engine.components.secret import MARKER, SecretMapMark, is_marker, marker, secret_fields, slots
from engine.errors import Invalid, NotFound
from engine.flow.registry import get_spec
from engine.models import Activity, SecretValue, User
from engine.permissions import can_see, require
from engine.secrets import encrypt
from engine.status import Action

Flow = dict[str, Any]


def _config_class(node_type: Any) -> Any:
    spec = get_spec(str(node_type))
    return spec.component.Config if spec is not None else None


def _nodes(flow: Flow) -> list[dict[str, Any]]:
    return [n for n in flow.get("nodes") or [] if isinstance(n, dict) and isinstance(n.get("config"), dict)]


def _store(session: Session, *, activity_id: int, node_id: str, path: str, value: str, actor: User | None) -> str:
    row = SecretValue(id=uuid.uuid4().hex, activity_id=activity_id, node_id=node_id[:64], field=path[:300],
                      ciphertext=encrypt(value), created_by=actor.id if actor else None)
    session.add(row)
    return row.id


def absorb(*, session: Session, activity: Activity, flow: Flow, actor: User | None) -> Flow:
    """A copy of `flow` fit to store: each typed secret stored (new row) with its marker in its place; a marker
    naming a secret this activity does not own (another activity's, a made-up id) becomes "not copied"."""
    out = copy.deepcopy(flow)
    nodes = _nodes(out)
    refs = {s.value[MARKER] for n in nodes if (cls := _config_class(n.get("type")))
            for s in slots(cls, n["config"]) if is_marker(s.value) and isinstance(s.value[MARKER], str)}
    owned = set(session.exec(select(SecretValue.id).where(
        col(SecretValue.id).in_(refs), SecretValue.activity_id == activity.id)).all()) if refs else set()
    for node in nodes:
        cls = _config_class(node.get("type"))
        if cls is None:
            continue
        for slot in slots(cls, node["config"]):
            if isinstance(slot.value, str) and slot.value:
                slot.put(marker(_store(session, activity_id=int(activity.id or 0), node_id=str(node.get("id")),
                                       path=slot.path, value=slot.value, actor=actor)))
            elif is_marker(slot.value) and slot.value[MARKER] is not None and slot.value[MARKER] not in owned:
                slot.put(marker(None))
            elif slot.value is not None and not isinstance(slot.value, str) and not is_marker(slot.value):
                slot.put(marker(None))  # neither text nor marker: never stored as it is
    return out


def drop(flow: Flow) -> Flow:
    """A copy of `flow` without any secret: each set one becomes "not copied" (copy, template)."""
    out = copy.deepcopy(flow)
    for node in _nodes(out):
        cls = _config_class(node.get("type"))
        for slot in slots(cls, node["config"]) if cls is not None else ():
            if slot.value not in ("", None):
                slot.put(marker(None))
    return out


def set_secret(*, session: Session, actor: User, activity_id: int, node_id: str, node_type: str, path: str,
               value: str) -> dict[str, str | None]:
    """Store the value typed into a write-only field of the canvas; returns the marker to put in the config
    (the value is never given back). `path` is the field ("secret") or a map entry ("headers.Authorization")."""
    activity = session.get(Activity, activity_id)
    if activity is None or not can_see(actor, activity):
        raise NotFound("Activity not found.")
    require(actor, activity, Action.EDIT)
    cls = _config_class(node_type)
    name, _, key = path.partition(".")
    found = next((f for f in secret_fields(cls) if f.name == name), None) if cls is not None else None
    if found is None or found.is_map != bool(key):
        raise Invalid(f"{path} is not a secret field of this component.")
    value = value if isinstance(value, str) else ""
    if isinstance(found.mark, SecretMapMark):
        low, high = 1, found.mark.max_length
    else:
        low, high = found.mark.min_length, found.mark.max_length
    if not value.strip():
        raise Invalid("Enter the new value (the one set is kept).")
    if len(value) < low:
        raise Invalid(f"At least {low} characters.")
    if len(value) > high or "\n" in value or "\r" in value:
        raise Invalid(f"One line of at most {high} characters.")
    secret_id = _store(session, activity_id=activity_id, node_id=node_id, path=path, value=value, actor=actor)
    session.flush()
    return marker(secret_id)


def delete_for(session: Session, activity_ids: list[int]) -> None:
    """Deleted activities take their secrets with them."""
    session.exec(delete(SecretValue).where(col(SecretValue.activity_id).in_(activity_ids)))
