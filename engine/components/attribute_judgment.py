"""Attribute Judgment: condition groups over the properties of the behaviour event that made the customer
enter (after a Behaviour Event trigger), e.g. follow source eq "poster" vs "search"."""

from typing import Any

from pydantic import BaseModel, Field

from engine.components.base import Batch, CustomerView, Ports
from engine.components.category import Category
from engine.components.conditions import (
    CONDITIONS,
    JUDGMENT_GROUPS,
    MAX_CONDITIONS,
    MAX_GROUPS,
    ConditionGroupBase,
    PropertyCondition,
    lookup,
)
from engine.components.judging import JudgmentComponent
from engine.components.meta import Meta, groups_summary


class AttributeGroup(ConditionGroupBase):
    conditions: list[PropertyCondition] = Field(min_length=1, max_length=MAX_CONDITIONS, title="Conditions (all)",
                                   json_schema_extra=CONDITIONS)


class AttributeJudgmentConfig(BaseModel):
    groups: list[AttributeGroup] = Field(min_length=1, max_length=MAX_GROUPS, title="Groups",
                                         description="Tried in order; a customer takes the first group it matches",
                                   json_schema_extra=JUDGMENT_GROUPS)


class AttributeJudgment(JudgmentComponent):
    type = "attribute_judgment"
    label = "Attribute Judgment"
    category = Category.JUDGMENT
    Config = AttributeJudgmentConfig
    meta = Meta(icon="SlidersHorizontal", blurb="Split by the event's properties", order=30, summary=groups_summary,
                starter={"groups": [{"name": "", "conditions": [{"op": "eq", "value": None}]}]})
    uses_profile = False

    def matching(self, batch: Batch, config: Any, ports: Ports, group: AttributeGroup,
                 customers: list[CustomerView], context: Any) -> set[int]:
        matched = set()
        tests = [(cond.property, cond.tester()) for cond in group.conditions]
        for c in customers:
            props = batch.trigger_props.get(c.id) or {}
            if all(test(lookup(props, prop)) for prop, test in tests):
                matched.add(c.id)
        return matched
