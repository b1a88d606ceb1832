"""Template Message (touch): a WeChat official-account template message whose keywords are filled per
customer, e.g. the address keyword becomes each customer's nearest store from their attributes."""

import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, Field

from engine.channels.base import Message
from engine.components.base import Batch, CustomerView
from engine.components.category import Category
from engine.components.meta import Meta, SummaryContext, short
from engine.components.sending import SendingComponent
from engine.components.templating import render, template_problems

KEYWORD = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")


class TemplateMessageConfig(BaseModel):
    template_id: str = Field(min_length=1, max_length=64, title="Template", description="The WeChat template id")
    keywords: dict[str, str] = Field(min_length=1, max_length=20, title="Keywords",
                                     description="Template keyword -> value; variables such as {city} are "
                                                 "replaced per customer from their attributes")
    url: str = Field("", max_length=2000, title="Link", description="Opened when the message is tapped")


def summary(config: Mapping[str, Any], ctx: SummaryContext) -> str:
    return f"Template {short(config['template_id'], 30)}" if config.get("template_id") else ""


class TemplateMessage(SendingComponent):
    type = "template_message"
    label = "Template Message"
    category = Category.TOUCH
    Config = TemplateMessageConfig
    meta = Meta(icon="FileText", blurb="WeChat template", order=50, summary=summary)
    address_field = "wechat_openid"
    missing_reason = "no WeChat open id"

    def check(self, config: TemplateMessageConfig) -> list[str]:
        problems = []
        for key, text in config.keywords.items():
            if not KEYWORD.match(key):
                problems.append(f"keywords: '{key}' is not a keyword name (letters, digits, _)")
            if len(text) > 200:
                problems.append(f"keywords.{key}: at most 200 characters")
            problems += template_problems(f"keywords.{key}", text)
        if config.url and not config.url.startswith(("http://", "https://")):
            problems.append("url: must be an http:// or https:// address")
        return problems

    def message(self, batch: Batch, config: TemplateMessageConfig, customer: CustomerView, to: str,
                extra: dict[str, Any]) -> Message:
        keywords = {k: render(v, customer, extra) for k, v in config.keywords.items()}
        return Message(record_id=batch.record_id, node_id=batch.node_id, customer_id=customer.id,
                       channel=self.type, to=to, body="\n".join(f"{k}: {v}" for k, v in keywords.items()),
                       data={"template_id": config.template_id, "keywords": keywords, "url": config.url})
