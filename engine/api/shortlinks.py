"""GET /s/{code}: the short links of Text SMS. Counts a click on the (record, component) and redirects."""

import json
from typing import cast

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from engine.runtime import live
from engine.runtime.connection import get_redis
from engine.runtime.ports import SHORT_LINKS_KEY
from engine.runtime.store import TTL


async def follow_short_link(request: Request) -> Response:
    code = request.path_params["code"]
    r = get_redis()
    raw = cast(bytes | None, r.hget(SHORT_LINKS_KEY, code))  # redis-py types replies Awaitable | Any
    if raw is None:
        return JSONResponse({"error": "not_found", "message": "This link does not exist or has expired."}, 404)
    record_id, node_id, customer_id, url = json.loads(raw)
    pipe = r.pipeline(transaction=False)
    pipe.hincrby(f"c:{record_id}:{node_id}:clicks", "all", 1)  # every click
    pipe.sadd(f"clickers:{record_id}:{node_id}", customer_id)  # unique clickers
    pipe.expire(f"c:{record_id}:{node_id}:clicks", TTL)
    pipe.sadd(f"ck:{record_id}", f"{node_id}:clicks")
    live.publish(pipe, int(record_id))  # open analysis panels show the click (pushed, not polled)
    pipe.execute()
    return RedirectResponse(url, status_code=302)
