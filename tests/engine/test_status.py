"""The status machine table against the seed's rules, written out independently here."""

import itertools

import pytest

from engine.status import (
    ACTIVITY_RULES,
    Action,
    ActivityStatus,
    RecordAction,
    RecordStatus,
    StatusError,
    allowed,
    record_transition,
    transition,
    why_not,
)

S = ActivityStatus
# (action, status) -> next status, for every allowed pair; anything absent must be refused.
EXPECTED: dict[tuple[Action, ActivityStatus], ActivityStatus] = {
    **{(Action.STOP, s): S.STOPPED for s in (S.IN_PROGRESS, S.NOT_STARTED, S.PAUSED)},
    (Action.START, S.STOPPED): S.IN_PROGRESS,
    # seed 002: pause only In Progress; restart from Paused asks for a new start time (waits as Not Started);
    # modify only Pending (Not Started) or Paused; delete anything but In Progress
    (Action.PAUSE, S.IN_PROGRESS): S.PAUSED,
    (Action.RESUME, S.PAUSED): S.NOT_STARTED,
    **{(Action.MODIFY, s): s for s in (S.NOT_STARTED, S.PAUSED)},
    # the canvas's schedule: where Modify is allowed, and in a Draft or Testing activity (never run yet)
    **{(Action.SCHEDULE, s): s for s in (S.DRAFT, S.TESTING, S.NOT_STARTED, S.PAUSED)},
    **{(Action.DELETE, s): s for s in (S.DRAFT, S.NOT_STARTED, S.PAUSED, S.STOPPED, S.COMPLETED, S.ABNORMAL_END,
                                       S.TESTING)},
    **{(Action.PUBLISH, s): S.IN_PROGRESS for s in S},
    **{(Action.SAVE_DRAFT, s): S.DRAFT for s in S if s not in (S.IN_PROGRESS, S.PAUSED)},
    (Action.SAVE_DRAFT, S.IN_PROGRESS): S.IN_PROGRESS,
    (Action.SAVE_DRAFT, S.PAUSED): S.PAUSED,
    **{(a, s): s for a in (Action.EDIT, Action.COPY, Action.MOVE, Action.SET_PUBLIC, Action.CANCEL_PUBLIC,
                           Action.DETAILS) for s in S},
    **{(Action.EXECUTION_RECORDS, s): s for s in (S.IN_PROGRESS, S.PAUSED, S.STOPPED, S.COMPLETED, S.ABNORMAL_END)},
    # seed 000: a re-run runs when no round is in progress, outside the window and the run count, so also after
    # the activity completed, was stopped or saved as a draft meanwhile; not while it waits for its start time,
    # nor while Paused (only Resume starts it again)
    **{(Action.RERUN, s): S.IN_PROGRESS for s in S if s not in (S.NOT_STARTED, S.PAUSED)},
    (Action.BEGIN, S.NOT_STARTED): S.IN_PROGRESS,
    (Action.COMPLETE, S.IN_PROGRESS): S.COMPLETED,
    **{(Action.END_TIME, s): S.COMPLETED for s in (S.IN_PROGRESS, S.NOT_STARTED, S.PAUSED)},
    (Action.FAIL, S.IN_PROGRESS): S.ABNORMAL_END,
    (Action.FAIL, S.PAUSED): S.ABNORMAL_END,
    # seed 004, without an approval setting nor a request (tests/engine/test_approval_status.py has the rest):
    # only Test is open — a Draft becomes Testing, a live one keeps its status while its new version is tested
    (Action.TEST, S.DRAFT): S.TESTING,
    (Action.TEST, S.TESTING): S.TESTING,
    **{(Action.TEST, s): s for s in (S.NOT_STARTED, S.IN_PROGRESS, S.PAUSED)},
}


def test_every_action_has_a_rule() -> None:
    assert set(ACTIVITY_RULES) == set(Action)


@pytest.mark.parametrize(("action", "status"), list(itertools.product(Action, ActivityStatus)))
def test_table_matches_the_seed(action: Action, status: ActivityStatus) -> None:
    expected = EXPECTED.get((action, status))
    assert allowed(status, action) is (expected is not None)
    if expected is None:
        with pytest.raises(StatusError) as err:
            transition(status, action)
        assert status.label in str(err.value)
        assert why_not(status, action) == str(err.value)
    else:
        assert transition(status, action) == expected
        assert why_not(status, action) is None


@pytest.mark.parametrize(("action", "expected"), [(Action.PUBLISH, S.NOT_STARTED), (Action.START, S.NOT_STARTED)])
def test_before_start_time_waits_as_not_started(action: Action, expected: ActivityStatus) -> None:
    source = S.DRAFT if action == Action.PUBLISH else S.STOPPED
    assert transition(source, action, before_start=True) == expected


@pytest.mark.parametrize(("action", "status"), list(itertools.product(RecordAction, RecordStatus)))
def test_record_rules(action: RecordAction, status: RecordStatus) -> None:
    expected = {
        (RecordAction.STOP, RecordStatus.IN_PROGRESS): RecordStatus.STOPPED,
        (RecordAction.COMPLETE, RecordStatus.IN_PROGRESS): RecordStatus.COMPLETED,
        (RecordAction.FAIL, RecordStatus.IN_PROGRESS): RecordStatus.ABNORMAL_END,
        (RecordAction.RERUN, RecordStatus.ABNORMAL_END): RecordStatus.ABNORMAL_END,
    }.get((action, status))
    if expected is None:
        with pytest.raises(StatusError):
            record_transition(status, action)
    else:
        assert record_transition(status, action) == expected
