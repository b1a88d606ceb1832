"""Digital SMS (touch): a multimedia SMS from an approved template (text, images, audio, video); the
template's parameters are filled per customer from variables."""

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, Field

from engine.channels.base import Message
from engine.components.base import Batch, CustomerView
from engine.components.category import Category
from engine.components.meta import Meta, SummaryContext, short
from engine.components.sending import SendingComponent
from engine.components.templating import render, template_problems


class DigitalSmsConfig(BaseModel):
    template_id: str = Field(min_length=1, max_length=64, title="Template",
                             description="The approved digital SMS template")
    title: str = Field("", max_length=40, title="Title", description="Shown as the message subject")
    params: dict[str, str] = Field(default_factory=dict, max_length=20, title="Template parameters",
                                   description="Parameter -> text; variables such as {name} are filled in")


def summary(config: Mapping[str, Any], ctx: SummaryContext) -> str:
    return f"Template {short(config['template_id'], 30)}" if config.get("template_id") else ""


class DigitalSms(SendingComponent):
    type = "digital_sms"
    label = "Digital SMS"
    category = Category.TOUCH
    Config = DigitalSmsConfig
    meta = Meta(icon="Image", blurb="Rich SMS from an approved template", order=20, summary=summary)
    address_field = "phone"
    missing_reason = "no phone number"

    def check(self, config: DigitalSmsConfig) -> list[str]:
        problems = template_problems("title", config.title)
        for key, text in config.params.items():
            if not key.strip():
                problems.append("params: a parameter name is empty")
            if len(text) > 500:
                problems.append(f"params.{key}: at most 500 characters")
            problems += template_problems(f"params.{key}", text)
        return problems

    def message(self, batch: Batch, config: DigitalSmsConfig, customer: CustomerView, to: str,
                extra: dict[str, Any]) -> Message:
        params = {k: render(v, customer, extra) for k, v in config.params.items()}
        return Message(record_id=batch.record_id, node_id=batch.node_id, customer_id=customer.id,
                       channel=self.type, to=to, subject=render(config.title, customer, extra),
                       data={"template_id": config.template_id, "params": params})
