"""Email (touch): subject and body with variables, sent to the customer's email address. An HTML body goes
as the HTML alternative, with a plain-text version of it as the text part."""

import html as html_lib
import re
from typing import Any

from pydantic import BaseModel, Field

from engine.channels.base import Message
from engine.components.base import Batch, CustomerView, Ports
from engine.components.category import Category
from engine.components.meta import Meta, field_summary, hints
from engine.components.sending import SendingComponent
from engine.components.templating import render, template_problems, variables
from engine.components.unsubscribe import UNSUBSCRIBE_LINK, unsubscribe_link

EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
SENDER = re.compile(r"^([^<>]*<[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+>|[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+)$")
_TAG = re.compile(r"<[^>]+>")
_BREAK = re.compile(r"<\s*(br|/p|/div|/h\d|/li|/tr)\s*/?>", re.IGNORECASE)


def plain_text(markup: str) -> str:
    """A readable text version of an HTML body."""
    text = _TAG.sub("", _BREAK.sub("\n", markup))
    return "\n".join(line.strip() for line in html_lib.unescape(text).splitlines()).strip()


class EmailConfig(BaseModel):
    subject: str = Field(min_length=1, max_length=200, title="Subject", description="Variables such as {name}")
    body: str = Field(min_length=1, max_length=50_000, title="Body", description="Variables such as {name}",
                      json_schema_extra=hints(widget="message", chips=["{name}", "{qaid}", "{unsubscribe_link}"]))
    html: bool = Field(False, title="HTML body", description="The body is HTML (a text version is sent with it)")
    sender: str = Field("", max_length=200, title="From",
                        description="e.g. Shop <news@shop.example>; empty: the platform's sender")
    reply_to: str = Field("", max_length=254, title="Reply to", description="Address replies go to")


class Email(SendingComponent):
    type = "email"
    label = "Email"
    category = Category.TOUCH
    Config = EmailConfig
    meta = Meta(icon="Mail", blurb="Send an email", order=30, summary=field_summary("subject", "title"))
    address_field = "email"
    missing_reason = "no email address"

    def check(self, config: EmailConfig) -> list[str]:
        problems = template_problems("subject", config.subject)
        if not config.html:
            problems += template_problems("body", config.body)  # HTML/CSS may hold braces of its own
        if config.sender and not SENDER.match(config.sender.strip()):
            problems.append("sender: write an address, e.g. Shop <news@shop.example>")
        if config.reply_to and not EMAIL.match(config.reply_to.strip()):
            problems.append("reply_to: not an email address")
        return problems

    def address_problem(self, address: str) -> str | None:
        return None if EMAIL.match(address) else "invalid email address"

    def extras(self, batch: Batch, config: EmailConfig, ports: Ports,
               customers: list[CustomerView]) -> dict[int, dict[str, Any]]:
        """{unsubscribe_link}: a signed link per customer that opts them out of email (components/unsubscribe.py)."""
        if UNSUBSCRIBE_LINK not in variables(config.body) + variables(config.subject):
            return {}
        return {c.id: {UNSUBSCRIBE_LINK: unsubscribe_link(c.id, batch.record_id)} for c in customers}

    def message(self, batch: Batch, config: EmailConfig, customer: CustomerView, to: str,
                extra: dict[str, Any]) -> Message:
        body = render(config.body, customer, extra)
        options: dict[str, Any] = {}
        if config.html:
            options["html"], body = body, plain_text(body)
        if config.sender:
            options["from"] = config.sender.strip()
        if config.reply_to:
            options["reply_to"] = config.reply_to.strip()
        # positional (record, node, customer, channel, to, body, subject, data, options): see Webhook.message
        return Message(batch.record_id, batch.node_id, customer.id, self.type, to, body,
                       render(config.subject, customer, extra), {}, options)
