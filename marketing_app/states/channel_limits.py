"""Settings → Channels, "Send-rate limits" (issue 16): the workspace's messages-per-minute limit per channel
(engine/services/pacing.py; admins only, all or nothing)."""

import reflex as rx

from engine.services import pacing as svc
from marketing_app.states.service import run

PREFIX = "limit_"  # the inputs' ids are limit-<channel>: Reflex keys the form's data limit_<channel>


def _rows(limits: list[svc.ChannelLimit]) -> list[dict[str, str]]:
    return [{"channel": c.channel, "label": c.label, "value": str(c.max_per_minute or "")} for c in limits]


class ChannelLimitsState(rx.State):
    rows: list[dict[str, str]] = []
    error: str = ""
    form_key: int = 0

    @rx.event
    async def load(self):
        out = await run(self, lambda s, u: _rows(svc.channel_limits(session=s, actor=u)))
        self.rows, self.error = out.value or [], ""
        self.form_key += 1

    @rx.event
    async def save(self, form: dict[str, str]):
        limits = {k.removeprefix(PREFIX).replace("-", "_"): str(v or "") for k, v in form.items()
                  if k.startswith(PREFIX)}
        out = await run(self, lambda s, u: _rows(svc.save_channel_limits(session=s, actor=u, limits=limits)),
                        write=True)
        if out.signed_out:
            return out.problem()
        if out.error:
            self.error = out.error
            return None
        self.rows, self.error = out.value or [], ""
        self.form_key += 1
        return rx.toast.success("Send-rate limits saved: workers apply them within a few seconds.")
