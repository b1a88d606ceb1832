"""Result Judgment: condition groups over the send result / receipt of a previous Marketing Touch or Data Push
component (success, failed, pending, or a receipt value), e.g. one hour after a WeChat message, SMS those whose
send failed and keep WeChat for those where it succeeded. A customer who never passed that component has no
result (matches only neq / not_in / exists=false)."""

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, Field

from engine.components.base import Batch, CustomerView, Ports
from engine.components.category import Category
from engine.components.conditions import (
    JUDGMENT_GROUPS,
    MAX_CONDITIONS,
    MAX_GROUPS,
    ConditionBase,
    ConditionGroupBase,
)
from engine.components.judging import JudgmentComponent
from engine.components.meta import Meta, SummaryContext, hints

RESULT_VALUES = ("success", "failed", "pending")
#: a new condition asks for the sends that succeeded
FIRST_CONDITION = {"op": "eq", "value": "success"}


class ResultCondition(ConditionBase):
    """op/value over the result, e.g. {"op": "in", "value": ["failed", "pending"]}."""


class ResultGroup(ConditionGroupBase):
    conditions: list[ResultCondition] = Field(min_length=1, max_length=MAX_CONDITIONS, title="Conditions (all)",
                                            json_schema_extra=hints(item_name="Condition", new_item=FIRST_CONDITION,
                                                                    value_placeholder=" / ".join(RESULT_VALUES)))


class ResultJudgmentConfig(BaseModel):
    node_id: str = Field(min_length=1, max_length=40, title="Component",
                         description="The earlier Marketing Touch or Data Push component whose results are read",
                         json_schema_extra=hints(widget="earlier_send"))
    groups: list[ResultGroup] = Field(min_length=1, max_length=MAX_GROUPS, title="Groups",
                                      description="Tried in order; a customer takes the first group it matches",
                                      json_schema_extra=JUDGMENT_GROUPS)


def summary(config: Mapping[str, Any], ctx: SummaryContext) -> str:
    """"Results of Text SMS (n3)"."""
    source = config.get("node_id")
    return f"Results of {ctx.labels.get(str(source), source)}" if source else ""


class ResultJudgment(JudgmentComponent):
    type = "result_judgment"
    label = "Result Judgment"
    category = Category.JUDGMENT
    Config = ResultJudgmentConfig
    meta = Meta(icon="CheckCheck", blurb="Split by a send's result", order=40, summary=summary,
                starter={"groups": [{"name": "", "conditions": [dict(FIRST_CONDITION)]}]})
    uses_profile = False

    def context(self, batch: Batch, config: ResultJudgmentConfig, ports: Ports,
                customers: list[CustomerView]) -> dict[int, str]:
        if not customers:
            return {}
        return ports.previous_results(batch.record_id, config.node_id, [c.id for c in customers])

    def matching(self, batch: Batch, config: Any, ports: Ports, group: ResultGroup, customers: list[CustomerView],
                 context: dict[int, str]) -> set[int]:
        results = context
        tests = [cond.tester() for cond in group.conditions]
        if len(tests) == 1:
            test = tests[0]
            return {c.id for c in customers if test(results.get(c.id))}
        return {c.id for c in customers if all(test(results.get(c.id)) for test in tests)}
