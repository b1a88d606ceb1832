"""Consent over HTTP (issue 15): the events API sets customers' consent per channel, and an email's unsubscribe
link opts its customer out of email.

    POST /api/v1/consent     {"consents": [{qaid, channel, status}]}, a list, or one object (API key; all or nothing)
    GET|POST /u/{code}       the `{unsubscribe_link}` of an email: opts the customer out of email, answers a page

The endpoints take the app's own helpers (authentication, body limits, JSON) as arguments, so engine/api/app.py
includes them with one line and this module imports nothing of it.
"""

import html
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from engine.db import write_session
from engine.errors import Invalid
from engine.services import consent
from engine.services.event_schemas import problems
from engine.settings import get_settings

from .openapi import Body, Operation

CHANNEL_WORDS = ", ".join(consent.CHANNELS)


class ConsentItem(BaseModel):
    """One customer's consent on one channel."""

    model_config = ConfigDict(extra="forbid", title="ConsentItem")
    qaid: Annotated[str | int, Field(description="The customer's user ID (QAID); an unknown one creates a customer",
                                     examples=["u-1001"])]
    channel: str = Field(description=f"A touch channel: {CHANNEL_WORDS}", examples=["email"])
    status: Literal["opted_in", "opted_out", "unknown"] = Field(
        description="opted_out: never sent on this channel; opted_in; unknown: back to the default (allowed)")


class ConsentBatch(BaseModel):
    """`{"consents": [...]}`; the endpoint also takes a bare list or one bare object."""

    model_config = ConfigDict(extra="forbid")
    consents: list[ConsentItem] = Field(min_length=1, description="At most API_MAX_BATCH (default 1,000) items")


class ConsentApplied(BaseModel):
    changed: int = Field(description="Statuses that changed (each recorded in the customer's consent history)")
    unchanged: int = Field(description="Items whose channel already had that status")
    customers_created: int = Field(description="Unknown QAIDs that became customers")


Workspace = Callable[[Request], Awaitable[int]]
ReadBody = Callable[[Request, int], Awaitable[bytes]]
ParseJson = Callable[[bytes], Any]


def _page(title: str, words: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        "<!doctype html><html lang=en><meta charset=utf-8><meta name=viewport content='width=device-width'>"
        f"<title>{html.escape(title)}</title><body style='font-family:system-ui,sans-serif;max-width:32rem;"
        f"margin:4rem auto;padding:0 1rem;color:#222'><h1 style='font-size:1.4rem'>{html.escape(title)}</h1>"
        f"<p id=message>{html.escape(words)}</p></body></html>", status_code=status)


async def follow_unsubscribe(request: Request) -> Response:
    """The customer of the code opts out of email (also when they had already); no login, a page in return."""
    code = request.path_params["code"]

    def work() -> bool:
        with write_session() as session:
            return consent.unsubscribe(session=session, code=code)

    if not await run_in_threadpool(work):
        return _page("Link not valid", "This unsubscribe link is not valid (it may have been cut or altered).", 404)
    return _page("You are unsubscribed", "You will receive no more marketing email from us. "
                 "You can close this page.")


def endpoints(workspace: Workspace, read_body: ReadBody, parse_json: ParseJson) -> list[
        tuple[Operation, Callable[[Request], Any]]]:
    """The consent endpoints with their OpenAPI descriptions, on the app's helpers."""

    async def post_consent(request: Request) -> JSONResponse:
        workspace_id = await workspace(request)
        settings = get_settings()
        payload = parse_json(await read_body(request, settings.api_max_body_bytes))
        if isinstance(payload, list) or (isinstance(payload, dict) and "consents" not in payload):
            payload = {"consents": payload if isinstance(payload, list) else [payload]}
        try:
            batch = ConsentBatch.model_validate(payload)
        except ValidationError as err:
            return JSONResponse({"error": "invalid_consent", "message": "Invalid consent items; nothing stored.",
                                 "errors": problems(err, root="consents", allowed="qaid, channel, status")}, 422)
        if len(batch.consents) > settings.api_max_batch:
            return JSONResponse({"error": "batch_too_large", "message": f"At most {settings.api_max_batch:,} "
                                 f"items per request ({len(batch.consents):,} sent); split the batch."}, 413)
        items = [{"qaid": str(i.qaid), "channel": i.channel, "status": i.status} for i in batch.consents]

        def work() -> consent.Applied:
            with write_session() as session:
                return consent.apply_api(session=session, workspace_id=workspace_id, items=items)

        try:
            done = await run_in_threadpool(work)
        except Invalid as err:
            return JSONResponse({"error": "invalid_consent", "message": err.message + " Nothing stored."}, 422)
        return JSONResponse(ConsentApplied(changed=done.changed, unchanged=done.unchanged,
                                           customers_created=done.customers_created).model_dump())

    code = ({"name": "code", "in": "path", "required": True, "schema": {"type": "string"}},)
    unsubscribe = ("An email's `{unsubscribe_link}`: the customer opts out of email (source \"unsubscribe link\"); "
                   "no login. Answers a small HTML page.")
    return [
        (Operation("/api/v1/consent", "post", "Set consent per channel",
                   f"Customers' consent on touch channels ({CHANNEL_WORDS}): one item, a list, or "
                   "{\"consents\": [...]} (all or nothing). An opted-out customer is never sent on that channel; "
                   "unknown QAIDs become customers.", "Consent",
                   body=Body((ConsentBatch, [ConsentItem], ConsentItem)),
                   ok=(200, "Applied", ConsentApplied), security=("apiKey",),
                   errors={400: "Unreadable JSON or gzip", 413: "Body or batch too large",
                           422: "Invalid items (`errors` lists each: index, field, message); nothing stored"}),
         post_consent),
        (Operation("/u/{code}", "get", "Follow an unsubscribe link", unsubscribe, "Consent", parameters=code,
                   ok=(200, "Unsubscribed (an HTML page)", None), errors={404: "Not a valid link"}),
         follow_unsubscribe),
        (Operation("/u/{code}", "post", "One-click unsubscribe", unsubscribe + " (RFC 8058 one-click form).",
                   "Consent", parameters=code, ok=(200, "Unsubscribed (an HTML page)", None),
                   errors={404: "Not a valid link"}), follow_unsubscribe),
    ]
