"""Seed 004's page states without a browser (a real in-memory state tree, a real database and sign-in behind
the service calls): the details page copies the engine's view and its buttons' refusals; the reviewer's queue
refuses a rejection without a comment in the dialog and decides with one."""

from sqlmodel import Session

from engine.db import write_session
from engine.models import ActivityTester, ActivityVersion, Customer, ExecutionRecord, RecordTrigger, Role
from engine.services import approval as svc
from engine.services import auth as auth_service
from engine.status import ActivityStatus, RecordStatus, VersionState
from marketing_app.states.approval import ApprovalState, ReviewsState
from tests import factories as f
from tests.marketing_app.test_canvas_states import _tab_as, run


def _login(username: str) -> str:
    with write_session() as s:
        return auth_service.login(session=s, username=username, password="pw")


def test_details_and_the_reviewers_decision(session: Session, redis_url: str) -> None:
    ws = f.workspace(session)
    ws.approval_required = True
    marketer, reviewer = f.user(session, ws, Role.MARKETER), f.user(session, ws, Role.REVIEWER)
    activity = f.activity(session, marketer, status=ActivityStatus.TESTING, name="Pilot")
    version = session.get(ActivityVersion, activity.current_version_id)
    version.state, activity.live_version_id = VersionState.DRAFT, None
    customer = Customer(workspace_id=ws.id, qaid="Q1", name="Tess", phone="+86100")
    session.add_all([version, activity, customer])
    session.flush()
    session.add(ActivityTester(activity_id=activity.id, customer_id=customer.id, added_by=marketer.id))
    session.add(ExecutionRecord(activity_id=activity.id, version_id=version.id, number=1, is_test=True,
                                status=RecordStatus.COMPLETED, trigger=RecordTrigger.TEST))
    session.commit()
    mine = _tab_as(_login(marketer.username))

    page = mine[ApprovalState]
    page.activity_id = activity.id
    run(page._refresh())
    assert (page.name, page.status_label, page.approval_label, page.test_label) == ("Pilot", "Testing", "N/A",
                                                                                    "Retest")
    assert [t["qaid"] for t in page.testers] == ["Q1"] and len(page.tests) == 1
    assert page.refusals["request"] == "" and page.refusals["finish"].startswith("Only a running")
    assert "no request under review" in page.refusals["withdraw"]
    assert page.refusals["approve"].startswith("Only an admin or a reviewer")
    run(page.request_live())
    assert page.approval_label == "Under Review" and page.refusals["withdraw"] == ""
    assert "withdraw it first" in page.refusals["edit"]

    queue = _tab_as(_login(reviewer.username))[ReviewsState]
    run(queue.load())
    assert [r["name"] for r in queue.rows] == ["Pilot"] and queue.rows[0]["own"] == ""
    queue.open_decision("reject", str(activity.id), "Pilot")
    run(queue.submit())
    assert queue.dialog_open and "comment is required" in queue.error
    queue.set_comment("Say which store")
    run(queue.submit())
    assert not queue.dialog_open and queue.rows == []
    run(page._refresh())
    assert page.approval_label == "Rejected" and page.history[0]["comment"] == "Say which store"
    assert svc.approval_required(session=session, workspace_id=ws.id)
