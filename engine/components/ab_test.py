"""AB Test: splits the customers by ratio into group_1..group_n (stable hash, like Random Grouping) and
compares how many in each group reach a target event within a window after entering.

The executor routes and counts inflows per group (metrics "inflow_group_i"). When a batch's window closes
(`window_closes`), the runtime/scheduler calls `targets_achieved` for each group and `winning_group` over the
totals — both pure over their inputs."""

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field, field_validator

from engine.components.base import Batch, Component, Outcome, Ports
from engine.components.behavior_event import check_event_name, did_event
from engine.components.category import Category
from engine.components.conditions import FILTERS, MAX_CONDITIONS, PropertyCondition, to_where
from engine.components.meta import Meta, SummaryContext
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

INFLOW = "inflow_"  # metric prefix: inflow_group_1 ...
ACHIEVED = "targets_achieved_"  # metric prefix: targets_achieved_group_1 ...


class AbTestConfig(BaseModel):
    groups: list[SplitGroup] = Field(min_length=1, max_length=MAX_GROUPS, title="Groups",
                                     description="Ratios in percent, adding up to 100 (e.g. 50/50)",
                                     json_schema_extra=GROUPS_HINTS)
    target_event: str = Field(min_length=1, max_length=60, title="Target event",
                              description="The event that counts as reaching the target, e.g. purchase")
    window_hours: int = Field(72, ge=1, le=24 * 90, title="Within (hours)",
                              description="How long after entering a target event still counts")
    target_filters: list[PropertyCondition] = Field(default_factory=list, max_length=MAX_CONDITIONS,
                                                    title="Target event filters",
                                                    description="Only target events meeting all of these count",
                                                    json_schema_extra=FILTERS)

    _event = field_validator("target_event")(check_event_name)


def summary(config: Mapping[str, Any], ctx: SummaryContext) -> str:
    """"50% / 50% · goal purchase"."""
    goal = f" · goal {config['target_event']}" if config.get("target_event") else ""
    return ratios_summary(config, ctx) + goal


class AbTest(Component):
    type = "ab_test"
    label = "AB Test"
    category = Category.CONTROL
    Config = AbTestConfig
    meta = Meta(icon="Split", blurb="Compare variants by ratio", order=20, summary=summary, starter=STARTER_GROUPS,
                splits=True)
    uses_profile = False

    def check(self, config: AbTestConfig) -> list[str]:
        return split_problems(config.groups)

    def branches(self, config: AbTestConfig) -> list[str]:
        return group_branches(len(config.groups))

    def draft_branches(self, raw: dict[str, Any]) -> list[str]:
        return group_branches(draft_group_count(raw))

    def execute(self, batch: Batch, config: AbTestConfig, ports: Ports) -> Outcome:
        routes = split(batch, config.groups)
        return Outcome(routes=routes, metrics={f"{INFLOW}{branch}": len(ids) for branch, ids in routes.items()})


def window_closes(config: AbTestConfig, entered_at: datetime) -> datetime:
    return entered_at + timedelta(hours=config.window_hours)


def targets_achieved(config: AbTestConfig, routes: dict[str, list[int]], entered_at: datetime,
                     ports: Ports) -> dict[str, int]:
    """Per group: how many of the customers routed there did the target event within the window after
    `entered_at` (one `Ports.event_counts` call per group)."""
    until = window_closes(config, entered_at)
    where = to_where(config.target_filters)
    return {branch: len(did_event(ports, ids, event=config.target_event, times=1, since=entered_at, until=until,
                                  where=where))
            for branch, ids in routes.items()}


def winning_group(inflow: dict[str, int], achieved: dict[str, int]) -> str | None:
    """The group with the highest conversion (targets achieved / inflow); ties go to more targets achieved,
    then to the earlier group. None while no group has achieved a target."""
    best: tuple[float, int, int] | None = None
    winner = None
    for index, branch in enumerate(sorted(inflow, key=_group_order)):
        entered, hits = inflow.get(branch, 0), achieved.get(branch, 0)
        if entered <= 0 or hits <= 0:
            continue
        key = (hits / entered, hits, -index)
        if best is None or key > best:
            best, winner = key, branch
    return winner


def _group_order(branch: str) -> tuple[int, str]:
    number = branch.removeprefix("group_")
    return (int(number), branch) if number.isdigit() else (10**9, branch)
