"""The one registry of component types: the canvas palette (in this order), the flow validator and the
runtime all find a component here. Adding a component = adding its module and one line below."""

from engine.components import (
    ab_test,
    app_push,
    attribute_judgment,
    audience_judgment,
    behavior_event,
    digital_sms,
    email,
    end,
    event_judgment,
    generate_audience,
    push_kafka,
    random_grouping,
    result_judgment,
    tag,
    tag_judgment,
    target_audience,
    template_message,
    text_sms,
    wait_until,
    webhook,
    wechat_message,
)
from engine.components.base import Component

_ALL: list[Component] = [
    target_audience.TargetAudience(),
    behavior_event.BehaviorEvent(),
    text_sms.TextSms(),
    digital_sms.DigitalSms(),
    email.Email(),
    wechat_message.WechatMessage(),
    template_message.TemplateMessage(),
    app_push.AppPush(),
    tag.Tag(),
    generate_audience.GenerateAudience(),
    wait_until.WaitUntil(),
    ab_test.AbTest(),
    random_grouping.RandomGrouping(),
    end.End(),
    tag_judgment.TagJudgment(),
    event_judgment.EventJudgment(),
    attribute_judgment.AttributeJudgment(),
    result_judgment.ResultJudgment(),
    audience_judgment.AudienceJudgment(),
    webhook.Webhook(),
    push_kafka.PushKafka(),
]

COMPONENTS: dict[str, Component] = {c.type: c for c in _ALL}


class UnknownComponent(KeyError):
    pass


def get_component(component_type: str) -> Component:
    """The component of a type; raises UnknownComponent (a KeyError) for an unknown type."""
    try:
        return COMPONENTS[component_type]
    except KeyError:
        raise UnknownComponent(f"Unknown component type '{component_type}'") from None
