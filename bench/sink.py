"""The webhook receiver of the benchmarks: counts every POSTed item (single objects or {"items": [...]})
and the duplicates by item id. `python -m bench.sink --port P`; GET /stats, POST /reset."""

import argparse
import json

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


def create_app() -> Starlette:
    seen: set[str] = set()
    stats = {"posts": 0, "items": 0, "unique": 0, "duplicates": 0}

    async def hook(request: Request) -> JSONResponse:
        body = json.loads(await request.body())
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
    uvicorn.run(create_app(), host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
