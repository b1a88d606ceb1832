"""Target Audience (trigger): an audience enters the flow, once or on every cycle of the activity's schedule.
The runtime materialises the audience (a failure is the "failed to obtain crowd data" case); the batches it
makes are the audience's members, so the executor lets all of them through."""

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, Field

from engine.components.base import Batch, Component, Outcome, Ports
from engine.components.category import Category
from engine.components.meta import Meta, SummaryContext, hints
from engine.components.splitting import unique


class TargetAudienceConfig(BaseModel):
    audience_id: int = Field(ge=1, title="Audience", description="The audience whose members enter the flow",
                             json_schema_extra=hints(widget="audience"))
    entry_mode: Literal["once", "periodic"] = Field(
        "once", title="Entry",
        description="once: the audience enters one time; periodic: it is re-read and enters again on every "
                    "cycle of the activity's schedule (e.g. monthly)",
        json_schema_extra=hints(enum_labels={"once": "Once — the audience enters one time",
                                             "periodic": "Every cycle — re-read on each run of the schedule"}))


def summary(config: Mapping[str, Any], ctx: SummaryContext) -> str:
    """"VIP list · every cycle"."""
    audience_id = config.get("audience_id")
    name = ctx.audiences.get(audience_id) if isinstance(audience_id, int) else None
    return f"{name} · {'every cycle' if config.get('entry_mode') == 'periodic' else 'once'}" if name else ""


class TargetAudience(Component):
    type = "target_audience"
    label = "Target Audience"
    category = Category.TRIGGER
    Config = TargetAudienceConfig
    meta = Meta(icon="Users", blurb="An audience enters the flow", order=10, summary=summary)
    uses_profile = False

    def audiences(self, raw: dict[str, Any]) -> list[int]:
        value = raw.get("audience_id") if isinstance(raw, dict) else None
        return [value] if isinstance(value, int) and not isinstance(value, bool) and value > 0 else []

    def execute(self, batch: Batch, config: TargetAudienceConfig, ports: Ports) -> Outcome:
        return Outcome(routes={"out": [c.id for c in unique(batch.customers)]})
