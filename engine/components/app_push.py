"""APP PUSH (touch): a mobile push notification (title, body, optional deep link) to the customer's push token."""

from typing import Any, Literal

from pydantic import BaseModel, Field

from engine.channels.base import Message
from engine.components.base import Batch, CustomerView
from engine.components.category import Category
from engine.components.meta import Meta, field_summary, hints
from engine.components.sending import SendingComponent
from engine.components.templating import render, template_problems


class AppPushConfig(BaseModel):
    title: str = Field(min_length=1, max_length=100, title="Title", description="Variables such as {name}")
    body: str = Field(min_length=1, max_length=500, title="Body", description="Variables such as {name}",
                      json_schema_extra=hints(widget="message", chips=["{name}"]))
    url: str = Field("", max_length=2000, title="Open link", description="Deep link or URL opened on tap")
    platform: Literal["all", "ios", "android"] = Field("all", title="Platform", json_schema_extra=hints(
        enum_labels={"all": "All devices", "ios": "iOS", "android": "Android"}))


class AppPush(SendingComponent):
    type = "app_push"
    label = "APP PUSH"
    category = Category.TOUCH
    Config = AppPushConfig
    meta = Meta(icon="BellRing", blurb="Mobile push notification", order=60, summary=field_summary("subject", "title"))
    address_field = "push_token"
    missing_reason = "no push token"

    def check(self, config: AppPushConfig) -> list[str]:
        return template_problems("title", config.title) + template_problems("body", config.body)

    def message(self, batch: Batch, config: AppPushConfig, customer: CustomerView, to: str,
                extra: dict[str, Any]) -> Message:
        # positional (record, node, customer, channel, to, body, subject, data): see Webhook.message
        return Message(batch.record_id, batch.node_id, customer.id, self.type, to, render(config.body, customer, extra),
                       render(config.title, customer, extra), _data(config))


_DATA: dict[int, tuple[AppPushConfig, dict[str, Any]]] = {}


def _data(config: AppPushConfig) -> dict[str, Any]:
    """The push payload's data, one (read-only) dict per node config shared by its messages."""
    cached = _DATA.get(id(config))
    if cached is None or cached[0] is not config:
        if len(_DATA) > 256:
            _DATA.clear()
        cached = _DATA[id(config)] = (config, {"url": config.url, "platform": config.platform})
    return cached[1]
