"""A component type that exists only for the tests, written as a new type would be: this one module is the whole
plugin (config with its field hints, metadata, validation, executor). Registering it (`registry.register`) is
all it takes for the palette, the panel, the validator and the runtime to know it; nothing else is edited.

Postcard (Marketing Touch): a picture postcard, delivered by email, with a greeting that may use variables."""

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Literal

from pydantic import BaseModel, Field

from engine.channels.base import Message
from engine.components.base import Batch, CustomerView
from engine.components.category import Category
from engine.components.meta import Meta, SummaryContext, hints, short
from engine.components.registry import register, unregister
from engine.components.sending import SendingComponent
from engine.components.templating import render, template_problems

TYPE = "postcard"


class Stamp(BaseModel):
    country: str = Field(min_length=1, max_length=40, title="Country")


class PostcardConfig(BaseModel):
    picture: Literal["beach", "city", "mountains"] = Field(
        "beach", title="Picture",
        json_schema_extra=hints(enum_labels={"beach": "A sunny beach", "city": "City lights"}))
    greeting: str = Field(min_length=1, max_length=300, title="Greeting", description="Variables such as {name}",
                          json_schema_extra=hints(widget="message", chips=["{name}", "{qaid}"]))
    peak: str = Field("", max_length=40, title="Peak", description="Mountains only: the peak's name",
                      json_schema_extra=hints(shown_when={"picture": ["mountains"]}))
    stamps: list[Stamp] = Field(default_factory=list, max_length=3, title="Stamps",
                              json_schema_extra=hints(item_name="Stamp"))


def summary(config: Mapping[str, Any], ctx: SummaryContext) -> str:
    return short(f"{config.get('picture') or 'beach'}: {config['greeting']}") if config.get("greeting") else ""


class Postcard(SendingComponent):
    type = TYPE
    label = "Postcard"
    category = Category.TOUCH
    Config = PostcardConfig
    meta = Meta(icon="Image", blurb="A picture postcard by email", summary=summary,
                starter={"picture": "beach", "greeting": ""})
    address_field = "email"
    missing_reason = "no email address"

    def check(self, config: PostcardConfig) -> list[str]:
        problems = template_problems("greeting", config.greeting)
        if config.picture == "mountains" and not config.peak:
            problems.append("peak: name the peak on a mountains postcard")
        return problems

    def message(self, batch: Batch, config: PostcardConfig, customer: CustomerView, to: str,
                extra: dict[str, Any]) -> Message:
        return Message(record_id=batch.record_id, node_id=batch.node_id, customer_id=customer.id, channel="email",
                       to=to, subject=f"A postcard ({config.picture})", body=render(config.greeting, customer, extra))


@contextmanager
def registered() -> Iterator[Postcard]:
    """The Postcard type registered for the duration of a test (removed again after it)."""
    component = register(Postcard())
    try:
        yield component
    finally:
        unregister(TYPE)
