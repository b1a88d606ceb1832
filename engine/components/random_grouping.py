"""Random Grouping: splits the customers by ratio (e.g. 20/30/50) into branches group_1..group_n. The split
is a stable hash of (record, node, customer): deterministic across retries and batches."""

from typing import Any

from pydantic import BaseModel, Field

from engine.components.base import Batch, Component, Outcome, Ports
from engine.components.category import Category
from engine.components.meta import Meta
from engine.components.splitting import (
    GROUPS_HINTS,
    MAX_GROUPS,
    STARTER_GROUPS,
    SplitGroup,
    draft_group_count,
    group_branches,
    ratios_summary,
    split,
    split_problems,
)


class RandomGroupingConfig(BaseModel):
    groups: list[SplitGroup] = Field(min_length=1, max_length=MAX_GROUPS, title="Groups",
                                     description="Ratios in percent, adding up to 100", json_schema_extra=GROUPS_HINTS)


class RandomGrouping(Component):
    type = "random_grouping"
    label = "Random Grouping"
    category = Category.CONTROL
    Config = RandomGroupingConfig
    meta = Meta(icon="Shuffle", blurb="Split randomly by ratio", order=30, summary=ratios_summary,
                starter=STARTER_GROUPS, splits=True)
    uses_profile = False

    def check(self, config: RandomGroupingConfig) -> list[str]:
        return split_problems(config.groups)

    def branches(self, config: RandomGroupingConfig) -> list[str]:
        return group_branches(len(config.groups))

    def draft_branches(self, raw: dict[str, Any]) -> list[str]:
        return group_branches(draft_group_count(raw))

    def execute(self, batch: Batch, config: RandomGroupingConfig, ports: Ports) -> Outcome:
        return Outcome(routes=split(batch, config.groups))
