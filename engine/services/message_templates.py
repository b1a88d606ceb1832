"""Message templates (issue 15, `/templates/messages`): reusable content per touch channel that the touch
components' editors pick from ("Pick a template") or save into ("Save as template").

- **Channels** are the touch component types; each says which config fields a template fills (`CHANNELS`): the
  content (Text SMS content, email / push body, WeChat text, Digital SMS parameters and Template Message keywords
  as `key: value` lines) and, where the channel has one, the subject (email subject, push / Digital SMS title).
  The limits are the component's own (its config schema's maxLength), so a template always fits its component.
- **Variables** are the components' own (`engine.components.templating`, the one renderer): `{name}`, `{qaid}`,
  `{phone}`, `{email}`, any attribute key (`{city}`, `{vip.level}`, then tags), and `{short_link}` (Text SMS).
  The preview renders them for a customer picked by QAID (a phone shows its last four digits unless the viewer
  is an admin), `{short_link}` as a sample link; without a QAID, with sample values.
- **Moderation** is the reach tasks' (`engine.flow.moderation`, the workspace's banned words): a template whose
  text fails shows why, and an SMS shows its segment count; a failing template is still saved (the component it
  fills cannot be published, which says the same).
- **Visibility** as activities: a public template is seen by the workspace, a private one by its creator and
  admins; its creator and admins edit and delete it; managers and reviewers read.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import ColumnElement, and_, func, or_, true
from sqlmodel import Session, col, select

from engine import clock
from engine.components.base import CustomerView
from engine.components.templating import VARIABLE, render, template_problems
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.flow.moderation import moderate_text, segment_label, sms_segments
from engine.flow.registry import get_spec
from engine.models import Role, User, row_id
from engine.models.message_template import TEMPLATE_NAME_MAX, MessageTemplate
from engine.permissions import REVIEWER_READS
from engine.runtime.customers import load_view_map
from engine.services.customers import mask_phone
from engine.services.moderation import banned_words
from engine.settings import get_settings
from engine.shared.customers import get_customer

PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
SORTS = ("name", "channel", "updated_at", "created_at")
READ_ONLY = "Managers have read-only access: ask a marketer or an admin to do this."
NOT_YOURS = "Only the template's creator or an admin can change or delete it."
#: what a preview without a customer fills the built-in variables with (other variables show as [key])
SAMPLE = {"name": "Alex Chen", "qaid": "QA000001", "phone": "•••• 1234", "email": "alex@example.com"}
SHORT_LINK = "short_link"


@dataclass(frozen=True)
class TemplateChannel:
    """A touch channel's template: which config fields of its component the content and subject fill."""

    key: str  # the component type
    label: str
    content_field: str
    content_label: str
    subject_field: str = ""  # "" = the channel has no subject
    subject_label: str = ""
    pairs: int = 0  # > 0: the content is `key: value` lines filling a map, each value at most this long
    fixed: tuple[tuple[str, str], ...] = ()  # config values a picked template sets too (WeChat: a text message)

    @property
    def a_label(self) -> str:
        """The label with its article: "a Text SMS", "an Email"."""
        return ("an " if self.label[:1].lower() in "aeiou" else "a ") + self.label

    @property
    def sms(self) -> bool:
        return self.key == "text_sms"

    def _schema(self, field: str) -> dict[str, Any]:
        spec = get_spec(self.key)
        return dict(spec.schema().get("properties", {}).get(field, {})) if spec else {}

    @property
    def content_max(self) -> int:
        return int(self._schema(self.content_field).get("maxLength") or 50_000) if not self.pairs else 20

    @property
    def subject_max(self) -> int:
        return int(self._schema(self.subject_field).get("maxLength") or 200) if self.subject_field else 0

    @property
    def subject_required(self) -> bool:
        spec = get_spec(self.key)
        return bool(self.subject_field and spec and self.subject_field in spec.schema().get("required", []))


CHANNELS: dict[str, TemplateChannel] = {c.key: c for c in (
    TemplateChannel("text_sms", "Text SMS", "content", "Content"),
    TemplateChannel("digital_sms", "Digital SMS", "params", "Template parameters", "title", "Title", pairs=500),
    TemplateChannel("email", "Email", "body", "Body", "subject", "Subject"),
    TemplateChannel("wechat_message", "WeChat", "content", "Text", fixed=(("msg_type", "text"),)),
    TemplateChannel("template_message", "Template Message", "keywords", "Keywords", pairs=200),
    TemplateChannel("app_push", "App Push", "body", "Body", "title", "Title"),
)}


def channel_of(key: str) -> TemplateChannel:
    found = CHANNELS.get(key)
    if found is None:
        raise Invalid(f"Unknown channel '{key}': templates are for "
                      + ", ".join(c.label for c in CHANNELS.values()) + ".")
    return found


# ------------------------------------------------------------------------------------------------ content


def parse_pairs(text: str) -> dict[str, str]:
    """`key: value` lines → {key: value} (blank lines skipped; the first colon splits)."""
    out: dict[str, str] = {}
    for line in (text or "").splitlines():
        if line.strip():
            key, _, value = line.partition(":")
            out[key.strip()] = value.strip()
    return out


def pairs_text(pairs: dict[str, Any]) -> str:
    return "\n".join(f"{k}: {v}" for k, v in pairs.items())


def _check_content(channel: TemplateChannel, subject: str, content: str) -> None:
    """Clear refusals for what the channel's component would not take."""
    if channel.subject_field:
        if channel.subject_required and not subject.strip():
            raise Invalid(f"Enter the {channel.subject_label.lower()}: {channel.a_label} needs one.")
        if len(subject) > channel.subject_max:
            raise Invalid(f"The {channel.subject_label.lower()} can be at most {channel.subject_max} characters "
                          f"for {channel.label} ({len(subject)} entered).")
        if problems := template_problems(channel.subject_label, subject):
            raise Invalid(problems[0])
    elif subject:
        raise Invalid(f"{channel.a_label[0].upper()}{channel.a_label[1:]} template has no subject.")
    if not content.strip():
        raise Invalid("Enter the template's content.")
    if channel.pairs:
        lines = [(n, line) for n, line in enumerate(content.splitlines(), 1) if line.strip()]
        for number, line in lines:
            key, colon, value = line.partition(":")
            if not colon or not key.strip():
                raise Invalid(f"Line {number}: write each {channel.content_label.lower()} entry as “key: value”.")
            if len(value.strip()) > channel.pairs:
                raise Invalid(f"Line {number}: a value can be at most {channel.pairs} characters.")
            if problems := template_problems(f"Line {number}", value):
                raise Invalid(problems[0])
        if len(parse_pairs(content)) > channel.content_max:
            raise Invalid(f"At most {channel.content_max} {channel.content_label.lower()} entries.")
        return
    if len(content) > channel.content_max:
        raise Invalid(f"The content can be at most {channel.content_max:,} characters for {channel.label} "
                      f"({len(content):,} entered).")
    if problems := template_problems(channel.content_label, content):
        raise Invalid(problems[0])


def apply_to_config(channel_key: str, config: dict[str, Any], *, subject: str, content: str) -> dict[str, Any]:
    """A component's config with a template's content (and subject) in its fields ("Pick a template")."""
    channel = channel_of(channel_key)
    out = dict(config or {})
    out[channel.content_field] = parse_pairs(content) if channel.pairs else content
    if channel.subject_field:
        out[channel.subject_field] = subject
    out.update(dict(channel.fixed))
    return out


def from_config(channel_key: str, config: dict[str, Any]) -> tuple[str, str]:
    """(subject, content) of a component's config ("Save as template")."""
    channel = channel_of(channel_key)
    value = (config or {}).get(channel.content_field)
    content = pairs_text(value) if channel.pairs and isinstance(value, dict) else str(value or "")
    subject = str((config or {}).get(channel.subject_field) or "") if channel.subject_field else ""
    return subject, content


class Moderation(BaseModel):
    passed: bool
    reasons: list[str]
    segments: int  # SMS parts (0 for other channels)
    segment_label: str  # "2 SMS segments (161 GSM characters)" ("" for other channels)


def moderation_of(channel_key: str, subject: str, content: str, banned: list[str]) -> Moderation:
    """The reach tasks' moderation (banned words; an SMS's length rule) and an SMS's segment count, before
    variables are filled in and without the signature (the component adds its own)."""
    channel = channel_of(channel_key)
    if channel.sms:
        reasons = moderate_text(content, banned, sms=True)
        return Moderation(passed=not reasons, reasons=reasons, segments=sms_segments(content)[1],
                          segment_label=segment_label(content))
    reasons = moderate_text("\n".join(t for t in (subject, content) if t), banned)
    return Moderation(passed=not reasons, reasons=reasons, segments=0, segment_label="")


# ------------------------------------------------------------------------------------------------ rows


class TemplateRow(BaseModel):
    id: int
    channel: str
    channel_label: str
    name: str
    subject: str
    content: str
    owner_name: str
    is_public: bool
    created_at: datetime
    updated_at: datetime
    moderation: Moderation
    why_not: str  # "" = the actor may edit and delete it


class TemplatePage(BaseModel):
    rows: list[TemplateRow]
    total: int
    page: int
    pages: int
    page_size: int
    counts: dict[str, int]  # visible templates per channel (the tabs), under the search
    can_create: bool
    create_why_not: str


def visible_clause(actor: User) -> ColumnElement[bool]:
    same_ws = col(MessageTemplate.workspace_id) == actor.workspace_id
    if actor.role == Role.ADMIN:
        return same_ws
    return and_(same_ws, or_(col(MessageTemplate.is_public) == true(), col(MessageTemplate.owner_id) == actor.id))


def _writer_refusal(actor: User) -> str:
    if actor.role == Role.MANAGER:
        return READ_ONLY
    if actor.role == Role.REVIEWER:
        return REVIEWER_READS
    return ""


def refusal(actor: User, template: MessageTemplate) -> str:
    """Why `actor` may not edit or delete `template` ("" = they may)."""
    return _writer_refusal(actor) or ("" if actor.role == Role.ADMIN or template.owner_id == actor.id else NOT_YOURS)


def _row(t: MessageTemplate, owner: str, actor: User, banned: list[str]) -> TemplateRow:
    return TemplateRow(id=row_id(t), channel=t.channel, channel_label=CHANNELS[t.channel].label
                       if t.channel in CHANNELS else t.channel, name=t.name, subject=t.subject, content=t.content,
                       owner_name=owner, is_public=t.is_public, created_at=t.created_at, updated_at=t.updated_at,
                       moderation=moderation_of(t.channel, t.subject, t.content, banned)
                       if t.channel in CHANNELS else Moderation(passed=True, reasons=[], segments=0,
                                                                segment_label=""),
                       why_not=refusal(actor, t))


def list_templates(*, session: Session, actor: User, query: str = "", channel: str = "", sort: str = "updated_at",
                   descending: bool | None = None, page: int = 1, page_size: int = PAGE_SIZE) -> TemplatePage:
    """One page of the templates the actor may see: names (or content) containing `query` in any case, of one
    channel ("" = all), sorted (updated_at newest first by default) and paged."""
    if channel:
        channel_of(channel)
    if sort not in SORTS:
        raise Invalid(f"Unknown sort '{sort}'.")
    descending = sort in ("updated_at", "created_at") if descending is None else descending
    page_size = max(1, min(int(page_size), MAX_PAGE_SIZE))
    where = [visible_clause(actor)]
    term = query.strip().lower()
    if term:
        escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        like = f"%{escaped}%"
        where.append(or_(func.lower(MessageTemplate.name).like(like, escape="\\"),
                         func.lower(MessageTemplate.content).like(like, escape="\\")))
    counts = {key: n for key, n in session.exec(select(MessageTemplate.channel, func.count()).where(*where)
                                                .group_by(MessageTemplate.channel)).all()}
    if channel:
        where.append(col(MessageTemplate.channel) == channel)
    total = sum(counts.values()) if not channel else counts.get(channel, 0)
    pages = max(1, -(-total // page_size))
    page = max(1, min(int(page), pages))
    key: Any = {"name": func.lower(MessageTemplate.name), "channel": col(MessageTemplate.channel),
                "updated_at": col(MessageTemplate.updated_at), "created_at": col(MessageTemplate.created_at)}[sort]
    order = [key.desc() if descending else key.asc(), col(MessageTemplate.id).desc() if descending
             else col(MessageTemplate.id).asc()]
    found = session.exec(select(MessageTemplate, User.display_name).join(User, col(User.id) == MessageTemplate.owner_id)
                         .where(*where).order_by(*order).offset((page - 1) * page_size).limit(page_size)).all()
    banned = banned_words(session, actor.workspace_id)
    why = _writer_refusal(actor)
    return TemplatePage(rows=[_row(t, owner, actor, banned) for t, owner in found], total=total, page=page,
                        pages=pages, page_size=page_size, counts=counts, can_create=not why, create_why_not=why)


def template_choices(*, session: Session, actor: User, channel: str) -> list[TemplateRow]:
    """Every visible template of one channel by name: the canvas's "Pick a template"."""
    channel_of(channel)
    found = session.exec(select(MessageTemplate, User.display_name).join(User, col(User.id) == MessageTemplate.owner_id)
                         .where(visible_clause(actor), col(MessageTemplate.channel) == channel)
                         .order_by(func.lower(MessageTemplate.name))).all()
    banned = banned_words(session, actor.workspace_id)
    return [_row(t, owner, actor, banned) for t, owner in found]


def get_template(*, session: Session, actor: User, template_id: int) -> MessageTemplate:
    template = session.get(MessageTemplate, template_id)
    if template is None or template.workspace_id != actor.workspace_id or not (
            actor.role == Role.ADMIN or template.is_public or template.owner_id == actor.id):
        raise NotFound("Template not found.")
    return template


def template_row(*, session: Session, actor: User, template_id: int) -> TemplateRow:
    template = get_template(session=session, actor=actor, template_id=template_id)
    owner = session.get(User, template.owner_id)
    return _row(template, owner.display_name if owner else "", actor, banned_words(session, actor.workspace_id))


# ------------------------------------------------------------------------------------------------ writes


def _check_name(session: Session, workspace_id: int, channel: str, name: str, exclude: int | None = None) -> str:
    name = " ".join(name.split())
    if not name:
        raise Invalid("Enter a template name.")
    if len(name) > TEMPLATE_NAME_MAX:
        raise Invalid(f"The template name can be at most {TEMPLATE_NAME_MAX} characters ({len(name)} entered).")
    taken = select(MessageTemplate.id).where(MessageTemplate.workspace_id == workspace_id,
                                             MessageTemplate.channel == channel,
                                             func.lower(MessageTemplate.name) == name.lower())
    if exclude is not None:
        taken = taken.where(col(MessageTemplate.id) != exclude)
    if session.exec(taken).first() is not None:
        raise Conflict(f"{CHANNELS[channel].a_label[0].upper()}{CHANNELS[channel].a_label[1:]} template named “{name}” "
                       "already exists.")
    return name


def create_template(*, session: Session, actor: User, channel: str, name: str, content: str, subject: str = "",
                    is_public: bool = True) -> MessageTemplate:
    """A new template owned by the actor (admins and marketers)."""
    if why := _writer_refusal(actor):
        raise Forbidden(why)
    spec = channel_of(channel)
    name = _check_name(session, actor.workspace_id, channel, name)
    _check_content(spec, subject, content)
    template = MessageTemplate(workspace_id=actor.workspace_id, channel=channel, name=name, subject=subject,
                               content=content, owner_id=row_id(actor), is_public=is_public)
    session.add(template)
    session.flush()
    return template


def _manageable(session: Session, actor: User, template_id: int) -> MessageTemplate:
    template = get_template(session=session, actor=actor, template_id=template_id)
    if why := refusal(actor, template):
        raise Forbidden(why)
    return template


def edit_template(*, session: Session, actor: User, template_id: int, name: str, content: str, subject: str = "",
                  is_public: bool | None = None) -> MessageTemplate:
    """New name, content, subject (and visibility) of a template the actor may change; its channel stays."""
    template = _manageable(session, actor, template_id)
    spec = channel_of(template.channel)
    template.name = _check_name(session, template.workspace_id, template.channel, name, exclude=template.id)
    _check_content(spec, subject, content)
    template.content, template.subject = content, subject
    if is_public is not None:
        template.is_public = is_public
    template.updated_at = clock.now()
    session.add(template)
    session.flush()
    return template


def delete_template(*, session: Session, actor: User, template_id: int) -> None:
    """Components filled from it keep their content (a template is copied in, never referenced)."""
    session.delete(_manageable(session, actor, template_id))
    session.flush()


# ------------------------------------------------------------------------------------------------ in an editor


def fill_from_template(*, session: Session, actor: User, template_id: int, channel: str,
                       config: dict[str, Any]) -> tuple[dict[str, Any], MessageTemplate]:
    """"Pick a template" in a message editor (a touch component on the canvas, a normal task's form): `config` of
    a `channel` component with the template's content (and subject) in its fields. A template the actor may not
    see is "Template not found"; one of another channel is refused."""
    template = get_template(session=session, actor=actor, template_id=template_id)
    wanted = channel_of(channel)
    if template.channel != wanted.key:
        theirs = CHANNELS[template.channel].label if template.channel in CHANNELS else template.channel
        raise Invalid(f"That template is for {theirs}, not {wanted.label}.")
    return apply_to_config(channel, config, subject=template.subject, content=template.content), template


def save_from_config(*, session: Session, actor: User, channel: str, config: dict[str, Any], name: str,
                     is_public: bool = True) -> MessageTemplate:
    """"Save as template" in a message editor: the content (and subject) of a `channel` component's config as a
    new template of that channel, with the rules and limits of `create_template`."""
    subject, content = from_config(channel, config)
    return create_template(session=session, actor=actor, channel=channel, name=name, content=content,
                           subject=subject, is_public=is_public)


# ------------------------------------------------------------------------------------------------ preview


class Preview(BaseModel):
    customer: str  # "QA000123 · Alex Chen" ("" = sample values)
    subject: str
    content: str
    segments: int  # SMS parts of the rendered text (0 for other channels)
    segment_label: str
    variables: list[str]  # the variables the template uses, in order of first use


def preview(*, session: Session, actor: User, channel: str, content: str, subject: str = "",
            qaid: str = "") -> Preview:
    """The template as the customer with `qaid` would read it — the engine's own renderer, their profile,
    attributes and tags — or with sample values without a QAID. Works on unsaved text (the dialog's live
    preview); nothing is written."""
    spec = channel_of(channel)
    link = get_settings().short_link_base.rstrip("/") + "/Ab3dE9xY2q"  # a sample: real codes are per round
    if qaid.strip():
        found = get_customer(session=session, workspace_id=actor.workspace_id, qaid=qaid)
        view = load_view_map(session, [row_id(found)])[row_id(found)]
        if actor.role != Role.ADMIN:
            view.phone = mask_phone(view.phone)
        who = f"{view.qaid} · {view.name}" if view.name else view.qaid
    else:
        view = CustomerView(0, SAMPLE["qaid"], SAMPLE["name"], SAMPLE["phone"], SAMPLE["email"])
        who = ""

    def fill(text: str) -> str:
        if qaid.strip():
            return render(text, view, {SHORT_LINK: link})
        return VARIABLE.sub(lambda m: {**SAMPLE, SHORT_LINK: link}.get(m.group(1), f"[{m.group(1)}]"), text)

    if spec.pairs:
        shown = pairs_text({k: fill(v) for k, v in parse_pairs(content).items()})
    else:
        shown = fill(content)
    used = list(dict.fromkeys(VARIABLE.findall(subject or "") + VARIABLE.findall(content or "")))
    return Preview(customer=who, subject=fill(subject) if spec.subject_field else "", content=shown,
                   segments=sms_segments(shown)[1] if spec.sms else 0,
                   segment_label=segment_label(shown) if spec.sms else "", variables=used)


__all__ = ["CHANNELS", "Moderation", "Preview", "TemplateChannel", "TemplatePage", "TemplateRow", "apply_to_config",
           "channel_of", "create_template", "delete_template", "edit_template", "fill_from_template", "from_config",
           "get_template", "list_templates", "moderation_of", "parse_pairs", "preview", "save_from_config",
           "template_choices", "template_row"]
