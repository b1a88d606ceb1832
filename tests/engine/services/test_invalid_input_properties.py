"""Random invalid flows (hypothesis): each is refused with a message a person can act on, and nothing is saved
— not a version, not a status, not an activity.

Invalid flows come two ways: valid random flows (the runtime properties' generator) broken by one mutation
that makes them invalid (no trigger, a link to a missing component, an unknown type, a bad config, a loop, an
unlinked branch, two triggers), and arbitrary JSON that is not a flow at all (tests/engine/api has the same
for event bodies).
"""

from typing import Any

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, func, select

from engine import db
from engine.errors import Invalid
from engine.flow.validate import shape_problems, validate_flow
from engine.models import Activity, Role, User
from engine.services import activities as svc
from engine.services.activities import ActivityInput
from tests import factories as f
from tests.engine.runtime.test_properties import flows
from tests.engine.services.test_activities import snapshot

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
#: values that are not a flow, including near misses (the right keys holding the wrong things)
NOT_A_FLOW = JSON | st.fixed_dictionaries({"nodes": JSON, "edges": JSON}) | st.fixed_dictionaries({
    "nodes": st.lists(JSON | st.fixed_dictionaries({"id": JSON, "type": JSON, "config": JSON}), min_size=1,
                      max_size=3),
    "edges": st.lists(JSON | st.fixed_dictionaries({"source": JSON, "target": JSON}), max_size=3)})

MUTATIONS = ("no_trigger", "missing_target", "unknown_type", "bad_config", "loop", "unlinked_branch",
             "two_triggers")


def mutate(flow: dict[str, Any], how: str, pick: int) -> dict[str, Any]:
    """`flow` made invalid in one way (`pick` chooses the component where there is a choice)."""
    nodes = [dict(n) for n in flow["nodes"]]
    edges = [dict(e) for e in flow["edges"]]
    inner = [n for n in nodes if n["id"] not in ("t", "end")] or [n for n in nodes if n["id"] == "end"]
    target = inner[pick % len(inner)]
    if how == "no_trigger":
        nodes = [n for n in nodes if n["id"] != "t"]
        edges = [e for e in edges if e["source"] != "t"]
    elif how == "missing_target":
        edges.append({"source": "t", "branch": "out", "target": "ghost"})
    elif how == "unknown_type":
        target["type"] = "fax_machine"
    elif how == "bad_config":
        nodes = [n for n in nodes if n["id"] != "t"] + [{"id": "t", "type": "target_audience", "config": {}}]
    elif how == "loop":
        edges.append({"source": "end", "branch": "out", "target": "t"})  # End has no branch; t is a trigger
    elif how == "unlinked_branch":
        edges = [e for e in edges if e["source"] != "t"]
    elif how == "two_triggers":
        nodes.append({"id": "t2", "type": "target_audience", "config": {"audience_id": 1}})
        edges.append({"source": "t2", "branch": "out", "target": "end"})
    return {"nodes": nodes, "edges": edges}


def readable(message: str, sent: str = "") -> bool:
    """A message a person can read: no traceback, no Python dict repr (`{'`) — unless the input itself carried
    that text, which a message naming the offending field echoes (hypothesis sent a field called `{'`)."""
    return bool(message.strip()) and len(message) < 2000 and "Traceback" not in message and (
        "{'" not in message or "{'" in sent)


@pytest.fixture
def draft(session: Session) -> tuple[int, int]:
    ws = f.workspace(session)
    owner = f.user(session, ws, Role.MARKETER)
    activity = svc.create_activity(session=session, actor=owner, data=ActivityInput(name="Refusals"),
                                   flow=f.valid_flow())
    session.commit()
    return int(activity.id), int(owner.id)


def _refused(call: Any) -> str:
    """The call in a write transaction as the UI makes it: the refusal propagates through `write_session`
    (which rolls back), then is caught here."""
    with pytest.raises(Invalid) as refused, db.write_session() as s:
        call(s)
    return refused.value.message


def saved() -> list[tuple]:
    """The snapshot from a fresh session: a long-lived one may read an old snapshot (SQLite WAL)."""
    with db.read_session() as s:
        return snapshot(s)


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(flow=flows(), how=st.sampled_from(MUTATIONS), pick=st.integers(0, 50))
def test_a_broken_flow_is_not_published_and_changes_nothing(draft: tuple[int, int],
                                                             flow: dict[str, Any], how: str, pick: int) -> None:
    activity_id, owner_id = draft
    broken = mutate(flow, how, pick)
    problems = validate_flow(broken)
    assert problems and all(readable(p.message, sent=f"'{p.node_id}'") for p in problems), (how, problems)
    before = saved()
    message = _refused(lambda s: svc.publish(session=s, actor=s.get(User, owner_id), activity_id=activity_id,
                                             flow=broken))
    assert message.startswith("The flow cannot be published:") and readable(message)
    assert saved() == before


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(value=NOT_A_FLOW.filter(lambda v: v is not None))  # None: "keep the saved flow"
@example(value={"nodes": [{"id": "{", "type": None, "config": None}], "edges": []})  # CI's find: id `{`
def test_a_value_that_is_not_a_flow_is_neither_saved_nor_published(draft: tuple[int, int],
                                                                   value: Any) -> None:
    activity_id, owner_id = draft
    problems = validate_flow(value)  # never raises, whatever it is given
    named = " ".join(f"'{p.node_id}'" for p in problems)  # a message names its component in quotes: `'{'`
    assert problems and all(readable(p.message, sent=named) for p in problems)
    assume(shape_problems(value))  # {} or {"nodes": []} is an empty draft: saved, not published (above)
    before = saved()
    for call in (svc.save_draft, svc.publish):
        message = _refused(lambda s, call=call: call(session=s, actor=s.get(User, owner_id),
                                                     activity_id=activity_id, flow=value))
        assert readable(message, sent=named)
    assert _refused(lambda s: svc.create_activity(session=s, actor=s.get(User, owner_id),
                                                  data=ActivityInput(name="Another"), flow=value))
    assert saved() == before
    with db.read_session() as s:
        assert s.exec(select(func.count()).select_from(Activity)).one() == 1
