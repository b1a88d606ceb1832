"""Per-user UI preferences (e.g. Show Columns), remembered on the server so they follow the user."""

import json
from typing import Any

from sqlmodel import Session

from engine.models import User, UserPreference, row_id


def get_preference(*, session: Session, actor: User, key: str, default: Any = None) -> Any:
    row = session.get(UserPreference, (actor.id, key))
    return json.loads(row.value) if row else default


def set_preference(*, session: Session, actor: User, key: str, value: Any) -> None:
    row = session.get(UserPreference, (actor.id, key)) or UserPreference(user_id=row_id(actor), key=key)
    row.value = json.dumps(value)
    session.add(row)
    session.flush()
