"""Target Audience (trigger): an audience enters the flow, once or on every cycle of the activity's schedule.
The runtime materialises the audience (a failure is the "failed to obtain crowd data" case); the batches it
makes are the audience's members, so the executor lets all of them through."""

from typing import Literal

from pydantic import BaseModel, Field

from engine.components.base import Batch, Component, Outcome, Ports
from engine.components.category import Category
from engine.components.splitting import unique


class TargetAudienceConfig(BaseModel):
    audience_id: int = Field(ge=1, title="Audience", description="The audience whose members enter the flow")
    entry_mode: Literal["once", "periodic"] = Field(
        "once", title="Entry",
        description="once: the audience enters one time; periodic: it is re-read and enters again on every "
                    "cycle of the activity's schedule (e.g. monthly)")


class TargetAudience(Component):
    type = "target_audience"
    label = "Target Audience"
    category = Category.TRIGGER
    Config = TargetAudienceConfig
    uses_profile = False

    def execute(self, batch: Batch, config: TargetAudienceConfig, ports: Ports) -> Outcome:
        return Outcome(routes={"out": [c.id for c in unique(batch.customers)]})
