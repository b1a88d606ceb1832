"""The HTTP API: behaviour events, audience CSV import, provider delivery receipts, health.

    POST /api/v1/events              one event object, a list, or {"events": [...]} (≤ API_MAX_BATCH)
    POST /api/v1/audiences/import    ?name=<audience name>, body: the CSV (text/csv or multipart field "file")
    POST /api/v1/receipts            [{message_id, status, reason}] or {"receipts": [...]} from SMS/push providers
    GET  /health                     database and Redis reachability

Events and imports authenticate with `Authorization: Bearer <workspace API key>` (engine/api/keys.py).
Receipts come from providers, not workspaces: they always need `Bearer <receipt token>` (RECEIPT_CALLBACK_TOKEN,
else the token generated at first start: engine/receipt_token.py). Every error is JSON:
{"error": code, "message": words, "errors": [details]} — 400 unreadable JSON, 401 key missing or wrong,
404/405, 409 duplicate audience name, 413 too large (bytes or items), 422 invalid content (nothing stored),
503 receipt handler or database failure. Database work runs in Starlette's thread pool.

Redis unavailable (restarting, loading its data) never refuses receipts or events: what cannot reach the
runtime is kept in the database inbox and applied by the scheduler once Redis answers (engine/runtime/inbox.py;
receipts answer 202 with "kept": true). At start the runtime app checks that Redis belongs to this database
(engine/runtime/redis_state.py) and refuses to serve another database's Redis.
"""

import hmac
import logging
from collections.abc import Callable
from typing import Any

import redis
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from engine.channels.wire import loads
from engine.db import read_session, write_session
from engine.errors import Conflict, Invalid, ServiceError
from engine.receipt_token import receipt_token
from engine.runtime import inbox, redis_state
from engine.runtime.connection import get_redis
from engine.runtime.receipts import apply_settled
from engine.runtime.store import RoundStore
from engine.services import audiences, events
from engine.settings import get_settings
from engine.shared import trigger_index

from .keys import workspace_for_key
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
    workspace_id = await run_in_threadpool(_lookup, key)
    if workspace_id is None:
        raise ApiError(401, "invalid_api_key", "The API key is not valid (it may have been regenerated).",
                       headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
    return workspace_id


async def _body(request: Request, limit: int) -> bytes:
    too_big = ApiError(413, "payload_too_large", f"The request body is larger than {limit:,} bytes.")
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
    return b"".join(parts)


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
            redis_ok = bool(trigger_index._redis().ping())  # the client the events path uses (short timeouts)
        except Exception:
            redis_ok = False
        return db_ok, redis_ok

    db_ok, redis_ok = await run_in_threadpool(check)
    return JSONResponse({"status": "ok" if db_ok else "unavailable", "database": "ok" if db_ok else "unavailable",
                         "redis": "ok" if redis_ok else "unavailable"}, status_code=200 if db_ok else 503)


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
    return JSONResponse({"accepted": result.accepted, "customers_created": result.customers_created,
                         "triggering": result.triggering}, status_code=202)


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
    return JSONResponse({"audience_id": result.audience.id, "name": result.audience.name, "rows": result.rows,
                         "members": result.members, "customers_created": result.customers_created,
                         "customers_updated": result.customers_updated, "warnings": result.warnings},
                        status_code=201)


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
        except (redis.ConnectionError, redis.TimeoutError) as err:  # down, or loading its append-only file
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


def create_app() -> Starlette:
    routes = [
        Route("/health", health, methods=["GET"]),
        Route("/api/v1/events", post_events, methods=["POST"]),
        Route("/api/v1/audiences/import", import_audience, methods=["POST"]),
        Route("/api/v1/receipts", post_receipts, methods=["POST"]),
        Route("/s/{code}", follow_short_link, methods=["GET"]),
    ]
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

    def uninstall() -> None:
        undo_entry()
        undo_receipts()

    return uninstall


def runtime_app() -> Starlette:
    """The app as the run command serves it: events enter rounds and receipts reach counters (the runtime's
    hooks are registered in the serving process)."""
    redis_state.bind_at_boot(get_redis(), wait_s=5.0, required=False)  # refuses a foreign Redis
    install_hooks()
    receipt_token()  # generated at first start (unless RECEIPT_CALLBACK_TOKEN), before any provider calls back
    return create_app()
