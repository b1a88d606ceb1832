"""End: the customer's route through the flow ends here; no branches."""

from typing import Any

from pydantic import BaseModel

from engine.components.base import Batch, Component, Outcome, Ports
from engine.components.category import Category
from engine.components.meta import Meta
from engine.components.splitting import unique


class EndConfig(BaseModel):
    pass


class End(Component):
    type = "end"
    label = "End"
    category = Category.CONTROL
    Config = EndConfig
    meta = Meta(icon="FlagTriangleRight", blurb="The link ends here", order=40, terminal=True)
    uses_profile = False

    def branches(self, config: Any) -> list[str]:
        return []

    def execute(self, batch: Batch, config: EndConfig, ports: Ports) -> Outcome:
        return Outcome(routes={}, results=dict.fromkeys((c.id for c in unique(batch.customers)), ("passed", None)))
