"""AB Test: splits the customers by ratio into group_1..group_n (stable hash, like Random Grouping) and
compares how many in each group reach a target event within a window after entering.

The executor routes and counts inflows per group (metrics "inflow_group_i"). When a batch's window closes
(`window_closes`), the runtime/scheduler calls `targets_achieved` for each group and `winning_group` over the
totals — both pure over their inputs.

Automatic winner (issue 16, engine/runtime/ab_winner.py): with `auto_winner` on, only `test_share` % of the
customers (a stable hash) are split into the groups; the others are parked here (`HELD_AT`: never due by time)
until the scheduler picks the winner — at the window's end, or earlier once the groups differ significantly at
`significance` % (engine/components/ab_stats.py) — and then walk on along the winner's branch. Customers who
reach the component after the pick go to the winner's branch at once (result "winner")."""

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from engine.components.base import Batch, Component, Outcome, Ports
from engine.components.behavior_event import check_event_name, did_event
from engine.components.category import Category
from engine.components.conditions import FILTERS, MAX_CONDITIONS, PropertyCondition, to_where
from engine.components.meta import Meta, SummaryContext, hints
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
    unique,
    unit_hash,
)

INFLOW = "inflow_"  # metric prefix: inflow_group_1 ...
ACHIEVED = "targets_achieved_"  # metric prefix: targets_achieved_group_1 ...
#: where a held customer's parked batch waits for the pick: so far ahead that no clock reaches it; the pick moves
#: it to "now" (engine/runtime/ab_winner.py `release`)
HELD_AT = datetime(3000, 1, 1, tzinfo=UTC)
#: the route result of customers sent to the winner by the pick (not test customers: never in the group rates)
WINNER = "winner"
#: the longest window an automatic pick can wait for: the customer details it counts from are kept 7 days
AUTO_WINDOW_MAX_HOURS = 7 * 24
AUTO = {"auto_winner": ["True"]}


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

    auto_winner: bool = Field(False, title="Pick a winner automatically",
                              description="When the window ends, or earlier once the difference is significant, "
                                          "the customers not in the test go to the winning group")
    significance: Literal["90", "95", "99"] = Field(
        "95", title="Significance level", description="How sure the difference must be to pick early",
        json_schema_extra=hints(shown_when=AUTO, enum_labels={"90": "90 %", "95": "95 %", "99": "99 %"}))
    test_share: int = Field(100, ge=1, le=100, title="Customers in the test (%)",
                            description="The rest wait here until the winner is picked, then all take its branch",
                            json_schema_extra=hints(shown_when=AUTO))

    _event = field_validator("target_event")(check_event_name)


def summary(config: Mapping[str, Any], ctx: SummaryContext) -> str:
    """"50% / 50% · goal purchase" (" · auto winner 95 %" when it picks one by itself)."""
    goal = f" · goal {config['target_event']}" if config.get("target_event") else ""
    auto = f" · auto winner {config.get('significance') or '95'} %" if config.get("auto_winner") else ""
    return ratios_summary(config, ctx) + goal + auto


class AbTest(Component):
    type = "ab_test"
    label = "AB Test"
    category = Category.CONTROL
    Config = AbTestConfig
    meta = Meta(icon="Split", blurb="Compare variants by ratio", order=20, summary=summary, starter=STARTER_GROUPS,
                splits=True)
    uses_profile = False

    def check(self, config: AbTestConfig) -> list[str]:
        return split_problems(config.groups) + auto_problems(config)

    def branches(self, config: AbTestConfig) -> list[str]:
        return group_branches(len(config.groups))

    def draft_branches(self, raw: dict[str, Any]) -> list[str]:
        return group_branches(draft_group_count(raw))

    def execute(self, batch: Batch, config: AbTestConfig, ports: Ports) -> Outcome:
        if not config.auto_winner:
            routes = split(batch, config.groups)
            return Outcome(routes=routes, metrics={f"{INFLOW}{branch}": len(ids) for branch, ids in routes.items()})
        winner = ports.ab_winner(batch.record_id, batch.node_id)
        customers = unique(batch.customers)
        if winner is not None:  # the test is over: everyone takes the winner's branch
            ids = [c.id for c in customers]
            return Outcome(routes={winner: ids}, results={cid: (WINNER, None) for cid in ids})
        tested = [c for c in customers if in_test(batch.record_id, batch.node_id, c.id, config.test_share)]
        held = [c.id for c in customers if not in_test(batch.record_id, batch.node_id, c.id, config.test_share)]
        routes = split(Batch(record_id=batch.record_id, node_id=batch.node_id, key=batch.key, customers=tested),
                       config.groups)
        return Outcome(routes=routes, parked=[(HELD_AT, held)] if held else [],
                       metrics={f"{INFLOW}{branch}": len(ids) for branch, ids in routes.items()})


def auto_problems(config: AbTestConfig) -> list[str]:
    """The automatic winner's rule: the pick counts from customer details, which are kept 7 days. (Without it,
    `test_share` is not used: everyone is in the test.)"""
    problems = []
    if config.auto_winner and config.window_hours > AUTO_WINDOW_MAX_HOURS:
        problems.append(f"window_hours: with an automatic winner the window is at most {AUTO_WINDOW_MAX_HOURS} "
                        "hours (7 days: customer details are kept 7 days)")
    return problems


def in_test(record_id: int, node_id: str, customer_id: int, share: int) -> bool:
    """Whether the customer is one of the `share` % in the test (a stable hash, independent of the group's)."""
    return share >= 100 or unit_hash(record_id, f"{node_id}~test", customer_id) * 100 < share


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
