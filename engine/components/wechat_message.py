"""WeChat Message (touch): text, image, image-text (news), voice, video or mini program, sent by the official
account to the customer's open id."""

from typing import Any, Literal

from pydantic import BaseModel, Field

from engine.channels.base import Message
from engine.components.base import Batch, CustomerView
from engine.components.category import Category
from engine.components.meta import Meta, field_summary, hints
from engine.components.sending import SendingComponent
from engine.components.templating import render, template_problems

MsgType = Literal["text", "image", "news", "voice", "video", "miniprogram"]
#: what each message type needs besides the type
NEEDS: dict[str, tuple[str, ...]] = {
    "text": ("content",), "image": ("media_id",), "voice": ("media_id",), "video": ("media_id",),
    "news": ("title", "url"), "miniprogram": ("title", "appid", "pagepath"),
}


class WechatMessageConfig(BaseModel):
    msg_type: MsgType = Field("text", title="Message type", json_schema_extra=hints(enum_labels={
        "text": "Text", "image": "Image", "news": "Image-text (news)", "voice": "Voice", "video": "Video",
        "miniprogram": "Mini program"}))
    content: str = Field("", max_length=2000, title="Text", description="Text messages; variables such as {name}",
                         json_schema_extra=hints(widget="message", chips=["{name}"], shown_when={"msg_type": ["text"]}))
    media_id: str = Field("", max_length=128, title="Media", description="Image, voice or video media id",
                          json_schema_extra=hints(shown_when={"msg_type": ["image", "voice", "video", "news",
                                                                           "miniprogram"]}))
    title: str = Field("", max_length=64, title="Title", description="Image-text and mini program title",
                       json_schema_extra=hints(shown_when={"msg_type": ["video", "news", "miniprogram"]}))
    description: str = Field("", max_length=120, title="Description", description="Image-text summary",
                             json_schema_extra=hints(shown_when={"msg_type": ["video", "news"]}))
    url: str = Field("", max_length=2000, title="Link", description="Image-text link (https://...)",
                     json_schema_extra=hints(shown_when={"msg_type": ["news"]}))
    appid: str = Field("", max_length=64, title="Mini program app id",
                       json_schema_extra=hints(shown_when={"msg_type": ["miniprogram"]}))
    pagepath: str = Field("", max_length=200, title="Mini program page",
                          json_schema_extra=hints(shown_when={"msg_type": ["miniprogram"]}))


class WechatMessage(SendingComponent):
    type = "wechat_message"
    label = "WeChat Message"
    category = Category.TOUCH
    Config = WechatMessageConfig
    meta = Meta(icon="MessageCircle", blurb="Official account message", order=40,
                summary=field_summary("content", "title"))
    address_field = "wechat_openid"
    missing_reason = "no WeChat open id"

    def check(self, config: WechatMessageConfig) -> list[str]:
        problems = [f"{field}: required for a {config.msg_type} message"
                    for field in NEEDS[config.msg_type] if not str(getattr(config, field)).strip()]
        if config.url and not config.url.startswith(("http://", "https://")):
            problems.append("url: must be an http:// or https:// address")
        return problems + template_problems("content", config.content) + template_problems("title", config.title)

    def message(self, batch: Batch, config: WechatMessageConfig, customer: CustomerView, to: str,
                extra: dict[str, Any]) -> Message:
        data = {"msg_type": config.msg_type}
        data.update({f: getattr(config, f) for f in ("media_id", "description", "url", "appid", "pagepath")
                     if getattr(config, f)})
        return Message(record_id=batch.record_id, node_id=batch.node_id, customer_id=customer.id,
                       channel=self.type, to=to, subject=render(config.title, customer, extra),
                       body=render(config.content, customer, extra), data=data)
