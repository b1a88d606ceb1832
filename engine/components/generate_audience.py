"""Generate Audience: the customers who arrive are saved as an audience (one per record and component),
e.g. after an Event Judgment or a Result Judgment branch."""

from pydantic import BaseModel, Field

from engine.components.base import Batch, Component, Outcome, Ports
from engine.components.category import Category
from engine.components.meta import Meta, field_summary
from engine.components.splitting import unique


class GenerateAudienceConfig(BaseModel):
    audience_name: str = Field(min_length=1, max_length=60, title="Audience name",
                               description="The audience the arriving customers are saved to")


class GenerateAudience(Component):
    type = "generate_audience"
    label = "Generate Audience"
    category = Category.TOUCH
    Config = GenerateAudienceConfig
    meta = Meta(icon="UserPlus", blurb="Save as an audience", order=80, summary=field_summary("audience_name"))
    uses_profile = False

    def check(self, config: GenerateAudienceConfig) -> list[str]:
        return [] if config.audience_name.strip() else ["audience_name: required"]

    def execute(self, batch: Batch, config: GenerateAudienceConfig, ports: Ports) -> Outcome:
        ids = [c.id for c in unique(batch.customers)]
        if ids:
            ports.add_to_audience(record_id=batch.record_id, node_id=batch.node_id,
                                  name=config.audience_name.strip(), customer_ids=ids)
        return Outcome(routes={"out": ids})
