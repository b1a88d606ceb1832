"""The events API's bodies as pydantic models: they validate what arrives (engine/services/events.py,
engine/services/segment.py) and the OpenAPI document at /openapi.json is generated from them (engine/api/openapi.py),
so the document cannot drift from what the API really accepts.

Field checks raise ValueError with words a developer can act on; `problems` turns a ValidationError into the API's
error details ({"index", "field", "message"}). An event name follows the flow editor's rule (`check_event_name` of
the Behaviour Event trigger): a name no trigger could be configured with is refused, not stored for nothing.
"""

import json
import math
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from engine.components.behavior_event import EVENT_NAME, check_event_name
from engine.models.segment import ANONYMOUS_ID_MAX, MESSAGE_ID_MAX
from engine.shared.customers import QAID_MAX, parse_time

NAME_MAX = 60
PROPERTIES_MAX_BYTES = 16_384
FUTURE_TOLERANCE = timedelta(minutes=10)
RECEIPT_STATUSES = ("delivered", "failed")
TIME_WORDS = "must be an ISO-8601 time such as 2026-05-01T12:30:00+08:00"


# ---------------------------------------------------------------- field rules (shared by both APIs)


def check_name(value: Any) -> str:
    """An event name: 1-60 printable characters the flow editor accepts as a Behaviour Event's event."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"is required (1 to {NAME_MAX} characters, e.g. add_to_cart)")
    name = value.strip()
    if len(name) > NAME_MAX:
        raise ValueError(f"is longer than {NAME_MAX} characters")
    if not name.isprintable():
        raise ValueError("contains control characters")
    try:
        return check_event_name(name)
    except ValueError as err:
        raise ValueError(f"'{name}' can never trigger a flow: {err}") from None


def check_object(value: Any) -> dict[str, Any]:
    """A JSON object of at most PROPERTIES_MAX_BYTES (None = {})."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError("must be an object")
    try:
        size = len(json.dumps(value, separators=(",", ":"), allow_nan=False).encode())
    except (TypeError, ValueError):
        raise ValueError("must be plain JSON (no NaN or Infinity)") from None
    if size > PROPERTIES_MAX_BYTES:
        raise ValueError(f"is {size} bytes; at most {PROPERTIES_MAX_BYTES} bytes")
    return value


def check_time(value: Any, now: datetime) -> datetime:
    """ISO-8601 text or seconds since the epoch, not later than now + FUTURE_TOLERANCE; naive times are UTC."""
    when = any_time(value)
    if when > now + FUTURE_TOLERANCE:
        raise ValueError("is in the future")
    return when


def any_time(value: Any) -> datetime:
    """ISO-8601 text or seconds since the epoch as an aware UTC time (naive times are UTC)."""
    if isinstance(value, datetime):
        when = value if value.tzinfo else value.replace(tzinfo=UTC)
        when = when.astimezone(UTC)
    elif isinstance(value, bool):
        raise ValueError(TIME_WORDS)
    elif isinstance(value, int | float):
        if not math.isfinite(value):
            raise ValueError("must be a finite number of seconds")
        try:
            when = datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            raise ValueError("is not a time (seconds since 1970 out of range)") from None
    elif isinstance(value, str):
        try:
            when = parse_time(value)
        except ValueError:
            raise ValueError(f"'{value[:40]}' is not an ISO-8601 time such as 2026-05-01T12:30:00+08:00") from None
    else:
        raise ValueError(TIME_WORDS)
    return when


def _id_text(value: Any, limit: int, words: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(words)
    if len(value.strip()) > limit:
        raise ValueError(f"is longer than {limit} characters")
    return value.strip()


def _now(info: ValidationInfo) -> datetime:
    context = info.context or {}
    now = context.get("now")
    if not isinstance(now, datetime):
        raise RuntimeError("validate with context={'now': engine.clock.now()}")
    return now


EventName = Annotated[str, Field(min_length=1, max_length=NAME_MAX, pattern=EVENT_NAME.pattern,
                                 description="Letters, digits and _ . : - (the rule of the flow editor's Behaviour "
                                             "Event trigger), e.g. add_to_cart", examples=["add_to_cart"])]
Properties = Annotated[dict[str, Any] | None, Field(description=f"A JSON object of at most {PROPERTIES_MAX_BYTES:,} "
                                                                 "bytes")]
Time = Annotated[datetime | float | None, Field(description="ISO-8601 (a time without offset is UTC) or seconds "
                                                            "since the epoch; at most 10 minutes in the future")]


# ---------------------------------------------------------------- the project's own endpoint


class Event(BaseModel):
    """One behaviour event of `POST /api/v1/events`."""

    model_config = ConfigDict(extra="forbid", title="Event")

    qaid: Annotated[str | int, Field(description="The customer's user ID (QAID); an unknown one creates a customer",
                                     examples=["u-1001"])]
    name: EventName
    properties: Properties = None
    occurred_at: Time = Field(None, description="When it happened (default: when received). ISO-8601 or epoch "
                                                "seconds; at most 10 minutes in the future")

    @field_validator("qaid", mode="before")
    @classmethod
    def _qaid(cls, value: Any) -> str:
        qaid = _id_text(value, QAID_MAX, "is required (the customer's user ID)")
        if qaid is None:
            raise ValueError("is required (the customer's user ID)")
        return qaid

    _name = field_validator("name", mode="before")(check_name)
    _properties = field_validator("properties", mode="before")(check_object)

    @field_validator("occurred_at", mode="before")
    @classmethod
    def _occurred(cls, value: Any, info: ValidationInfo) -> datetime | None:
        return None if value is None else check_time(value, _now(info))


class EventBatch(BaseModel):
    """`{"events": [...]}`; the endpoint also takes a bare list or one bare event object."""

    model_config = ConfigDict(extra="forbid")
    events: list[Event] = Field(min_length=1, description="At most API_MAX_BATCH (default 1,000) events")


class EventsAccepted(BaseModel):
    accepted: int = Field(description="Events stored")
    customers_created: int = Field(description="Unknown QAIDs that became customers")
    triggering: int = Field(description="Events whose name triggers an activity in progress")


class AudienceImported(BaseModel):
    audience_id: int
    name: str
    rows: int
    members: int
    customers_created: int
    customers_updated: int
    warnings: list[str]


class Receipt(BaseModel):
    """A provider's delivery receipt (extra keys, such as the provider's own id or time, are ignored). Its checks
    are constraints pydantic-core runs itself (no Python validator): a large round brings a million receipts."""

    model_config = ConfigDict(extra="ignore")
    message_id: str = Field(  # type: ignore[pydantic-alias]  # "id" too: the simulator's and some providers' name
        validation_alias=AliasChoices("message_id", "id"), pattern=r"^\d+(:[^:]+)+:\d+$",
        description="'record:node:customer' as sent to the provider (also accepted as 'id')", examples=["12:n3:77"])
    status: str = Field(pattern=r"^\s*(?i:delivered|failed)\s*$",
                        description="delivered or failed (case and spaces around it do not matter)")
    reason: str | None = Field(None, description="Why it failed (the first 200 characters are kept)")


RECEIPT_WORDS = {"message_id": "must be 'record:node:customer'", "reason": "must be text",
                 "status": f"must be one of {', '.join(RECEIPT_STATUSES)}"}


class ReceiptBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    receipts: list[Receipt] = Field(min_length=1)


class ReceiptsAccepted(BaseModel):
    accepted: int
    stored: bool = Field(description="False: no runtime is attached (nothing stored)")
    kept: bool | None = Field(None, description="True: Redis was unavailable; kept in the inbox and applied later")


class Health(BaseModel):
    status: Literal["ok", "unavailable"]
    database: Literal["ok", "unavailable"]
    redis: Literal["ok", "unavailable"]


class ErrorDetail(BaseModel):
    index: int | None = Field(None, description="The position of the item in the batch (from 0), when one is meant")
    field: str | None = Field(None, description="The field at fault")
    line: int | None = Field(None, description="CSV imports: the line at fault")
    message: str


class ErrorBody(BaseModel):
    """Every error of the API, whatever the endpoint (Segment's included)."""

    error: str = Field(description="A stable code, e.g. invalid_events, rate_limited, invalid_api_key",
                       examples=["invalid_events"])
    message: str = Field(description="What went wrong, in words")
    errors: list[ErrorDetail] | None = Field(None, description="Every problem found, when there are several")


# ---------------------------------------------------------------- Segment's HTTP tracking API


class _SegmentMessage(BaseModel):
    """Fields common to Segment's calls. Unknown fields (context, integrations, ...) are accepted and ignored."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    user_id: Annotated[str | int | None, Field(alias="userId", description=f"The customer's QAID (≤ {QAID_MAX})")] \
        = None
    anonymous_id: Annotated[str | int | None, Field(
        alias="anonymousId", description="A device or visitor id; its events are attributed to the customer once "
                                         "a call carries it with a userId")] = None
    message_id: Annotated[str | None, Field(alias="messageId", max_length=MESSAGE_ID_MAX,
                                            description="A message stored once: repeats within "
                                                        "SEGMENT_DEDUPE_HOURS are acknowledged and dropped")] = None
    timestamp: Time = None
    original_timestamp: Annotated[Time, Field(alias="originalTimestamp", description="The device's time; "
                                              "corrected by sentAt for the device's clock skew")] = None
    sent_at: Annotated[Time, Field(alias="sentAt")] = None
    context: dict[str, Any] | None = None
    integrations: dict[str, Any] | None = None

    @field_validator("user_id", mode="before")
    @classmethod
    def _user(cls, value: Any) -> str | None:
        return _id_text(value, QAID_MAX, "must be a non-empty text")

    @field_validator("anonymous_id", mode="before")
    @classmethod
    def _anonymous(cls, value: Any) -> str | None:
        return _id_text(value, ANONYMOUS_ID_MAX, "must be a non-empty text")

    @field_validator("timestamp", mode="before")
    @classmethod
    def _time(cls, value: Any, info: ValidationInfo) -> datetime | None:
        return None if value is None else check_time(value, _now(info))

    @field_validator("original_timestamp", "sent_at", mode="before")
    @classmethod
    def _device_time(cls, value: Any) -> datetime | None:
        # the device's clock, possibly skewed: checked once corrected (engine/services/segment.py)
        return None if value is None else any_time(value)


class Track(_SegmentMessage):
    """`track`: the customer did something; stored as a behaviour event named `event`."""

    type: Literal["track"] = "track"
    event: EventName
    properties: Properties = None

    _event = field_validator("event", mode="before")(check_name)
    _properties = field_validator("properties", mode="before")(check_object)


class Identify(_SegmentMessage):
    """`identify`: traits upserted on the customer (email, phone, name — or firstName lastName — to the profile,
    every other trait to its attributes)."""

    type: Literal["identify"] = "identify"
    traits: Properties = None

    _traits = field_validator("traits", mode="before")(check_object)


class Page(_SegmentMessage):
    """`page`: stored as a behaviour event named `page` (its name and category in the properties)."""

    type: Literal["page"] = "page"
    name: str | None = None
    category: str | None = None
    properties: Properties = None

    _properties = field_validator("properties", mode="before")(check_object)


class Screen(_SegmentMessage):
    """`screen`: stored as a behaviour event named `screen` (its name and category in the properties)."""

    type: Literal["screen"] = "screen"
    name: str | None = None
    category: str | None = None
    properties: Properties = None

    _properties = field_validator("properties", mode="before")(check_object)


class Group(_SegmentMessage):
    """`group` (in a batch): acknowledged and not stored (accounts are not modelled)."""

    type: Literal["group"] = "group"
    group_id: Annotated[str | int | None, Field(alias="groupId")] = None
    traits: dict[str, Any] | None = None


class Alias(_SegmentMessage):
    """`alias` (in a batch): acknowledged and not stored (send the anonymousId with a userId instead)."""

    type: Literal["alias"] = "alias"
    previous_id: Annotated[str | int | None, Field(alias="previousId")] = None


SegmentMessage = Annotated[Track | Identify | Page | Screen | Group | Alias, Field(discriminator="type")]


class _WriteKey(BaseModel):
    write_key: Annotated[str | None, Field(alias="writeKey", description="The workspace's API key, when not sent "
                                                                        "as the HTTP basic auth user")] = None


class TrackCall(Track, _WriteKey):
    """Body of `POST /v1/track`."""


class IdentifyCall(Identify, _WriteKey):
    """Body of `POST /v1/identify`."""


class PageCall(Page, _WriteKey):
    """Body of `POST /v1/page`."""


class ScreenCall(Screen, _WriteKey):
    """Body of `POST /v1/screen`."""


class SegmentBatch(_WriteKey):
    """Body of `POST /v1/batch` (what Segment's and RudderStack's server SDKs send)."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)
    batch: list[SegmentMessage] = Field(description="At most API_MAX_BATCH (default 1,000) messages")
    sent_at: Annotated[Time, Field(alias="sentAt", description="When the SDK sent the batch (clock-skew "
                                                               "correction of originalTimestamp)")] = None
    context: dict[str, Any] | None = Field(None, description="Context shared by the messages (ignored)")
    integrations: dict[str, Any] | None = None

    @field_validator("sent_at", mode="before")
    @classmethod
    def _sent(cls, value: Any) -> datetime | None:
        return None if value is None else any_time(value)


class SegmentSuccess(BaseModel):
    """What Segment answers to every accepted call; SDKs read only the status."""

    success: Literal[True] = True


# ---------------------------------------------------------------- errors


def problems(err: ValidationError, *, root: str, allowed: str = "", words: dict[str, str] | None = None
             ) -> list[dict[str, Any]]:
    """The ValidationError's problems as [{"index", "field", "message"}]: the index is the first integer in the
    error's location (the item of a batch), the field the names after it (`root` when there is none); `words`
    gives a field's message whatever its error."""
    out: list[dict[str, Any]] = []
    for e in err.errors(include_url=False, include_input=False):
        loc = list(e["loc"])
        index = next((p for p in loc if isinstance(p, int)), None)
        after = loc[loc.index(index) + 1:] if index is not None else loc
        names = [p for p in after if isinstance(p, str) and p not in _TAGS]
        field = ".".join(names) if names else root
        kind = e["type"]
        if kind == "value_error":
            message = str(e.get("ctx", {}).get("error", e["msg"]))
        elif kind == "missing":
            message = _MISSING.get(field, "is required")
        elif kind == "extra_forbidden":
            message = f"unknown field (allowed: {allowed})" if allowed else "unknown field"
        elif kind in ("model_type", "model_attributes_type", "dict_type") and not names:
            message = f"must be an object{' with ' + allowed if allowed else ''}"
        elif kind == "union_tag_invalid" or kind == "union_tag_not_found":
            field = "type"
            message = "must be one of track, identify, page, screen, group, alias"
        else:
            message = e["msg"][0].lower() + e["msg"][1:]
        if words and field in words and kind != "extra_forbidden":
            message = words[field]
        out.append({"index": index, "field": field, "message": message})
    return out


_TAGS = {"track", "identify", "page", "screen", "group", "alias"}
_MISSING = {"qaid": "is required (the customer's user ID)", "name": f"is required (1 to {NAME_MAX} characters, "
            "e.g. add_to_cart)", "event": f"is required (1 to {NAME_MAX} characters, e.g. add_to_cart)"}
