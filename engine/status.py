"""THE status machines: which action is allowed in which status, and what it leads to.

Services call `transition`/`check`, the UI enables buttons with `allowed` and explains disabled ones with
`why_not`, and the tests iterate over `ACTIVITY_RULES`. No other module may encode these rules.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class ActivityStatus(StrEnum):
    DRAFT = "draft"
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    STOPPED = "stopped"
    COMPLETED = "completed"  # normal end of a Finished activity
    ABNORMAL_END = "abnormal_end"
    PAUSED = "paused"  # no new round or entrant; customers inside finish; Resume asks for a new start time
    TESTING = "testing"  # seed 004: the flow runs for its testers only (test records); not live

    @property
    def label(self) -> str:
        return ACTIVITY_STATUS_LABELS[self]


ACTIVITY_STATUS_LABELS: dict[ActivityStatus, str] = {
    ActivityStatus.DRAFT: "Draft",
    ActivityStatus.NOT_STARTED: "Not Started",
    ActivityStatus.IN_PROGRESS: "In Progress",
    ActivityStatus.STOPPED: "Stopped",
    ActivityStatus.COMPLETED: "Completed",
    ActivityStatus.ABNORMAL_END: "Abnormal End",
    ActivityStatus.PAUSED: "Paused",
    ActivityStatus.TESTING: "Testing",
}


class ApprovalStatus(StrEnum):
    """Seed 004: the state of an activity's latest request to go live (None: never requested). Kept beside the
    task status (`Activity.approval_status`); every request and decision is a row of `approvalrequest` /
    `approvalevent`."""

    UNDER_REVIEW = "under_review"
    SUBMISSION_FAILED = "submission_failed"  # the request could not go live (e.g. the in-progress cap is full)
    REJECTED = "rejected"  # with the reviewer's comment
    WITHDRAWN = "withdrawn"  # by the requester
    APPROVED = "approved"  # published as usual

    @property
    def label(self) -> str:
        return APPROVAL_STATUS_LABELS[self]


APPROVAL_STATUS_LABELS: dict[ApprovalStatus, str] = {
    ApprovalStatus.UNDER_REVIEW: "Under Review",
    ApprovalStatus.SUBMISSION_FAILED: "Submission Failed",
    ApprovalStatus.REJECTED: "Rejected",
    ApprovalStatus.WITHDRAWN: "Withdrawn",
    ApprovalStatus.APPROVED: "Approved",
}


def approval_label(approval: "ApprovalStatus | str | None") -> str:
    """The list's Approval column: "N/A" when the activity never asked to go live."""
    return ApprovalStatus(approval).label if approval else "N/A"

#: "Finished" on the status bar counts both normal and abnormal ends.
FINISHED_STATUSES = frozenset({ActivityStatus.COMPLETED, ActivityStatus.ABNORMAL_END})


class Action(StrEnum):
    # user actions
    EDIT = "edit"
    SAVE_DRAFT = "save_draft"
    PUBLISH = "publish"
    STOP = "stop"
    START = "start"
    DELETE = "delete"
    COPY = "copy"
    MOVE = "move"
    SET_PUBLIC = "set_public"
    CANCEL_PUBLIC = "cancel_public"
    DETAILS = "details"
    EXECUTION_RECORDS = "execution_records"
    RERUN = "rerun"
    PAUSE = "pause"
    RESUME = "resume"  # with a new start time later than now
    MODIFY = "modify"  # the schedule, effective period and basic information, from the list
    SCHEDULE = "schedule"  # change the schedule (once / every N …) from the canvas's Basic information dialog
    # system actions (scheduler / engine)
    BEGIN = "begin"  # start time reached
    COMPLETE = "complete"  # one-time flow completed (or its run count used up)
    END_TIME = "end_time"  # the end time of the effective period reached
    FAIL = "fail"  # a component failed
    # seed 004 (approval before going live)
    TEST = "test"  # run the current flow for the activity's testers only (Test / Retest)
    REQUEST_LIVE = "request_live"  # ask an admin or a reviewer to let it go live ("Start" in the seed's table)
    WITHDRAW = "withdraw"  # the requester takes the request back
    APPROVE = "approve"  # an admin or a reviewer (never the requester): published as usual
    REJECT = "reject"  # with the reviewer's comment
    FINISH = "finish"  # "Complete": stop it for good; a Completed activity cannot run again
    SUBMISSION_FAIL = "submission_fail"  # system: the approved request could not go live (cap full, end passed)


S = ActivityStatus
ALL = frozenset(S)
EXECUTED = frozenset({S.IN_PROGRESS, S.PAUSED, S.STOPPED, S.COMPLETED, S.ABNORMAL_END})
#: a save edits the current version in place (engine/services/activities.py `saving_creates_version`); from any
#: other status a published version is kept and the save makes a new one
EDITED_IN_PLACE = frozenset({S.DRAFT, S.NOT_STARTED})
A = ApprovalStatus
#: every approval status an activity can have; None = never asked to go live
ANY_APPROVAL: frozenset[ApprovalStatus | None] = frozenset({None, *A})
NOT_UNDER_REVIEW: frozenset[ApprovalStatus | None] = ANY_APPROVAL - {A.UNDER_REVIEW}
UNDER_REVIEW_ONLY: frozenset[ApprovalStatus | None] = frozenset({A.UNDER_REVIEW})
#: where a request to go live may come from: a tested activity, or a new version of one that is live
REQUESTABLE = frozenset({S.TESTING, S.NOT_STARTED, S.IN_PROGRESS})
UNDER_REVIEW_REFUSAL = "The request to go live is under review: withdraw it first."
NEEDS_APPROVAL = ("This workspace requires approval before going live: test the activity, then request to go "
                  "live.")


@dataclass(frozen=True)
class Rule:
    """`allowed_from` statuses; `to` the next status (None keeps it); `to_before_start` when the start time
    is still ahead (publish of a future activity waits as Not Started); `keeps` statuses the action leaves
    unchanged even though `to` is set."""

    allowed_from: frozenset[ActivityStatus]
    to: ActivityStatus | None
    refusal: str
    to_before_start: ActivityStatus | None = None
    keeps: frozenset[ActivityStatus] = frozenset()
    #: seed 004: the approval statuses the action is allowed from, and the approval status after it (None: kept)
    approval_from: frozenset[ApprovalStatus | None] = ANY_APPROVAL
    approval_to: ApprovalStatus | None = None
    approval_refusal: str = UNDER_REVIEW_REFUSAL
    #: with the workspace's "approval required" setting on, refused from these statuses (`gated_refusal`)
    gated_from: frozenset[ActivityStatus] = frozenset()
    gated_refusal: str = NEEDS_APPROVAL
    #: only with the setting on (the request itself); refused with `ungated_refusal` otherwise
    needs_setting: bool = False
    ungated_refusal: str = "This workspace does not require approval: publish the activity instead."


ACTIVITY_RULES: dict[Action, Rule] = {
    Action.EDIT: Rule(ALL, None, "This activity cannot be edited."),
    # Saving an executed, no-longer-running activity as a draft makes it a Draft (a new version); a running
    # one keeps running its published version while the draft waits (see services.activities.save_draft).
    # A Paused one stays Paused (Resume, or a publish with a new start time, restarts it).
    # Seed 004: nothing changes under review; with approval required a Completed activity never runs again (copy it).
    Action.SAVE_DRAFT: Rule(ALL, S.DRAFT, "This activity cannot be saved as a draft.",
                            keeps=frozenset({S.IN_PROGRESS, S.PAUSED}), approval_from=NOT_UNDER_REVIEW,
                            gated_from=frozenset({S.COMPLETED}),
                            gated_refusal="A Completed activity cannot run again: copy it instead."),
    # Publishing a Paused activity restarts it: the service asks for a start time later than now (as Resume),
    # so it always waits as Not Started.
    # With approval required, going live is an approved request (APPROVE publishes), never a direct publish.
    Action.PUBLISH: Rule(ALL, S.IN_PROGRESS, "This activity cannot be published.", S.NOT_STARTED,
                         approval_from=NOT_UNDER_REVIEW, gated_from=ALL),
    # With approval required the seed's "Complete" (FINISH) ends a running activity instead.
    Action.STOP: Rule(
        frozenset({S.IN_PROGRESS, S.NOT_STARTED, S.PAUSED}), S.STOPPED,
        "Only an activity that is In Progress, Not Started or Paused can be stopped.", gated_from=ALL,
        gated_refusal="This workspace requires approval: complete the activity instead of stopping it.",
    ),
    # Seed 002: later triggers and rounds stop; customers already inside finish the flow they are in.
    Action.PAUSE: Rule(frozenset({S.IN_PROGRESS}), S.PAUSED, "Only an In Progress activity can be paused."),
    # Restarting asks for a new start time later than now: it waits as Not Started and the scheduler begins it
    # then (the start time is never "now": one rule, the same as the dialog's).
    Action.RESUME: Rule(frozenset({S.PAUSED}), S.NOT_STARTED,
                        "Only a Paused activity can be resumed (a Stopped one is started)."),
    Action.MODIFY: Rule(frozenset({S.NOT_STARTED, S.PAUSED}), None,
                        "Only a Not Started or Paused activity can be modified; pause it first.",
                        approval_from=NOT_UNDER_REVIEW),
    # The canvas's pencil may change the schedule only where Modify may (seed 002: Pending / Paused), and in a
    # Draft or Testing activity, which has never run (its schedule is still being set up, as New activity sets it).
    Action.SCHEDULE: Rule(frozenset({S.DRAFT, S.TESTING, S.NOT_STARTED, S.PAUSED}), None,
                          "The schedule can be changed only while the activity is a Draft, Testing, Not Started or "
                          "Paused; pause it first.", approval_from=NOT_UNDER_REVIEW),
    # Started again before its start time, a Stopped activity waits as Not Started.
    Action.START: Rule(frozenset({S.STOPPED}), S.IN_PROGRESS, "Only a Stopped activity can be started.",
                       S.NOT_STARTED, gated_from=ALL),
    # Re-run after a crowd-data failure (seed 000: not limited by the time window nor the run count), at once or
    # queued behind the rounds in progress. It runs whatever the activity became meanwhile: Completed (the round
    # it waited for completed a one-time activity, or the end time passed), Abnormal End, Stopped (a Re-run asked
    # after the Stop; a Stop withdraws queued ones, see RERUN_WITHDRAWN_BY), or Draft (an executed activity
    # saved as a draft: the published version runs while the draft waits, as SAVE_DRAFT keeps a running one).
    # Not Started is refused: nothing ran since it was stopped and started again before its start time; Paused
    # too: a re-run would start it again, which only Resume (with a new start time) does.
    Action.RERUN: Rule(ALL - {S.NOT_STARTED, S.PAUSED}, S.IN_PROGRESS,
                       "A Not Started or Paused activity cannot re-run a round: wait for its start time.",
                       gated_from=frozenset({S.COMPLETED}),
                       gated_refusal="A Completed activity cannot run again: copy it instead."),
    # Seed 002: never while In Progress. Deleting a Paused one stops the rounds still draining first.
    Action.DELETE: Rule(
        ALL - {S.IN_PROGRESS}, None,
        "An In Progress activity cannot be deleted: pause or stop it first.", approval_from=NOT_UNDER_REVIEW,
    ),
    Action.COPY: Rule(ALL, None, "This activity cannot be copied."),
    Action.MOVE: Rule(ALL, None, "This activity cannot be moved."),
    Action.SET_PUBLIC: Rule(ALL, None, "This activity cannot be made public."),
    Action.CANCEL_PUBLIC: Rule(ALL, None, "This activity cannot be made private."),
    Action.DETAILS: Rule(ALL, None, "No details."),
    Action.EXECUTION_RECORDS: Rule(EXECUTED, None, "This activity has not been executed yet."),
    Action.BEGIN: Rule(frozenset({S.NOT_STARTED}), S.IN_PROGRESS, "Only a Not Started activity can begin."),
    # A Paused one-time activity whose round drained stays Paused (Resume runs it again); a Not Started one
    # (published or resumed for a later start) begins at its start time, whatever its earlier rounds did.
    Action.COMPLETE: Rule(frozenset({S.IN_PROGRESS}), S.COMPLETED, "Not running."),
    # The effective period is over: a Paused activity is finished too.
    Action.END_TIME: Rule(frozenset({S.IN_PROGRESS, S.NOT_STARTED, S.PAUSED}), S.COMPLETED, "Not running."),
    # A component failure in a round still draining after a Pause ends the activity as any round's does.
    Action.FAIL: Rule(frozenset({S.IN_PROGRESS, S.PAUSED}), S.ABNORMAL_END, "Not running."),
    # ---- seed 004: approval before going live (the approval status is the second coordinate of the machine)
    # Test / Retest: the current flow runs for the testers only. A live activity's new version is tested while
    # the published one keeps running (its status is kept).
    Action.TEST: Rule(frozenset({S.DRAFT, S.TESTING, S.NOT_STARTED, S.IN_PROGRESS, S.PAUSED}), S.TESTING,
                      "Only a Draft, Testing or running activity can be tested; copy a finished one.",
                      keeps=frozenset({S.NOT_STARTED, S.IN_PROGRESS, S.PAUSED}), approval_from=NOT_UNDER_REVIEW),
    Action.REQUEST_LIVE: Rule(REQUESTABLE, None,
                              "Only a tested activity (Testing), or a new version of a running one, can request to "
                              "go live.", approval_from=NOT_UNDER_REVIEW, approval_to=A.UNDER_REVIEW,
                              approval_refusal="A request to go live is already under review.",
                              needs_setting=True),
    Action.WITHDRAW: Rule(ALL, None, "No request to withdraw.", approval_from=UNDER_REVIEW_ONLY,
                          approval_to=A.WITHDRAWN, approval_refusal="There is no request under review to withdraw."),
    # Approved: published as usual — In Progress now, or Not Started until its start time; a running activity's
    # new version takes over as a republish does. If it cannot go live, SUBMISSION_FAIL records why.
    Action.APPROVE: Rule(REQUESTABLE, S.IN_PROGRESS,
                         "The activity is no longer Testing or running: reject the request instead.",
                         S.NOT_STARTED, approval_from=UNDER_REVIEW_ONLY, approval_to=A.APPROVED,
                         approval_refusal="There is no request under review to approve."),
    Action.REJECT: Rule(ALL, None, "This request cannot be rejected.", approval_from=UNDER_REVIEW_ONLY,
                        approval_to=A.REJECTED, approval_refusal="There is no request under review to reject."),
    Action.SUBMISSION_FAIL: Rule(ALL, None, "Not under review.", approval_from=UNDER_REVIEW_ONLY,
                                 approval_to=A.SUBMISSION_FAILED, approval_refusal="Not under review."),
    # "Complete" (seed 004): stops the rounds like Stop, and the activity never runs again.
    Action.FINISH: Rule(frozenset({S.IN_PROGRESS, S.NOT_STARTED, S.PAUSED}), S.COMPLETED,
                        "Only a running (In Progress, Not Started) or Paused activity can be completed.",
                        needs_setting=True,
                        ungated_refusal="This workspace does not require approval: stop the activity instead."),
}

#: Actions after which a queued Re-run no longer starts by itself (its Re-run button is enabled again): a Stop
#: of the activity is the marketer saying "nothing more runs"; a re-run starting right after would undo it.
RERUN_WITHDRAWN_BY = frozenset({Action.STOP, Action.PAUSE})

#: Actions a user triggers from the list, in the order the UI shows them.
USER_ACTIONS: tuple[Action, ...] = (
    Action.EDIT, Action.DETAILS, Action.COPY, Action.PAUSE, Action.STOP, Action.RESUME, Action.START,
    Action.MODIFY, Action.DELETE,
    Action.EXECUTION_RECORDS, Action.SET_PUBLIC, Action.CANCEL_PUBLIC, Action.MOVE,
)
#: Seed 004's actions (the details page, the canvas header and the reviewer's queue).
APPROVAL_ACTIONS: tuple[Action, ...] = (
    Action.TEST, Action.REQUEST_LIVE, Action.WITHDRAW, Action.APPROVE, Action.REJECT, Action.FINISH,
)
#: Actions a reviewer takes (besides reading); nobody else but an admin may.
REVIEW_ACTIONS = frozenset({Action.APPROVE, Action.REJECT})
#: What the system does, never a user.
SYSTEM_ACTIONS = frozenset({Action.BEGIN, Action.COMPLETE, Action.END_TIME, Action.FAIL, Action.SUBMISSION_FAIL})
#: Actions that only read; managers may perform these.
READ_ACTIONS = frozenset({Action.DETAILS, Action.EXECUTION_RECORDS})


class StatusError(Exception):
    """An action is not allowed in the current status."""


def _approval(approval: "ApprovalStatus | str | None") -> ApprovalStatus | None:
    return ApprovalStatus(approval) if approval else None


def allowed(status: ActivityStatus, action: Action, *, approval: ApprovalStatus | str | None = None,
            approval_required: bool = False) -> bool:
    return why_not(status, action, approval=approval, approval_required=approval_required) is None


def why_not(status: ActivityStatus, action: Action, *, approval: ApprovalStatus | str | None = None,
            approval_required: bool = False) -> str | None:
    """None when allowed, else the message the UI shows (tooltip, toast) and the service raises. The machine's
    state is (task status, approval status), under the workspace's "approval required" setting."""
    rule = ACTIVITY_RULES[action]
    status = ActivityStatus(status)
    label = f"status: {status.label}"
    if rule.needs_setting and not approval_required:
        return f"{rule.ungated_refusal} ({label})"
    if approval_required and status in rule.gated_from:
        return f"{rule.gated_refusal} ({label})"
    if status not in rule.allowed_from:
        return f"{rule.refusal} ({label})"
    if _approval(approval) not in rule.approval_from:
        return f"{rule.approval_refusal} ({label}; approval: {approval_label(approval)})"
    return None


def approval_after(status: ActivityStatus, action: Action, *, approval: ApprovalStatus | str | None = None,
                   approval_required: bool = False) -> ApprovalStatus | None:
    """The approval status after `action` (StatusError when refused)."""
    reason = why_not(status, action, approval=approval, approval_required=approval_required)
    if reason:
        raise StatusError(reason)
    return ACTIVITY_RULES[action].approval_to or _approval(approval)


def transition(status: ActivityStatus, action: Action, *, before_start: bool = False,
               approval: ApprovalStatus | str | None = None, approval_required: bool = False) -> ActivityStatus:
    """The status after `action`, or StatusError with the refusal message."""
    reason = why_not(status, action, approval=approval, approval_required=approval_required)
    if reason:
        raise StatusError(reason)
    rule = ACTIVITY_RULES[action]
    if ActivityStatus(status) in rule.keeps:
        return ActivityStatus(status)
    if before_start and rule.to_before_start is not None:
        return rule.to_before_start
    return rule.to or ActivityStatus(status)


class RecordStatus(StrEnum):
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    ABNORMAL_END = "abnormal_end"
    STOPPED = "stopped"

    @property
    def label(self) -> str:
        return RECORD_STATUS_LABELS[self]


RECORD_STATUS_LABELS = {
    RecordStatus.IN_PROGRESS: "In Progress",
    RecordStatus.COMPLETED: "Completed",
    RecordStatus.ABNORMAL_END: "Abnormal End",
    RecordStatus.STOPPED: "Stopped",
}


class RecordAction(StrEnum):
    STOP = "stop"
    COMPLETE = "complete"
    FAIL = "fail"
    RERUN = "rerun"


RECORD_RULES: dict[RecordAction, tuple[frozenset[RecordStatus], RecordStatus | None, str]] = {
    RecordAction.STOP: (frozenset({RecordStatus.IN_PROGRESS}), RecordStatus.STOPPED,
                        "Only an execution record In Progress can be stopped."),
    RecordAction.COMPLETE: (frozenset({RecordStatus.IN_PROGRESS}), RecordStatus.COMPLETED, "Not running."),
    RecordAction.FAIL: (frozenset({RecordStatus.IN_PROGRESS}), RecordStatus.ABNORMAL_END, "Not running."),
    # Re-run creates a NEW record; the failed one stays as it was.
    RecordAction.RERUN: (frozenset({RecordStatus.ABNORMAL_END}), None,
                         "Only a record that ended abnormally (crowd data not obtained, or engine state lost) can "
                         "be re-run."),
}

#: The failure kinds of an Abnormal End record that Re-run repeats: the crowd data could not be obtained, or the
#: engine's Redis state was lost mid-round (engine/runtime/redis_state.py). A component failure is not re-run.
RERUNNABLE_FAILURES = frozenset({"crowd_data", "state_lost"})


def record_allowed(status: RecordStatus, action: RecordAction) -> bool:
    """Whether the record rules allow `action` from `status` (what enables the drawer's buttons)."""
    return RecordStatus(status) in RECORD_RULES[action][0]


def record_transition(status: RecordStatus, action: RecordAction) -> RecordStatus:
    allowed_from, to, refusal = RECORD_RULES[action]
    if RecordStatus(status) not in allowed_from:
        raise StatusError(f"{refusal} (status: {RecordStatus(status).label})")
    return to or RecordStatus(status)


class VersionState(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"


class RoundRole(StrEnum):
    """What a round In Progress is to its activity (the drawer's badge): the live round new customers enter,
    or a draining one a republish took over from (entry closed; the customers inside finish on its version)."""

    LIVE = "live"
    DRAINING = "draining"

    @property
    def label(self) -> str:
        return "Live" if self is RoundRole.LIVE else "Draining"


def round_role(status: RecordStatus, *, drained: bool) -> RoundRole | None:
    """None for a round that has ended."""
    if RecordStatus(status) != RecordStatus.IN_PROGRESS:
        return None
    return RoundRole.DRAINING if drained else RoundRole.LIVE


class NormalTaskStatus(StrEnum):
    """Seed 003: a Reach Tasks page's own (normal) task before its round exists."""

    MODERATING = "moderating"
    REJECTED = "rejected"
    SCHEDULED = "scheduled"  # moderated, waiting for its send time ("To be sent")
    SENT = "sent"  # its round exists: the round's status and counters say the rest


#: seed 003: a normal task is edited or deleted only while Rejected or more than this ahead of its send time
NORMAL_EDIT_MARGIN = timedelta(minutes=5)
NORMAL_SENT_ALREADY = "It has been sent: a sent task cannot be changed."
NORMAL_TOO_CLOSE = ("It is sent in less than 5 minutes: only a rejected task or one scheduled more than 5 minutes "
                    "ahead can be changed.")


def normal_task_change_refusal(status: NormalTaskStatus, send_at: datetime | None, now: datetime) -> str:
    """Why a normal task may not be edited or deleted now ("" = it may); `send_at` None = send now."""
    if status == NormalTaskStatus.REJECTED:
        return ""
    if status == NormalTaskStatus.SENT:
        return NORMAL_SENT_ALREADY
    if send_at is None or send_at - now <= NORMAL_EDIT_MARGIN:
        return NORMAL_TOO_CLOSE
    return ""
