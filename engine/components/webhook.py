"""Webhook (data push): an HTTP POST per customer to your system (e.g. a CRM) with the customer's data; the
channel retries and, with a secret, signs the body (HMAC-SHA256 header)."""

import re
from collections.abc import Mapping
from typing import Any, Literal
from urllib.parse import urlparse

from pydantic import BaseModel, Field

from engine import outbound
from engine.channels.base import Message
from engine.components.base import Batch, CustomerView
from engine.components.category import Category
from engine.components.meta import Meta, SummaryContext, short
from engine.components.secret import Secret, SecretMap, SecretRef, is_secret_header
from engine.components.sending import SendingComponent, customer_payload
from engine.components.text_sms import is_http_url

CustomerField = Literal["name", "phone", "email", "wechat_openid", "push_token", "timezone", "attributes", "tags"]
DEFAULT_FIELDS: tuple[CustomerField, ...] = ("name", "phone", "email", "attributes")
HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")
RESERVED_HEADERS = {"content-length", "host", "content-type", "transfer-encoding", "connection"}


class WebhookConfig(BaseModel):
    url: str = Field(min_length=1, max_length=2000, title="URL", description="http(s) address the POST goes to")
    secret: Secret(min_length=8, max_length=128) = Field(  # type: ignore[valid-type]  # an Annotated built at runtime
        None, title="Signing secret",
        description="If set, the body is signed with HMAC-SHA256 in a signature header (write-only)")
    headers: SecretMap(is_secret_header) = Field(  # type: ignore[valid-type]  # an Annotated built at runtime
        default_factory=dict, max_length=20, title="Headers",
        description="Extra HTTP headers; Authorization, X-Api-Key and other credentials are write-only")
    fields: list[CustomerField] = Field(default_factory=lambda: list(DEFAULT_FIELDS),
                                        title="Customer fields", description="Sent with customer_id and qaid")
    retries: int = Field(3, ge=0, le=10, title="Retries", description="Retries after a failed POST")
    timeout_seconds: int = Field(10, ge=1, le=60, title="Timeout (seconds)")


def summary(config: Mapping[str, Any], ctx: SummaryContext) -> str:
    """The host the POST goes to."""
    return short(urlparse(str(config["url"])).netloc or config["url"], 36) if config.get("url") else ""


class Webhook(SendingComponent):
    type = "webhook"
    label = "Webhook"
    category = Category.DATA_PUSH
    Config = WebhookConfig
    meta = Meta(icon="Webhook", blurb="POST to your system", order=10, summary=summary)

    def check(self, config: WebhookConfig) -> list[str]:
        problems = [] if is_http_url(config.url) else ["url: must be an http:// or https:// address"]
        if fenced := outbound.url_problem(config.url):  # the send-time fence decides; this says it early
            problems.append(f"url: {fenced}")
        for name, value in config.headers.items():
            if not HEADER_NAME.match(name):
                problems.append(f"headers: '{name}' is not a valid header name")
            elif name.lower() in RESERVED_HEADERS:
                problems.append(f"headers: '{name}' is set by the platform")
            if isinstance(value, str) and ("\n" in value or "\r" in value or len(value) > 1000):
                problems.append(f"headers.{name}: one line of at most 1000 characters")
        return problems

    def address(self, customer: CustomerView, config: WebhookConfig) -> str | None:
        return config.url

    def message(self, batch: Batch, config: WebhookConfig, customer: CustomerView, to: str,
                extra: dict[str, Any]) -> Message:
        """The channel posts {"id", "record_id", "node_id", "customer_id", "data": <this payload>}."""
        payload = customer_payload(customer, config.fields)
        event = batch.trigger_props.get(customer.id) if batch.trigger_props else None
        if event:
            payload["event"] = dict(event)
        # positional (record, node, customer, channel, to, body, subject, data, options): keywords cost twice as
        # much to bind, for one message per customer
        return Message(batch.record_id, batch.node_id, customer.id, self.type, to, "", "", payload, _options(config))


_OPTIONS: dict[int, tuple[WebhookConfig, dict[str, Any]]] = {}


def _options(config: WebhookConfig) -> dict[str, Any]:
    """The delivery options of a node, built once per config object and shared by its messages (the channel
    groups messages by options; one shared object is cheap to compare)."""
    cached = _OPTIONS.get(id(config))
    if cached is not None and cached[0] is config:
        return cached[1]
    options: dict[str, Any] = {"headers": dict(config.headers), "max_attempts": config.retries + 1,
                               "timeout": config.timeout_seconds}
    if isinstance(config.secret, SecretRef) and config.secret.is_set:
        options["secret"] = config.secret  # resolved by the channel when it signs (engine.secrets.reveal)
    if len(_OPTIONS) > 256:
        _OPTIONS.clear()
    _OPTIONS[id(config)] = (config, options)
    return options
