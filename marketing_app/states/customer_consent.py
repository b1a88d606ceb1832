"""A customer's consent per channel on the profile (`/customers/<id>`): one `consent_of` call fills the table and
the history as strings; an admin's change is one `set_consent` call (refused by the service for anyone else: the
page shows no control to them)."""

import reflex as rx

from engine.services import consent as consent_service
from engine.services.consent import ConsentView
from marketing_app.states.customer_page import CustomerPage
from marketing_app.states.service import Call, events, run

TIME = "%Y-%m-%d %H:%M"
STATUS_COLORS = {"opted_in": "green", "opted_out": "red", "unknown": "gray"}


def _status(value: str) -> str:
    return consent_service.STATUS_LABELS.get(value, value)


class ConsentState(CustomerPage, rx.State):
    rows: list[dict[str, str]] = []
    history: list[dict[str, str]] = []
    can_edit: bool = False
    refusal: str = ""

    def _show(self, view: ConsentView) -> None:
        self.rows = [{
            "channel": c.channel, "label": c.label, "status": c.status, "status_label": _status(c.status),
            "color": STATUS_COLORS.get(c.status, "gray"), "since": c.changed_at.strftime(TIME) if c.changed_at else "—",
            "source": consent_service.SOURCE_LABELS.get(c.source, "—"), "field": c.address_field.replace("_", " "),
            "reachable": "1" if c.reachable else "",
        } for c in view.channels]
        self.history = [{
            "at": h.changed_at.strftime(TIME), "label": h.label,
            "change": f"{_status(h.previous)} → {_status(h.status)}",
            "source": consent_service.SOURCE_LABELS.get(h.source, h.source) + (f" ({h.changed_by})" if h.changed_by
                                                                                 else ""),
            "note": h.note,
        } for h in view.history]
        self.can_edit, self.refusal, self.error = view.edit_refusal == "", view.edit_refusal, ""

    def _fetch(self, customer_id: int) -> Call[ConsentView]:
        return lambda s, u: consent_service.consent_of(session=s, actor=u, customer_id=customer_id)

    @rx.event
    async def change(self, channel: str, status: str):
        cid = self.customer_id
        out = await run(self, lambda s, u: consent_service.set_consent(
            session=s, actor=u, customer_id=cid, channel=channel, status=status), write=True)
        if not out.ok or out.value is None:
            return out.problem()
        return events(await self._reload(), rx.toast.success(f"{out.value.label}: {_status(status)}."))
