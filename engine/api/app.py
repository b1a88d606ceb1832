"""The HTTP API: behaviour events (own and Segment-compatible), audience CSV import, provider receipts, health.

    POST /api/v1/events              one event object, a list, or {"events": [...]} (≤ API_MAX_BATCH)
    POST /api/v1/audiences/import    ?name=<audience name>, body: the CSV (text/csv or multipart field "file")
    POST /api/v1/receipts            [{message_id, status, reason}] or {"receipts": [...]} from SMS/push providers
    POST /v1/track|identify|page|screen|batch   Segment's HTTP tracking API (engine/services/segment.py)
    POST /api/v1/consent, GET|POST /u/{code}   consent per channel and email unsubscribe links (api/consent.py)
    GET  /health                     database and Redis reachability
    GET  /openapi.json, /docs        the OpenAPI document of all of these (engine/api/openapi.py) and its page

Events and imports authenticate with `Authorization: Bearer <workspace API key>` (engine/api/keys.py); the Segment
endpoints also take it as the basic auth user or `writeKey` in the body. Each key has a rate limit (429 with
Retry-After, engine/api/ratelimit.py). Receipts come from providers, not workspaces: they always need
`Bearer <receipt token>` (RECEIPT_CALLBACK_TOKEN, else the token generated at first start: engine/receipt_token.py).
JSON bodies may be gzip-compressed (`Content-Encoding: gzip`). Every error is JSON, on every endpoint:
{"error": code, "message": words, "errors": [details]} — 400 unreadable JSON (and, on the Segment endpoints,
invalid content: Segment's SDKs retry 5xx and 429 only), 401 key missing or wrong, 404/405, 409 duplicate audience
name, 413 too large (bytes or items), 415 unknown Content-Encoding, 422 invalid content (nothing stored), 429 rate
limited, 503 receipt handler or database failure (retry). Database work runs in Starlette's thread pool.

Redis unavailable (restarting, loading its data) never refuses receipts or events: what cannot reach the
runtime is kept in the database inbox and applied by the scheduler once Redis answers (engine/runtime/inbox.py;
receipts answer 202 with "kept": true); the rate limit lets requests through. At start the runtime app checks that
Redis belongs to this database (engine/runtime/redis_state.py) and refuses to serve another database's Redis.
"""

import base64
import binascii
import hmac
import logging
import zlib
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse
from starlette.routing import Route

from engine.channels.wire import loads
from engine.db import read_session, write_session
from engine.errors import Conflict, Invalid, ServiceError
from engine.models import row_id
from engine.receipt_token import receipt_token
from engine.runtime import inbox, redis_state
from engine.runtime.connection import REDIS_UNAVAILABLE, get_redis
from engine.runtime.goals import on_goal_events
from engine.runtime.receipts import apply_settled
from engine.runtime.store import RoundStore
from engine.services import audiences, events, segment
from engine.services import event_schemas as schemas
from engine.settings import get_settings
from engine.shared.quick_redis import quick_redis

from . import consent as consent_api
from . import openapi, ratelimit
from .keys import workspace_for_key
from .openapi import Body, Operation
from .shortlinks import follow_short_link

log = logging.getLogger(__name__)


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, errors: list[Any] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.errors, self.headers = status, code, message, errors, headers


def _error(status: int, code: str, message: str, errors: list[Any] | None = None,
           headers: dict[str, str] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"error": code, "message": message}
    if errors is not None:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, headers=headers)


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if not header:
        return None
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "invalid_authorization", "Use the header 'Authorization: Bearer <API key>'.",
                       headers={"WWW-Authenticate": "Bearer"})
    return token.strip()


def _lookup(key: str) -> int | None:
    with read_session() as session:
        return workspace_for_key(session=session, key=key)


async def _workspace(request: Request) -> int:
    key = _bearer(request)
    if key is None:
        raise ApiError(401, "missing_api_key", "Send the workspace's API key as 'Authorization: Bearer <key>'.",
                       headers={"WWW-Authenticate": "Bearer"})
    return await _admit(key, "Bearer")


async def _admit(key: str, scheme: str) -> int:
    """The key's workspace, once the key is known and within its rate limit."""
    workspace_id = await run_in_threadpool(_lookup, key)
    if workspace_id is None:
        raise ApiError(401, "invalid_api_key", "The API key is not valid (it may have been revoked).",
                       headers={"WWW-Authenticate": f'{scheme} error="invalid_token"' if scheme == "Bearer"
                                else f'{scheme} realm="events"'})
    verdict = await run_in_threadpool(ratelimit.take, key)
    if not verdict.allowed:
        raise ApiError(429, "rate_limited", f"More than {verdict.limit:,} requests in "
                       f"{get_settings().api_rate_window_s} s for this API key; retry after {verdict.retry_after} s.",
                       headers={"Retry-After": str(verdict.retry_after), "X-RateLimit-Limit": str(verdict.limit),
                                "X-RateLimit-Remaining": "0"})
    return workspace_id


def _segment_key(request: Request, payload: Any) -> str:
    """Segment's write key: the basic auth user (the password is empty), `writeKey` in the body, or a Bearer key."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "basic":
        try:
            user = base64.b64decode(value.strip(), validate=True).decode().partition(":")[0]
        except (binascii.Error, UnicodeDecodeError):
            user = ""
        if not user:
            raise ApiError(401, "invalid_authorization", "Basic auth must carry the write key as the user name.",
                           headers={"WWW-Authenticate": 'Basic realm="events"'})
        return user
    if header:
        bearer = _bearer(request)
        if bearer:
            return bearer
    key = payload.get("writeKey") if isinstance(payload, dict) else None
    if isinstance(key, str) and key.strip():
        return key.strip()
    raise ApiError(401, "missing_api_key", "Send the workspace's API key as the basic auth user (Segment's write "
                   "key), as 'writeKey' in the body, or as 'Authorization: Bearer <key>'.",
                   headers={"WWW-Authenticate": 'Basic realm="events"'})


async def _body(request: Request, limit: int) -> bytes:
    """The body, at most `limit` bytes, decompressed when `Content-Encoding: gzip` (the limit holds for both the
    compressed and the decompressed bytes, so a small bomb is refused too)."""
    too_big = ApiError(413, "payload_too_large", f"The request body is larger than {limit:,} bytes.")
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("identity", "gzip", "x-gzip", ""):
        raise ApiError(415, "unsupported_encoding", f"Content-Encoding '{encoding[:20]}' is not supported "
                       "(send gzip or nothing).")
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        raise too_big
    parts: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_big
        parts.append(chunk)
    raw = b"".join(parts)
    if encoding in ("gzip", "x-gzip"):
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            raw = inflater.decompress(raw, limit + 1)
        except zlib.error as err:
            raise ApiError(400, "invalid_gzip", f"The body is not valid gzip ({err}).") from None
        if len(raw) > limit or inflater.unconsumed_tail:
            raise ApiError(413, "payload_too_large", f"The decompressed body is larger than {limit:,} bytes.")
        if not inflater.eof:
            raise ApiError(400, "invalid_gzip", "The gzip body is truncated.")
    return raw


def _json(body: bytes) -> Any:
    if not body.strip():
        raise ApiError(400, "invalid_json", "The request body is empty: send JSON.")
    try:
        return loads(body)  # orjson (engine/channels/wire.py): receipts and events arrive by the hundred thousand
    except (UnicodeDecodeError, ValueError) as err:
        raise ApiError(400, "invalid_json", f"The request body is not valid JSON ({err}).") from None


def _items(payload: Any, key: str, single: bool) -> Any:
    """The list from `[...]`, `{key: [...]}` or (if `single`) one bare object."""
    if isinstance(payload, dict) and key in payload:
        extra = sorted(set(payload) - {key})
        if extra:
            raise ApiError(422, f"invalid_{key}", f"Unknown top-level field(s): {', '.join(extra)}.")
        return payload[key]
    if isinstance(payload, dict) and single:
        return [payload]
    return payload


def _check_count(items: Any, what: str) -> None:
    limit = get_settings().api_max_batch
    if isinstance(items, list) and len(items) > limit:
        raise ApiError(413, "batch_too_large", f"At most {limit:,} {what} per request ({len(items):,} sent); "
                       "split the batch.")


# ---------------------------------------------------------------- endpoints


async def health(request: Request) -> JSONResponse:
    def check() -> tuple[bool, bool]:
        try:
            with read_session() as session:
                session.connection().execute(text("SELECT 1"))
            db_ok = True
        except Exception:
            log.exception("health: database unreachable")
            db_ok = False
        try:
            redis_ok = bool(quick_redis().ping())  # the client the events path uses (short timeouts)
        except Exception:
            redis_ok = False
        return db_ok, redis_ok

    db_ok, redis_ok = await run_in_threadpool(check)
    body: dict[str, Any] = schemas.Health(status="ok" if db_ok else "unavailable",
                                          database="ok" if db_ok else "unavailable",
                                          redis="ok" if redis_ok else "unavailable").model_dump()
    if not db_ok:  # an error like every other: the one shape, plus the details
        body = {"error": "unavailable", "message": "The database does not answer.", **body}
    return JSONResponse(body, status_code=200 if db_ok else 503)


async def post_events(request: Request) -> JSONResponse:
    workspace_id = await _workspace(request)
    settings = get_settings()
    items = _items(_json(await _body(request, settings.api_max_body_bytes)), "events", single=True)
    _check_count(items, "events")

    def work() -> events.IngestResult:
        with write_session() as session:  # the entry hooks run when this commits
            return events.ingest(session=session, workspace_id=workspace_id, events=items,
                                 max_batch=settings.api_max_batch)

    try:
        result = await run_in_threadpool(work)
    except events.PayloadError as err:
        return _error(422, "invalid_events", err.message, err.errors)
    return JSONResponse(schemas.EventsAccepted(accepted=result.accepted, customers_created=result.customers_created,
                                               triggering=result.triggering).model_dump(), status_code=202)


def segment_endpoint(kind: str) -> Callable[[Request], Any]:
    """`POST /v1/<kind>`: Segment's tracking call (engine/services/segment.py). 200 {"success": true} when stored
    (or a repeated messageId); errors in the API's one shape, 400 for content (Segment's SDKs do not retry it), 429
    and 5xx for what a retry fixes."""

    async def endpoint(request: Request) -> JSONResponse:
        settings = get_settings()
        payload = _json(await _body(request, settings.api_max_body_bytes))
        workspace_id = await _admit(_segment_key(request, payload), "Basic")
        if kind == "batch" and isinstance(payload, dict):
            _check_count(payload.get("batch"), "messages")

        def work() -> segment.SegmentResult:
            messages, sent_at = segment.parse(payload, kind=kind, max_batch=settings.api_max_batch)
            with write_session() as session:  # the entry hooks run when this commits
                return segment.ingest(session=session, workspace_id=workspace_id, messages=messages,
                                      batch_sent_at=sent_at, single=kind != "batch")

        try:
            await run_in_threadpool(work)
        except events.PayloadError as err:
            return _error(400, "invalid_messages", err.message, err.errors)
        return JSONResponse(schemas.SegmentSuccess().model_dump())

    endpoint.__name__ = f"segment_{kind}"
    return endpoint


async def import_audience(request: Request) -> JSONResponse:
    workspace_id = await _workspace(request)
    name = request.query_params.get("name", "").strip()
    if not name:
        raise ApiError(422, "invalid_name", "Give the audience name as the 'name' query parameter.")
    limit = get_settings().api_max_csv_bytes
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > limit:
            raise ApiError(413, "payload_too_large", f"The request body is larger than {limit:,} bytes.")
        async with request.form(max_part_size=limit) as form:
            upload = form.get("file")
            if upload is None or isinstance(upload, str):
                raise ApiError(422, "invalid_csv", "Send the CSV as the multipart field 'file'.")
            body = await upload.read()
    else:
        body = await _body(request, limit)

    def work() -> audiences.ImportResult:
        parsed = audiences.parse_csv(body.decode("utf-8-sig"))  # outside the write lock: it is all Python
        with write_session() as session:
            return audiences.import_csv_for_workspace(session=session, workspace_id=workspace_id, name=name,
                                                      parsed=parsed, source="API import")

    try:
        result = await run_in_threadpool(work)
    except UnicodeDecodeError:
        return _error(422, "invalid_csv", "The CSV must be UTF-8 text.")
    except audiences.CsvImportError as err:
        return _error(422, "invalid_csv", err.message, [{"line": line, "message": m} for line, m in err.errors])
    except Conflict as err:
        return _error(409, "conflict", err.message)
    except Invalid as err:
        return _error(422, "invalid", err.message)
    return JSONResponse(schemas.AudienceImported(
        audience_id=row_id(result.audience), name=result.audience.name, rows=result.rows, members=result.members,
        customers_created=result.customers_created, customers_updated=result.customers_updated,
        warnings=result.warnings).model_dump(), status_code=201)


async def post_receipts(request: Request) -> JSONResponse:
    token = receipt_token()  # always required: receipts change send statuses and counters
    given = _bearer(request)
    if given is None or not hmac.compare_digest(given.encode(), token.encode()):
        raise ApiError(401, "invalid_receipt_token", "Receipts need 'Authorization: Bearer <receipt token>'.",
                       headers={"WWW-Authenticate": "Bearer"})
    items = _items(_json(await _body(request, get_settings().api_max_body_bytes)), "receipts", single=True)
    _check_count(items, "receipts")
    try:
        accepted, stored, kept = await run_in_threadpool(_take_receipts, items)
    except events.PayloadError as err:
        return _error(422, "invalid_receipts", err.message, err.errors)
    except ServiceError:
        raise
    except Exception:
        log.exception("receipt hook failed")
        return _error(503, "receipt_handler_failed", "The receipts could not be stored; retry later.")
    body: dict[str, Any] = {"accepted": accepted, "stored": stored}
    if kept:
        body["kept"] = True  # in the inbox: applied when Redis answers again
    return JSONResponse(body, status_code=202)


def _take_receipts(items: Any) -> tuple[int, bool, bool]:
    """(accepted, stored, kept in the inbox). Receipts are applied at once, or — while Redis is unavailable, or
    receipts kept earlier still wait — kept in the database inbox for the scheduler (engine/runtime/inbox.py):
    a provider is never refused because Redis restarts."""
    if not inbox.waiting():
        try:
            result = events.accept_receipts(items)
            return result.accepted, result.handled, False
        except REDIS_UNAVAILABLE as err:  # down, or loading its append-only file
            log.warning("receipts: Redis unavailable (%s); keeping them in the inbox", err)
    receipts = events.parse_receipts(items)
    inbox.keep_receipts([{"message_id": r.message_id, "status": r.status, "reason": r.reason} for r in receipts])
    return len(receipts), True, True


# ---------------------------------------------------------------- app


async def _api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return _error(exc.status, exc.code, exc.message, exc.errors, exc.headers)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    codes = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}
    return _error(exc.status_code, codes.get(exc.status_code, "http_error"), str(exc.detail),
                  headers=dict(exc.headers or {}))


async def _service_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ServiceError)
    status = 409 if isinstance(exc, Conflict) else 422
    return _error(status, "conflict" if status == 409 else "invalid", exc.message)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected API error", exc_info=exc)
    return _error(503, "unavailable", "The service could not handle the request; retry later.")


_SEGMENT_CALLS: dict[str, tuple[type[BaseModel], str]] = {
    "track": (schemas.TrackCall, "A behaviour event named `event`: feeds Behaviour Event triggers, judgments and "
              "goals."),
    "identify": (schemas.IdentifyCall, "Traits upserted on the customer `userId`: email, phone and name (or "
                 "firstName + lastName) to the profile, the others to its attributes. With an `anonymousId`, that id's "
                 "events (earlier and later) become the customer's."),
    "page": (schemas.PageCall, "A behaviour event named `page` (name and category in its properties)."),
    "screen": (schemas.ScreenCall, "A behaviour event named `screen` (name and category in its properties)."),
    "batch": (schemas.SegmentBatch, "Any of the calls above in one request, as Segment's and RudderStack's server "
              "SDKs send them (`group` and `alias` are acknowledged and not stored). All or nothing."),
}


def operations() -> list[tuple[Operation, Callable[[Request], Any]]]:
    """Every endpoint with its OpenAPI description: the routes and the document are built from this one list."""
    segment_errors = {400: "Unreadable JSON or gzip, or invalid messages (`errors` lists each: index, field, "
                           "message); nothing stored. Segment's SDKs do not retry it", 413: "Body or batch too large",
                      415: "Unknown Content-Encoding"}
    ops: list[tuple[Operation, Callable[[Request], Any]]] = [
        (Operation("/api/v1/events", "post", "Send behaviour events",
                   "One event, a list, or {\"events\": [...]} (all or nothing). Unknown QAIDs become customers.",
                   "Events", body=Body((schemas.EventBatch, [schemas.Event], schemas.Event)),
                   ok=(202, "Stored", schemas.EventsAccepted), security=("apiKey",),
                   errors={400: "Unreadable JSON or gzip", 413: "Body or batch too large",
                           415: "Unknown Content-Encoding", 422: "Invalid events (`errors` lists each: index, field, "
                           "message); nothing stored"}), post_events),
        *((Operation(f"/v1/{kind}", "post", f"Segment {kind}", words, "Segment-compatible", body=Body((model,)),
                     ok=(200, "Stored (or a repeated messageId, acknowledged)", schemas.SegmentSuccess),
                     security=("writeKey", "apiKey"), errors=segment_errors), segment_endpoint(kind))
          for kind, (model, words) in _SEGMENT_CALLS.items()),
        (Operation("/api/v1/audiences/import", "post", "Import an audience from CSV",
                   "A static audience named `name` from a CSV with a `qaid` column (and profile fields, attributes, "
                   "`tag:<name>` columns); customers created or updated.", "Audiences",
                   raw_body={"text/csv": {"schema": {"type": "string"}},
                             "multipart/form-data": {"schema": {"type": "object", "properties": {
                                 "file": {"type": "string", "format": "binary"}}, "required": ["file"]}}},
                   parameters=({"name": "name", "in": "query", "required": True, "schema": {"type": "string"},
                                "description": "The new audience's name"},),
                   ok=(201, "Imported", schemas.AudienceImported), security=("apiKey",),
                   errors={409: "An audience of that name exists", 413: "The CSV is too large",
                           422: "Invalid CSV (`errors` lists each line) or name"}), import_audience),
        (Operation("/api/v1/receipts", "post", "Provider delivery receipts",
                   "From SMS / push providers: a list or {\"receipts\": [...]}. Kept in the inbox while Redis is "
                   "unavailable.", "Providers", body=Body((schemas.ReceiptBatch, [schemas.Receipt])),
                   ok=(202, "Accepted", schemas.ReceiptsAccepted), security=("receiptToken",),
                   errors={400: "Unreadable JSON", 413: "Body or batch too large",
                           422: "Invalid receipts; nothing stored"}), post_receipts),
        *consent_api.endpoints(_workspace, _body, _json),
        (Operation("/health", "get", "Health", "Database and Redis reachability (503 when the database is not).",
                   "Operations", ok=(200, "The database answers", schemas.Health),
                   errors={503: "The database is unavailable"}), health),
        (Operation("/s/{code}", "get", "Follow a short link",
                   "Counts a click of a Text SMS short link and redirects to its URL.", "Operations",
                   parameters=({"name": "code", "in": "path", "required": True, "schema": {"type": "string"}},),
                   ok=(302, "Redirect to the link's URL", None), errors={404: "Unknown or expired link"}),
         follow_short_link),
        (Operation("/openapi.json", "get", "This document", "The OpenAPI 3.1 document of the API.", "Operations"),
         openapi_json),
        (Operation("/docs", "get", "API reference page", "This document as an HTML page.", "Operations"), docs_page),
    ]
    return ops


def openapi_document() -> dict[str, Any]:
    return openapi.document([op for op, _ in operations()], title="Automated Marketing events API", version="1",
                            description="Behaviour events (the project's own endpoint and Segment's HTTP tracking "
                                        "API), audience imports and provider receipts. Every error body is "
                                        "ErrorBody.")


async def openapi_json(request: Request) -> JSONResponse:
    return JSONResponse(openapi_document())


async def docs_page(request: Request) -> HTMLResponse:
    return HTMLResponse(openapi.page(openapi_document()))


def create_app() -> Starlette:
    routes = [Route(op.path, fn, methods=[op.method.upper()]) for op, fn in operations()]
    return Starlette(routes=routes, exception_handlers={
        ApiError: _api_error, HTTPException: _http_error, ServiceError: _service_error, Exception: _unexpected,
    })


app = create_app()


def install_hooks() -> Callable[[], None]:
    """Register the runtime with the events service (called by the API process at start): behaviour events enter
    rounds (or the inbox), receipts reach the sends. Returns a function that unregisters them (tests)."""
    # lazily on purpose (tests/engine/test_layers.py): importing engine.actors declares the Dramatiq actors and
    # tunes the process's GC for a worker; only a process that hands events to the workers needs it
    from engine.actors import enqueue_step

    undo_entry = events.register_entry_hook(lambda ws, evs: inbox.enter_or_keep(ws, evs, enqueue=enqueue_step))
    undo_receipts = events.register_receipt_hook(lambda receipts: apply_settled(
        [(r.record_id, r.node_id, r.customer_id, "success" if r.status in ("delivered", "success") else "failed",
          r.reason) for r in receipts], store=RoundStore(get_redis())))
    undo_goals = events.register_event_hook(on_goal_events)  # issue 16: conversions and exits

    def uninstall() -> None:
        undo_entry()
        undo_receipts()
        undo_goals()

    return uninstall


def runtime_app() -> Starlette:
    """The app as the run command serves it: events enter rounds and receipts reach counters (the runtime's
    hooks are registered in the serving process)."""
    redis_state.bind_at_boot(get_redis(), wait_s=5.0, required=False)  # refuses a foreign Redis
    install_hooks()
    receipt_token()  # generated at first start (unless RECEIPT_CALLBACK_TOKEN), before any provider calls back
    return create_app()
