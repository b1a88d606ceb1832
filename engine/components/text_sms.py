"""Text SMS (touch): content with variables ({name}, {qaid}, attribute keys) and {short_link}, a short URL
per (record, node, customer) that redirects to the configured link and counts a click."""

from hashlib import blake2b
from typing import Any

from pydantic import BaseModel, Field

from engine.channels.base import Message
from engine.components.base import Batch, CustomerView, Ports
from engine.components.category import Category
from engine.components.meta import Meta, field_summary, hints
from engine.components.sending import SendingComponent
from engine.components.templating import render, template_problems, variables

SHORT_LINK = "short_link"
_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def short_code(record_id: int, node_id: str, customer_id: int, length: int = 10) -> str:
    """The deterministic code of a short link (base62 of a stable hash of record, node and customer)."""
    number = int.from_bytes(blake2b(f"{record_id}:{node_id}:{customer_id}".encode(), digest_size=10).digest(), "big")
    chars = []
    for _ in range(length):
        number, rest = divmod(number, 62)
        chars.append(_ALPHABET[rest])
    return "".join(chars)


def is_http_url(value: str) -> bool:
    return value.startswith(("http://", "https://")) and len(value) > len("https://") and " " not in value


class TextSmsConfig(BaseModel):
    content: str = Field(min_length=1, max_length=500, title="Content",
                         description="Message text; variables: {name}, {qaid}, {short_link}, any attribute key",
                         json_schema_extra=hints(widget="message", chips=["{name}", "{qaid}", "{short_link}"],
                                                   sms_segments=True))
    signature: str = Field("", max_length=20, title="Signature", description="Sender signature, e.g. Shop")
    link_url: str = Field("", max_length=2000, title="Short link target",
                          description="Where {short_link} leads (https://...); clicks are counted")


class TextSms(SendingComponent):
    type = "text_sms"
    label = "Text SMS"
    category = Category.TOUCH
    Config = TextSmsConfig
    meta = Meta(icon="MessageSquareText", blurb="SMS with variables and short links", order=10,
                summary=field_summary("content", "title"))
    address_field = "phone"
    missing_reason = "no phone number"

    def check(self, config: TextSmsConfig) -> list[str]:
        problems = template_problems("content", config.content)
        uses_link = SHORT_LINK in variables(config.content)
        if uses_link and not config.link_url:
            problems.append("link_url: the content uses {short_link}; set the link it leads to")
        if config.link_url and not is_http_url(config.link_url):
            problems.append("link_url: must be an http:// or https:// address")
        return problems

    def extras(self, batch: Batch, config: TextSmsConfig, ports: Ports,
               customers: list[CustomerView]) -> dict[int, dict[str, Any]]:
        if SHORT_LINK not in variables(config.content):
            return {}
        links = ports.short_links(record_id=batch.record_id, node_id=batch.node_id, url=config.link_url,
                                  customer_ids=[c.id for c in customers])
        return {cid: {SHORT_LINK: url} for cid, url in links.items()}

    def message(self, batch: Batch, config: TextSmsConfig, customer: CustomerView, to: str,
                extra: dict[str, Any]) -> Message:
        text = render(config.content, customer, extra)
        if config.signature:
            text = f"【{config.signature}】{text}"
        data: dict[str, Any] = {}
        if SHORT_LINK in extra:
            # the link is "<base>/<code>" (Ports.short_links): the code is not hashed a second time
            data = {"short_code": extra[SHORT_LINK].rpartition("/")[2],
                    "short_link": extra[SHORT_LINK], "link_url": config.link_url}
        # positional (record, node, customer, channel, to, body, subject, data): see Webhook.message
        return Message(batch.record_id, batch.node_id, customer.id, self.type, to, text, "", data)
