"""A customer's profile (`/customers/<id>`): one `customer_profile` call fills the page's sections, as strings;
the admins' edits (tags, attributes) and the deletion are one service call each, refused by the service for
everyone else (the page also greys the controls out with the same message)."""

import json

import reflex as rx

from engine.services import customers as customers_service
from engine.services.customers import CustomerProfile
from engine.services.incoming import FAILURE, IN_FLOW, SUCCESS
from marketing_app.routes import canvas_route
from marketing_app.states.customer_page import CustomerPage
from marketing_app.states.service import Call, events, run

STATUS_LABELS = {SUCCESS: "Success", FAILURE: "Failure", IN_FLOW: "In the flow"}
RESULT_LABELS = {"success": "Succeeded", "failed": "Failed", "pending": "No receipt yet", "opted_out": "Opted out"}
TIME = "%Y-%m-%d %H:%M"


def _attribute_text(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


class CustomerProfileState(CustomerPage, rx.State):
    head: dict[str, str] = {}
    attributes: list[list[str]] = []
    tags: list[list[str]] = []
    events: list[dict[str, str]] = []
    entries: list[dict[str, str]] = []
    messages: list[dict[str, str]] = []
    retention_days: int = 7
    edit_refusal: str = ""
    loaded: bool = False
    tag_open: bool = False
    attribute_open: bool = False
    delete_open: bool = False
    dialog_error: str = ""

    def _show(self, p: CustomerProfile) -> None:
        self.customer_id = p.id
        self.head = {
            "qaid": p.qaid, "name": p.name or "—", "phone": p.phone or "—",
            "phone_note": "Only admins see the whole number." if p.phone_masked else "",
            "email": p.email or "—", "wechat": p.wechat_openid or "—", "push": p.push_token or "—",
            "timezone": p.timezone, "created": p.created_at.strftime(TIME),
        }
        self.attributes = [[k, _attribute_text(v)] for k, v in sorted(p.attributes.items())]
        self.tags = [[t.tag, t.value, t.updated_at.strftime(TIME)] for t in p.tags]
        self.events = [{"name": e.name, "at": e.occurred_at.strftime(TIME), "properties": e.properties}
                       for e in p.events]
        self.entries = [{
            "activity": e.activity_name, "round": f"#{e.record_number}", "record": str(e.record_id),
            "href": canvas_route(e.activity_id, mode="details", record=e.record_id),
            "entered": e.entered_at.strftime(TIME), "status": e.status,
            "status_label": STATUS_LABELS.get(e.status, e.status), "reason": e.reason,
            "route": " → ".join(e.route), "private": "" if e.public else "1",
        } for e in p.entries]
        self.messages = [{
            "activity": m.activity_name, "round": f"#{m.record_number}", "channel": m.channel, "node": m.node_id,
            "href": canvas_route(m.activity_id, mode="details", record=m.record_id),
            "result": m.result, "result_label": RESULT_LABELS.get(m.result, m.result), "reason": m.reason,
            "at": m.at.strftime(TIME),
        } for m in p.messages]
        self.retention_days, self.edit_refusal = p.retention_days, p.edit_refusal
        self.error, self.loaded = "", True

    def _fetch(self, customer_id: int) -> Call[CustomerProfile]:
        return lambda s, u: customers_service.customer_profile(session=s, actor=u, customer_id=customer_id)

    def _missing(self, error: str) -> None:
        self.error, self.loaded = error, True

    # ------------------------------------------------------------------ admin edits

    async def _change(self, fn, done: str):  # noqa: ANN001  (a service call taking session and actor)
        """Run one change; on success close the dialogs, re-read, toast `done`; a refusal stays in the dialog."""
        out = await run(self, fn, write=True)
        if out.signed_out:
            return out.problem()
        if out.error:
            if self.tag_open or self.attribute_open or self.delete_open:
                self.dialog_error = out.error
                return None
            return out.problem()
        self.tag_open = self.attribute_open = self.delete_open = False
        self.dialog_error = ""
        return events(await self._reload(), rx.toast.success(done))

    @rx.event
    def open_tag(self):
        self.tag_open, self.dialog_error = True, ""

    @rx.event
    def set_tag_open(self, value: bool):
        self.tag_open, self.dialog_error = value, ""

    @rx.event
    def open_attribute(self):
        self.attribute_open, self.dialog_error = True, ""

    @rx.event
    def set_attribute_open(self, value: bool):
        self.attribute_open, self.dialog_error = value, ""

    @rx.event
    def ask_delete(self):
        self.delete_open, self.dialog_error = True, ""

    @rx.event
    def set_delete_open(self, value: bool):
        self.delete_open, self.dialog_error = value, ""

    @rx.event
    async def save_tag(self, form: dict[str, str]):
        cid, tag, value = self.customer_id, form.get("tag") or "", form.get("value") or ""
        return await self._change(lambda s, u: customers_service.set_customer_tag(
            session=s, actor=u, customer_id=cid, tag=tag, value=value), f"Tag '{tag.strip()}' saved.")

    @rx.event
    async def remove_tag(self, tag: str):
        cid = self.customer_id
        return await self._change(lambda s, u: customers_service.remove_customer_tag(
            session=s, actor=u, customer_id=cid, tag=tag), f"Tag '{tag}' removed.")

    @rx.event
    async def save_attribute(self, form: dict[str, str]):
        cid, name = self.customer_id, form.get("name") or ""
        value = customers_service.parse_attribute_value(form.get("value") or "")
        return await self._change(lambda s, u: customers_service.set_attribute(
            session=s, actor=u, customer_id=cid, name=name, value=value), f"Attribute '{name.strip()}' saved.")

    @rx.event
    async def remove_attribute(self, name: str):
        cid = self.customer_id
        return await self._change(lambda s, u: customers_service.remove_attribute(
            session=s, actor=u, customer_id=cid, name=name), f"Attribute '{name}' removed.")

    @rx.event
    async def delete(self, form: dict[str, str]):
        cid, typed = self.customer_id, form.get("confirm") or ""
        out = await run(self, lambda s, u: customers_service.delete_customer(
            session=s, actor=u, customer_id=cid, confirm_qaid=typed), write=True)
        if out.signed_out:
            return out.problem()
        if out.error or out.value is None:
            self.dialog_error = out.error
            return None
        self.delete_open = False
        return [rx.toast.success(f"Customer {out.value.qaid} deleted: their details are gone, the counters stay."),
                rx.redirect("/customers", replace=True)]
