"""The simulator's HTTP face (Starlette, served by uvicorn).

    POST /v1/{channel}/send      the provider protocol (see engine.channels.provider), channel ∈ the five
    POST /v1/{channel}/status    {"ids": [...]} → {"results": [the send answer of each id received]}
    GET  /admin/stats            counters: requests, messages, unique, duplicates, duplicate_ids, outcomes,
                                 receipts scheduled / sent / failed / pending, by_channel
    GET  /admin/messages         ?channel= &id= &prefix= (e.g. "12:n3:" = record 12, node n3) &duplicates=1
                                 &limit= (default 100) &offset=
    GET  /admin/config           the current configuration
    POST /admin/config           change any of it (JSON object of fields; rates checked), e.g.
                                 {"success_rate": 0.8, "failure_rate": 0.1, "receipt_delay": 0.5}
    POST /admin/reset            forget received messages, pending receipts and counters (not the config)
    GET  /admin/kafka            {"bootstrap_servers": "<the hosted librdkafka mock cluster>" | null}
    GET  /health

Receipts are POSTed in batches ({"receipts": [...]}) to the callback URL once due; a callback that fails is
retried with backoff (`receipt_attempts`), then the receipts are dropped and counted (`receipts_failed`)
and logged: the simulator never stops over it.
"""

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import asdict
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from engine.channels.provider import PROVIDER_CHANNELS
from engine.channels.wire import dumps, loads
from engine.receipt_token import receipt_token
from engine.simulator.state import Simulator

log = logging.getLogger("engine.simulator")

RECEIPT_TICK = 0.05  # seconds between looks at the receipt queue
MAX_PARALLEL_POSTS = 8


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _fast_json(content: Any) -> Response:
    """The hot answers (send, status) through orjson: the same compact JSON as JSONResponse, a fraction of the
    simulator's CPU (the standard library's encoder was a fifth of it at a million messages)."""
    return Response(dumps(content), media_type="application/json")


async def _post_receipts(sim: Simulator, client: httpx.AsyncClient, url: str, receipts: list[dict[str, Any]],
                         gate: asyncio.Semaphore) -> None:
    config = sim.config
    headers = {"Content-Type": "application/json"}
    headers["Authorization"] = f"Bearer {config.callback_token or receipt_token()}"  # the API requires it
    body = dumps({"receipts": receipts})
    async with gate:
        last = ""
        for attempt in range(1, config.receipt_attempts + 1):
            try:
                response = await client.post(url, content=body, headers=headers)
                if response.status_code < 300:
                    sim.count("receipt_posts")
                    sim.count("receipts_sent", len(receipts))
                    return
                last = f"HTTP {response.status_code}"
                if 400 <= response.status_code < 500 and response.status_code not in (408, 429):
                    break  # the callback refuses them: resending the same body cannot help
            except httpx.HTTPError as exc:
                last = f"{type(exc).__name__}: {exc}"
            except Exception as exc:  # never let a receipt kill the loop
                last = f"{type(exc).__name__}: {exc}"
            sim.count("receipt_post_errors")
            if attempt < config.receipt_attempts:
                await asyncio.sleep(0.2 * 2 ** (attempt - 1))
        sim.count("receipts_failed", len(receipts))
        log.warning("dropped %d receipts for %s: %s", len(receipts), url, last)


async def _receipt_loop(sim: Simulator, client: httpx.AsyncClient) -> None:
    gate = asyncio.Semaphore(MAX_PARALLEL_POSTS)
    tasks: set[asyncio.Task[None]] = set()
    try:
        while True:
            try:
                for url, receipts in sim.due_receipts().items():
                    size = sim.config.receipt_batch_size
                    for start in range(0, len(receipts), size):
                        task = asyncio.create_task(_post_receipts(sim, client, url, receipts[start:start + size], gate))
                        tasks.add(task)
                        task.add_done_callback(tasks.discard)
            except Exception:  # pragma: no cover - defensive: the loop must survive anything
                log.exception("receipt loop error")
            await asyncio.sleep(RECEIPT_TICK)
    finally:
        for task in list(tasks):
            task.cancel()


def create_app(sim: Simulator) -> Starlette:
    async def send(request: Request) -> Response:
        channel = request.path_params["channel"]
        if channel not in PROVIDER_CHANNELS:
            return _error(404, f"unknown channel {channel!r}; one of {', '.join(PROVIDER_CHANNELS)}")
        try:
            payload = loads(await request.body())
            messages = payload["messages"]
            if not isinstance(messages, list) or not all(isinstance(m, dict) and m.get("id") for m in messages):
                raise ValueError("every message needs an id")
            callback_url = payload.get("callback_url")
        except (ValueError, KeyError, TypeError) as exc:
            return _error(400, f"bad request: expected {{\"messages\": [{{\"id\": ...}}]}} ({exc})")
        if sim.refuse_request():
            return _error(503, "provider temporarily unavailable (simulated)")
        results = sim.receive(channel, messages, callback_url)
        delay = sim.config.response_delay
        if delay > 0:
            await asyncio.sleep(delay)
        return _fast_json({"results": results})

    async def status(request: Request) -> Response:
        channel = request.path_params["channel"]
        if channel not in PROVIDER_CHANNELS:
            return _error(404, f"unknown channel {channel!r}; one of {', '.join(PROVIDER_CHANNELS)}")
        try:
            ids = loads(await request.body())["ids"]
            if not isinstance(ids, list):
                raise ValueError("ids must be a list")
        except (ValueError, KeyError, TypeError) as exc:
            return _error(400, f"bad request: expected {{\"ids\": [...]}} ({exc})")
        return _fast_json({"results": sim.lookup([str(i) for i in ids])})

    async def stats(request: Request) -> Response:
        return JSONResponse(sim.snapshot())

    async def messages(request: Request) -> Response:
        q = request.query_params
        try:
            limit = int(q.get("limit", 100))
            offset = int(q.get("offset", 0))
        except ValueError:
            return _error(400, "limit and offset must be integers")
        return JSONResponse(sim.messages(channel=q.get("channel"), message_id=q.get("id"), prefix=q.get("prefix"),
                                         duplicates=q.get("duplicates", "") in ("1", "true", "yes"),
                                         limit=max(0, limit), offset=max(0, offset)))

    async def config(request: Request) -> Response:
        if request.method == "POST":
            try:
                changes = json.loads(await request.body() or b"{}")
                if not isinstance(changes, dict):
                    raise ValueError("expected a JSON object")
                sim.configure(changes)
            except ValueError as exc:
                return _error(400, str(exc))
        return JSONResponse(asdict(sim.config))

    async def reset(request: Request) -> Response:
        sim.reset()
        return JSONResponse({"ok": True})

    async def kafka(request: Request) -> Response:
        return JSONResponse({"bootstrap_servers": sim.kafka_bootstrap_servers})

    async def health(request: Request) -> Response:
        return JSONResponse({"ok": True})

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=2.0)) as client:
            task = asyncio.create_task(_receipt_loop(sim, client))
            try:
                yield
            finally:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    routes = [
        Route("/v1/{channel}/send", send, methods=["POST"]),
        Route("/v1/{channel}/status", status, methods=["POST"]),
        Route("/admin/stats", stats, methods=["GET"]),
        Route("/admin/messages", messages, methods=["GET"]),
        Route("/admin/config", config, methods=["GET", "POST"]),
        Route("/admin/reset", reset, methods=["POST"]),
        Route("/admin/kafka", kafka, methods=["GET"]),
        Route("/health", health, methods=["GET"]),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.simulator = sim
    return app
