"""Audience Judgment: several audiences, each a branch, with priorities. A customer in several audiences
takes ONLY the branch of the highest-priority one (priority 1 first; without priorities, the list order),
so overlapping customers are never reached twice; customers in none go to "others"."""

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, Field

from engine.components.base import Batch, CustomerView, Ports
from engine.components.category import Category
from engine.components.conditions import MAX_GROUPS
from engine.components.judging import JudgmentComponent
from engine.components.meta import Meta, SummaryContext, hints, short


class AudienceGroup(BaseModel):
    name: str = Field("", max_length=40, title="Group name", description="Shown on the branch; optional")
    audience_id: int = Field(ge=1, title="Audience", json_schema_extra=hints(widget="audience"))
    priority: int | None = Field(None, ge=1, le=100, title="Priority",
                                 description="1 is the highest; an overlapping customer takes the highest only")


class AudienceJudgmentConfig(BaseModel):
    groups: list[AudienceGroup] = Field(min_length=1, max_length=MAX_GROUPS, title="Audiences",
                                        description="One branch per audience, in priority order",
                                        json_schema_extra=hints(item_name="Audience", branch_items=True))


def summary(config: Mapping[str, Any], ctx: SummaryContext) -> str:
    """The audiences' names, in order."""
    groups = [g for g in config.get("groups") or [] if isinstance(g, Mapping)]
    names = [ctx.audiences.get(a, "") if isinstance(a := g.get("audience_id"), int) else "" for g in groups]
    return short(", ".join(n for n in names if n)) if any(names) else ""


class AudienceJudgment(JudgmentComponent):
    type = "audience_judgment"
    label = "Audience Judgment"
    category = Category.JUDGMENT
    Config = AudienceJudgmentConfig
    meta = Meta(icon="UserCheck", blurb="Split by audience, with priority", order=50, summary=summary,
                starter={"groups": [{"name": ""}]})
    uses_profile = False

    def check(self, config: AudienceJudgmentConfig) -> list[str]:
        problems = []
        ids = [g.audience_id for g in config.groups]
        if len(set(ids)) != len(ids):
            problems.append("groups: each audience may appear only once")
        priorities = [g.priority for g in config.groups if g.priority is not None]
        if len(set(priorities)) != len(priorities):
            problems.append("groups: two audiences have the same priority")
        return problems

    def ordered_groups(self, config: AudienceJudgmentConfig) -> list[tuple[int, Any]]:
        indexed = list(enumerate(config.groups))
        return sorted(indexed, key=lambda ig: (ig[1].priority if ig[1].priority is not None else 10**6, ig[0]))

    def matching(self, batch: Batch, config: Any, ports: Ports, group: AudienceGroup,
                 customers: list[CustomerView], context: Any) -> set[int]:
        return set(ports.audience_members(group.audience_id, [c.id for c in customers]))
