"""Event Judgment: condition groups over behaviour events — did (or did not) the customer perform an event
at least N times within the last hours, e.g. "did not register the app within 1 day"."""

from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field, field_validator

from engine.components.base import Batch, CustomerView, Ports
from engine.components.behavior_event import MAX_WINDOW_HOURS, check_event_name, did_event
from engine.components.category import Category
from engine.components.conditions import (
    CONDITIONS,
    FILTERS,
    JUDGMENT_GROUPS,
    MAX_CONDITIONS,
    MAX_GROUPS,
    ConditionGroupBase,
    PropertyCondition,
    to_where,
)
from engine.components.judging import JudgmentComponent
from engine.components.meta import Meta, groups_summary


class EventCondition(BaseModel):
    event: str = Field(min_length=1, max_length=60, title="Event", description="e.g. register_app")
    performed: bool = Field(True, title="Performed", description="true: did it; false: did not do it")
    times: int = Field(1, ge=1, le=1000, title="At least (times)")
    window_hours: int = Field(24, ge=1, le=MAX_WINDOW_HOURS, title="Within the last (hours)")
    filters: list[PropertyCondition] = Field(default_factory=list, max_length=MAX_CONDITIONS,
                                             title="Property filters", json_schema_extra=FILTERS)

    _event = field_validator("event")(check_event_name)


class EventGroup(ConditionGroupBase):
    conditions: list[EventCondition] = Field(min_length=1, max_length=MAX_CONDITIONS, title="Conditions (all)",
                                   json_schema_extra=CONDITIONS)


class EventJudgmentConfig(BaseModel):
    groups: list[EventGroup] = Field(min_length=1, max_length=MAX_GROUPS, title="Groups",
                                     description="Tried in order; a customer takes the first group it matches",
                                   json_schema_extra=JUDGMENT_GROUPS)


class EventJudgment(JudgmentComponent):
    type = "event_judgment"
    label = "Event Judgment"
    category = Category.JUDGMENT
    Config = EventJudgmentConfig
    meta = Meta(icon="CalendarCheck", blurb="Did they do an event?", order=20, summary=groups_summary,
                starter={"groups": [{"name": "", "conditions": [{"performed": True, "times": 1,
                                                                "window_hours": 24}]}]})
    uses_profile = False

    def context(self, batch: Batch, config: Any, ports: Ports, customers: list[CustomerView]) -> datetime:
        return ports.now()  # one "now" for every group of the batch

    def matching(self, batch: Batch, config: Any, ports: Ports, group: EventGroup,
                 customers: list[CustomerView], context: datetime) -> set[int]:
        now = context
        candidates = {c.id for c in customers}
        for cond in group.conditions:
            if not candidates:
                break
            since = now - timedelta(hours=cond.window_hours)
            did = did_event(ports, sorted(candidates), event=cond.event, times=cond.times, since=since, until=now,
                            where=to_where(cond.filters))
            candidates = candidates & did if cond.performed else candidates - did
        return candidates
