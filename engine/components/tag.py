"""Tag: writes a tag value on every customer who enters (e.g. "membership level" = "VIP")."""

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, Field

from engine.components.base import Batch, Component, Outcome, Ports
from engine.components.category import Category
from engine.components.meta import Meta, SummaryContext, short
from engine.components.splitting import unique


class TagConfig(BaseModel):
    tag: str = Field(min_length=1, max_length=60, title="Tag", description="e.g. membership level")
    value: str = Field(min_length=1, max_length=120, title="Value", description="e.g. VIP")


def summary(config: Mapping[str, Any], ctx: SummaryContext) -> str:
    return short(f"{config['tag']} = {config.get('value', '')}") if config.get("tag") else ""


class Tag(Component):
    type = "tag"
    label = "Tag"
    category = Category.TOUCH
    Config = TagConfig
    meta = Meta(icon="Tag", blurb="Tag the customers", order=70, summary=summary)
    uses_profile = False

    def check(self, config: TagConfig) -> list[str]:
        return [] if config.tag.strip() else ["tag: required"]

    def execute(self, batch: Batch, config: TagConfig, ports: Ports) -> Outcome:
        ids = [c.id for c in unique(batch.customers)]
        if ids:
            ports.set_tag(ids, config.tag.strip(), config.value)
        return Outcome(routes={"out": ids})
