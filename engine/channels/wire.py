"""JSON bodies of the HTTP channels (provider requests, webhook posts) and of their peers (the simulator, the
API's receipts): a million customers are a million encoded payloads, 10–12 % of a worker's CPU with the
standard library. orjson (when installed; it is a dependency) encodes them about 5x faster and decodes them
2–4x faster; the standard library is the fallback. Both write compact UTF-8 and turn what JSON cannot hold
(datetimes included) into text with `str`, so the bodies read the same."""

import json
from typing import Any

try:
    import orjson
except ImportError:  # pragma: no cover — an environment installed before orjson became a dependency
    orjson = None  # type: ignore[assignment]  # the module or None: the usual optional import

_OPTIONS = (orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS) \
    if orjson is not None else 0


def dumps(obj: Any) -> bytes:
    """`obj` as a compact UTF-8 JSON body."""
    if orjson is not None:
        return orjson.dumps(obj, default=str, option=_OPTIONS)
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def loads(body: bytes | str) -> Any:
    """A JSON body as Python values; raises ValueError (orjson's JSONDecodeError is one) when it is not JSON."""
    if orjson is not None:
        return orjson.loads(body)
    return json.loads(body)
