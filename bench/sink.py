"""The webhook receiver of the benchmarks: counts every POSTed item (single objects or {"items": [...]})
and the duplicates by item id. `python -m bench.sink --port P`; GET /stats, POST /reset.

With WEBHOOK_SECRET set (bench/stack.py sets it for the engine and the sink alike) it verifies every POST's
X-Signature as a receiver should (engine/channels/signature.py: 5 minutes' tolerance); a POST that fails is
answered 401 and counted in `bad_signatures`."""

import argparse
import os

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from engine.channels import signature
from engine.channels.wire import loads


def create_app(secret: str = "") -> Starlette:
    seen: set[str] = set()
    stats = {"posts": 0, "items": 0, "unique": 0, "duplicates": 0, "bad_signatures": 0}

    async def hook(request: Request) -> JSONResponse:
        raw = await request.body()
        if secret and not signature.is_valid(raw, secret, request.headers.get(signature.HEADER)):
            stats["bad_signatures"] += 1
            return JSONResponse({"error": "bad signature"}, status_code=401)
        body = loads(raw)  # orjson: the standard library's decoder was half of the sink's CPU
        items = body["items"] if isinstance(body, dict) and "items" in body else [body]
        stats["posts"] += 1
        for item in items:
            stats["items"] += 1
            key = str(item.get("id"))
            if key in seen:
                stats["duplicates"] += 1
            else:
                seen.add(key)
                stats["unique"] += 1
        return JSONResponse({"ok": True})

    async def get_stats(request: Request) -> JSONResponse:
        return JSONResponse(stats)

    async def reset(request: Request) -> JSONResponse:
        seen.clear()
        stats.update(dict.fromkeys(stats, 0))
        return JSONResponse({"ok": True})

    return Starlette(routes=[Route("/hook", hook, methods=["POST"]), Route("/stats", get_stats),
                             Route("/reset", reset, methods=["POST"])])


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.sink")
    parser.add_argument("--port", type=int, default=8300)
    args = parser.parse_args()
    app = create_app(os.environ.get("WEBHOOK_SECRET", ""))
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
