"""The component registry: the 21 component types of the canvas, their category, what configures them and
which output branches they have. The canvas palette, the validator and (next) the executors all read this.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Category(StrEnum):
    TRIGGER = "Trigger Mode"
    TOUCH = "Marketing Touch"
    CONTROL = "Process Control"
    JUDGMENT = "Judgment Condition"
    DATA_PUSH = "Data Push"


def _single(_config: dict[str, Any]) -> list[str]:
    return ["out"]


def _none(_config: dict[str, Any]) -> list[str]:
    return []


def _groups_and_others(config: dict[str, Any]) -> list[str]:
    """Judgments: one branch per condition group, plus "others"."""
    return [f"group_{i + 1}" for i in range(len(config.get("groups") or []))] + ["others"]


def _groups(config: dict[str, Any]) -> list[str]:
    """AB test / random grouping: one branch per group, no "others"."""
    return [f"group_{i + 1}" for i in range(len(config.get("groups") or []))]


@dataclass(frozen=True)
class ComponentSpec:
    type: str
    label: str
    category: Category
    required: tuple[str, ...] = ()  # config keys that must be non-empty before publish
    branches: Callable[[dict[str, Any]], list[str]] = field(default=_single)

    @property
    def is_trigger(self) -> bool:
        return self.category == Category.TRIGGER

    def missing(self, config: dict[str, Any]) -> list[str]:
        return [key for key in self.required if config.get(key) in (None, "", [], {})]


_SPECS = [
    ComponentSpec("target_audience", "Target Audience", Category.TRIGGER, ("audience_id",)),
    ComponentSpec("behavior_event", "Behaviour Event", Category.TRIGGER, ("event",)),
    ComponentSpec("text_sms", "Text SMS", Category.TOUCH, ("content",)),
    ComponentSpec("digital_sms", "Digital SMS", Category.TOUCH, ("template_id",)),
    ComponentSpec("email", "Email", Category.TOUCH, ("subject", "body")),
    ComponentSpec("wechat_message", "WeChat Message", Category.TOUCH, ("content",)),
    ComponentSpec("template_message", "Template Message", Category.TOUCH, ("template_id",)),
    ComponentSpec("app_push", "APP PUSH", Category.TOUCH, ("title", "body")),
    ComponentSpec("tag", "Tag", Category.TOUCH, ("tag", "value")),
    ComponentSpec("generate_audience", "Generate Audience", Category.TOUCH, ("audience_name",)),
    ComponentSpec("wait_until", "Wait Until", Category.CONTROL, ("mode",)),
    ComponentSpec("ab_test", "AB Test", Category.CONTROL, ("groups",), _groups),
    ComponentSpec("random_grouping", "Random Grouping", Category.CONTROL, ("groups",), _groups),
    ComponentSpec("end", "End", Category.CONTROL, (), _none),
    ComponentSpec("tag_judgment", "Tag Judgment", Category.JUDGMENT, ("groups",), _groups_and_others),
    ComponentSpec("event_judgment", "Event Judgment", Category.JUDGMENT, ("groups",), _groups_and_others),
    ComponentSpec("attribute_judgment", "Attribute Judgment", Category.JUDGMENT, ("groups",), _groups_and_others),
    ComponentSpec("result_judgment", "Result Judgment", Category.JUDGMENT, ("groups",), _groups_and_others),
    ComponentSpec("audience_judgment", "Audience Judgment", Category.JUDGMENT, ("groups",), _groups_and_others),
    ComponentSpec("webhook", "Webhook", Category.DATA_PUSH, ("url",)),
    ComponentSpec("push_kafka", "Push Kafka", Category.DATA_PUSH, ("bootstrap_servers", "topic")),
]

REGISTRY: dict[str, ComponentSpec] = {spec.type: spec for spec in _SPECS}


def get_spec(component_type: str) -> ComponentSpec | None:
    return REGISTRY.get(component_type)
