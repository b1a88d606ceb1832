"""Seed 004 in the UI: the activity's approval details page (status and approval status, Test / Retest, Request
to go live, Withdraw, Complete, Edit, Copy — each enabled by the engine's answer, or disabled with its reason —,
the testers, the test rounds and the history of decisions) and the reviewer's queue (/reviews: each request's
changes against the running version, Approve / Reject with a comment). Every rule is the engine's
(engine/services/approval.py); a refusal is the service's message as a toast or the dialog's callout."""

from dataclasses import dataclass

import reflex as rx

from engine.services import activities as activity_service
from engine.services import approval as svc
from engine.status import ApprovalStatus
from marketing_app.routes import canvas_route, segment
from marketing_app.states.service import events, run

REVIEWS_ROUTE = "/reviews"


def approval_route(activity_id: int | str) -> str:
    return f"/activities/{activity_id}/approval"


def _time(value) -> str:  # noqa: ANN001
    return value.strftime("%Y-%m-%d %H:%M") if value else ""


def _number(text: str) -> int:
    return int(text) if text.isdigit() else 0


class ApprovalState(rx.State):
    """/activities/<id>/approval."""

    activity_id: int = 0
    loaded: bool = False
    name: str = ""
    status: str = ""
    status_label: str = ""
    approval: str = ""
    approval_label: str = "N/A"
    approval_required: bool = False
    refusals: dict[str, str] = {}
    test_label: str = "Test"
    requester: str = ""
    testers: list[dict[str, str]] = []
    staff_options: list[dict[str, str]] = []  # issue 14: "Add staff" (value = user id)
    tests: list[dict[str, str]] = []
    history: list[dict[str, str]] = []
    qaid: str = ""

    @rx.event
    async def load(self):
        self.activity_id = _number(segment(self.router.url.path, 1))  # /activities/<activity_id>/approval
        return await self._refresh()

    async def _refresh(self):
        aid = self.activity_id
        out = await run(self, lambda s, u: svc.approval_view(session=s, actor=u, activity_id=aid))
        if not out.ok or out.value is None:
            return out.problem()
        v = out.value
        self.name, self.status, self.status_label = v.name, v.status, v.status_label
        self.approval, self.approval_label, self.approval_required = v.approval, v.approval_label, v.approval_required
        self.refusals, self.test_label, self.requester = v.refusals, v.test_label, v.requester
        self.testers = [{"id": str(t.id), "qaid": t.qaid, "name": t.name, "phone": t.phone, "email": t.email,
                         "kind": "Staff" if t.staff else "Customer"} for t in v.testers]
        self.staff_options = [{"value": str(o.user_id), "label": o.label} for o in v.staff_options]
        self.tests = [{"id": str(t.id), "number": str(t.number), "version": t.version_label, "status": t.status_label,
                       "started_at": _time(t.started_at)} for t in v.tests]
        self.history = [{"at": _time(h.at), "who": h.who, "what": h.what, "version": h.version_label,
                         "comment": h.comment} for h in v.history]
        self.loaded = True
        return None

    async def _act(self, fn, done: str):  # noqa: ANN001
        out = await run(self, fn, write=True)
        if not out.ok:
            return events(out.problem(), await self._refresh())
        return events(rx.toast.success(done), await self._refresh())

    @rx.event
    def set_qaid(self, value: str):
        self.qaid = value

    @rx.event
    async def add_tester(self, form: dict[str, str] | None = None):
        aid, qaid = self.activity_id, (form or {}).get("qaid", self.qaid)
        out = await run(self, lambda s, u: svc.add_tester(session=s, actor=u, activity_id=aid, qaid=qaid), write=True)
        if not out.ok:
            return out.problem()
        self.qaid = ""
        return await self._refresh()

    @rx.event
    async def add_staff(self, form: dict[str, str] | None = None):
        """Issue 14: a workspace user with a staff contact as a tester."""
        aid, chosen = self.activity_id, (form or {}).get("user_id") or ""
        if not chosen.isdigit():
            return rx.toast.error("Choose a staff member (users with a phone or email in Settings → Users).")
        uid = int(chosen)
        return await self._act(lambda s, u: svc.add_staff_tester(session=s, actor=u, activity_id=aid, user_id=uid),
                               "Staff tester added.")

    @rx.event
    async def remove_tester(self, tester_id: str):
        aid, tid = self.activity_id, int(tester_id)
        return await self._act(lambda s, u: svc.remove_tester(session=s, actor=u, activity_id=aid, tester_id=tid),
                               "Tester removed.")

    @rx.event
    async def run_test(self):
        aid = self.activity_id
        return await self._act(lambda s, u: svc.run_test(session=s, actor=u, activity_id=aid),
                               "Test started: only the testers receive it, marked as a test.")

    @rx.event
    async def request_live(self):
        aid = self.activity_id
        out = await run(self, lambda s, u: svc.request_live(session=s, actor=u, activity_id=aid).status, write=True)
        if not out.ok:
            return events(out.problem(), await self._refresh())
        if out.value == ApprovalStatus.SUBMISSION_FAILED:
            return events(rx.toast.warning("Submission failed: see the history for the reason."),
                          await self._refresh())
        return events(rx.toast.success("Request sent: an admin or a reviewer decides."), await self._refresh())

    @rx.event
    async def withdraw(self):
        aid = self.activity_id
        return await self._act(lambda s, u: svc.withdraw(session=s, actor=u, activity_id=aid), "Request withdrawn.")

    @rx.event
    async def finish(self):
        aid = self.activity_id
        return await self._act(lambda s, u: svc.finish(session=s, actor=u, activity_id=aid),
                               "Completed: it will not run again.")

    @rx.event
    def edit(self):
        return rx.redirect(canvas_route(self.activity_id))

    @rx.event
    async def copy(self):
        aid = self.activity_id
        out = await run(self, lambda s, u: activity_service.copy_activity(session=s, actor=u, activity_id=aid).id,
                        write=True)
        if not out.ok or out.value is None:
            return out.problem()
        return rx.redirect(canvas_route(out.value))


@dataclass
class _Decision:
    kind: str  # approve | reject
    activity_id: int
    name: str


class ReviewsState(rx.State):
    """/reviews: the requests under review an admin or a reviewer may decide."""

    rows: list[dict[str, str]] = []
    changes: dict[str, list[str]] = {}
    loaded: bool = False
    dialog_open: bool = False
    kind: str = ""  # approve | reject
    target_id: str = ""
    target_name: str = ""
    comment: str = ""
    error: str = ""

    @rx.event
    async def load(self):
        out = await run(self, lambda s, u: svc.review_queue(session=s, actor=u))
        if not out.ok or out.value is None:
            self.rows, self.changes, self.loaded = [], {}, True
            return out.problem()
        self.rows = [{"request_id": str(q.request_id), "activity_id": str(q.activity_id), "name": q.activity_name,
                      "requester": q.requester, "requested_at": _time(q.requested_at), "version": q.version_label,
                      "base": q.base_label, "own": "You asked: another admin or reviewer decides." if q.own else ""}
                     for q in out.value]
        self.changes = {str(q.request_id): q.changes for q in out.value}
        self.loaded = True
        return None

    @rx.event
    def open_decision(self, kind: str, activity_id: str, name: str):
        self.kind, self.target_id, self.target_name = kind, activity_id, name
        self.comment, self.error, self.dialog_open = "", "", True

    @rx.event
    def set_dialog_open(self, value: bool):
        self.dialog_open = value

    @rx.event
    def set_comment(self, value: str):
        self.comment = value

    @rx.event
    async def submit(self):
        aid, comment, kind = int(self.target_id), self.comment, self.kind
        if kind == "approve":
            out = await run(self, lambda s, u: svc.approve(session=s, actor=u, activity_id=aid,
                                                           comment=comment).status, write=True)
        else:
            out = await run(self, lambda s, u: svc.reject(session=s, actor=u, activity_id=aid,
                                                          comment=comment).status, write=True)
        if out.signed_out:
            return out.problem()
        if not out.ok:
            self.error = out.error
            return None
        self.dialog_open = False
        if out.value == ApprovalStatus.SUBMISSION_FAILED:
            done = rx.toast.warning(f"Approved, but “{self.target_name}” could not go live: submission failed "
                                    "(see its history).")
        else:
            done = rx.toast.success(f"“{self.target_name}” {'approved' if kind == 'approve' else 'rejected'}.")
        return events(done, await self.load())
