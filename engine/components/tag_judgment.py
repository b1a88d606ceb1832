"""Tag Judgment: condition groups over the customer's tags, e.g. group 1 = gender eq female AND city in
(Beijing, Shanghai, Guangzhou, Shenzhen); the first matching group wins, the rest go to "others"."""

from typing import Any

from pydantic import BaseModel, Field

from engine.components.base import Batch, CustomerView, Ports
from engine.components.category import Category
from engine.components.conditions import (
    CONDITIONS,
    JUDGMENT_GROUPS,
    MAX_CONDITIONS,
    MAX_GROUPS,
    ConditionBase,
    ConditionGroupBase,
)
from engine.components.judging import JudgmentComponent
from engine.components.meta import Meta, groups_summary


class TagCondition(ConditionBase):
    tag: str = Field(min_length=1, max_length=60, title="Tag", description="e.g. gender")


class TagGroup(ConditionGroupBase):
    conditions: list[TagCondition] = Field(min_length=1, max_length=MAX_CONDITIONS, title="Conditions (all)",
                                   json_schema_extra=CONDITIONS)


class TagJudgmentConfig(BaseModel):
    groups: list[TagGroup] = Field(min_length=1, max_length=MAX_GROUPS, title="Groups",
                                   description="Tried in order; a customer takes the first group it matches",
                                   json_schema_extra=JUDGMENT_GROUPS)


class TagJudgment(JudgmentComponent):
    type = "tag_judgment"
    label = "Tag Judgment"
    category = Category.JUDGMENT
    Config = TagJudgmentConfig
    meta = Meta(icon="Tags", blurb="Split by tags", order=10, summary=groups_summary,
                starter={"groups": [{"name": "", "conditions": [{"op": "eq", "value": None}]}]})

    def uses_attributes(self, config: Any) -> bool:
        return False

    def uses_tags(self, config: Any) -> frozenset[str] | None:
        return frozenset(cond.tag for group in config.groups for cond in group.conditions)

    def matching(self, batch: Batch, config: Any, ports: Ports, group: TagGroup,
                 customers: list[CustomerView], context: Any) -> set[int]:
        tests = [(cond.tag, cond.tester()) for cond in group.conditions]
        if len(tests) == 1:
            (tag, test), = tests
            return {c.id for c in customers if test(c.tags.get(tag))}
        return {c.id for c in customers if all(test(c.tags.get(tag)) for tag, test in tests)}
