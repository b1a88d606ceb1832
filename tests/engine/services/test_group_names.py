"""Group names: a pasted long name is refused with the app's message (never cut), and an empty name and a
spaces-only name get the same message, on create and on rename; nothing is saved."""

import pytest
from sqlmodel import Session, select

from engine.errors import Invalid
from engine.models import ActivityGroup, Role
from engine.models.group import GROUP_NAME_MAX
from engine.services import groups as svc
from tests import factories as f

EMPTY = "Enter a group name: it cannot be empty or only spaces."
LONG = "Spring campaigns for returning members in the north"  # 51 characters, as if pasted


def _names(session: Session) -> list[str]:
    return [g.name for g in session.exec(select(ActivityGroup)).all()]


@pytest.mark.parametrize(("name", "message"), [
    ("", EMPTY), ("    ", EMPTY), ("\t \n", EMPTY),
    (LONG, f"A group name can be at most {GROUP_NAME_MAX} characters (this one has {len(LONG)})."),
])
def test_create_and_rename_refuse_with_one_message(session: Session, name: str, message: str) -> None:
    admin = f.user(session, f.workspace(session), Role.ADMIN)
    kept = svc.create_group(session=session, actor=admin, name="Festivals")
    with pytest.raises(Invalid) as on_create:
        svc.create_group(session=session, actor=admin, name=name)
    with pytest.raises(Invalid) as on_rename:
        svc.rename_group(session=session, actor=admin, group_id=kept.id, name=name)
    assert on_create.value.message == on_rename.value.message == message
    assert _names(session) == ["Festivals"]


def test_exactly_the_limit_after_trimming_is_kept_whole(session: Session) -> None:
    admin = f.user(session, f.workspace(session), Role.ADMIN)
    name = "x" * GROUP_NAME_MAX
    assert svc.create_group(session=session, actor=admin, name=f"  {name}  ").name == name
