"""Seed 004's machine: every (task status, approval status, workspace setting) × action, against an expected
matrix written out here, independently of engine/status.py's table."""

import itertools

import pytest

from engine.status import (
    Action,
    ActivityStatus,
    ApprovalStatus,
    StatusError,
    approval_after,
    transition,
    why_not,
)
from tests.engine.test_status import EXPECTED as WITHOUT_APPROVAL

S = ActivityStatus
A = ApprovalStatus
APPROVALS: list[ApprovalStatus | None] = [None, *A]
LIVE = (S.NOT_STARTED, S.IN_PROGRESS)

#: actions a request under review freezes (the reviewed version must stay what was asked)
FROZEN_UNDER_REVIEW = {Action.SAVE_DRAFT, Action.PUBLISH, Action.MODIFY, Action.SCHEDULE, Action.DELETE, Action.TEST,
                       Action.REQUEST_LIVE}
#: with the setting on: refused from these statuses (going live needs a request; nothing Completed runs again)
GATED = {
    Action.PUBLISH: set(S), Action.START: set(S), Action.STOP: set(S),
    Action.SAVE_DRAFT: {S.COMPLETED}, Action.RERUN: {S.COMPLETED},
}


def expected(action: Action, status: S, approval: A | None, required: bool) -> tuple[S, A | None] | None:
    """(status, approval) after the action, or None when refused."""
    under_review = approval == A.UNDER_REVIEW
    if action == Action.TEST:
        if under_review or status not in (S.DRAFT, S.TESTING, S.NOT_STARTED, S.IN_PROGRESS, S.PAUSED):
            return None
        return (S.TESTING if status in (S.DRAFT, S.TESTING) else status), approval
    if action == Action.REQUEST_LIVE:
        if not required or under_review or status not in (S.TESTING, *LIVE):
            return None
        return status, A.UNDER_REVIEW
    if action == Action.WITHDRAW:
        return (status, A.WITHDRAWN) if under_review else None
    if action == Action.REJECT:
        return (status, A.REJECTED) if under_review else None
    if action == Action.SUBMISSION_FAIL:
        return (status, A.SUBMISSION_FAILED) if under_review else None
    if action == Action.APPROVE:
        return (S.IN_PROGRESS, A.APPROVED) if under_review and status in (S.TESTING, *LIVE) else None
    if action == Action.FINISH:
        return (S.COMPLETED, approval) if required and status in (S.IN_PROGRESS, S.NOT_STARTED, S.PAUSED) else None
    # the machine of before seed 004, narrowed by a request under review and by the setting
    after = WITHOUT_APPROVAL.get((action, status))
    if after is None or (under_review and action in FROZEN_UNDER_REVIEW):
        return None
    if required and status in GATED.get(action, set()):
        return None
    return after, approval


CASES = list(itertools.product(Action, S, APPROVALS, [False, True]))


@pytest.mark.parametrize(("action", "status", "approval", "required"), CASES)
def test_every_pair_under_both_settings(action: Action, status: S, approval: A | None, required: bool) -> None:
    want = expected(action, status, approval, required)
    kw = {"approval": approval, "approval_required": required}
    reason = why_not(status, action, **kw)
    if want is None:
        assert reason, "allowed, but the expected matrix refuses it"
        assert status.label in reason  # the refusal names where the activity is
        with pytest.raises(StatusError) as err:
            transition(status, action, **kw)
        assert str(err.value) == reason
        with pytest.raises(StatusError):
            approval_after(status, action, **kw)
    else:
        assert reason is None
        assert (transition(status, action, **kw), approval_after(status, action, **kw)) == want


def test_approval_waits_for_its_start_time() -> None:
    assert transition(S.TESTING, Action.APPROVE, before_start=True, approval=A.UNDER_REVIEW) == S.NOT_STARTED


@pytest.mark.parametrize(("action", "status", "approval", "required", "words"), [
    (Action.PUBLISH, S.DRAFT, None, True, "requires approval"),
    (Action.STOP, S.IN_PROGRESS, A.APPROVED, True, "complete the activity instead"),
    (Action.SAVE_DRAFT, S.COMPLETED, None, True, "cannot run again"),
    (Action.SAVE_DRAFT, S.TESTING, A.UNDER_REVIEW, True, "withdraw it first"),
    (Action.REQUEST_LIVE, S.TESTING, None, False, "does not require approval"),
    (Action.REQUEST_LIVE, S.DRAFT, None, True, "tested activity"),
    (Action.APPROVE, S.TESTING, None, True, "no request under review"),
])
def test_refusals_say_why(action: Action, status: S, approval: A | None, required: bool, words: str) -> None:
    assert words in (why_not(status, action, approval=approval, approval_required=required) or "")
