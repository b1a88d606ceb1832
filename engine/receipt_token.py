"""The token providers send with delivery receipts (`Authorization: Bearer <token>` on POST /api/v1/receipts).

Receipts change counters and send statuses, so the API always requires it. RECEIPT_CALLBACK_TOKEN sets it (a
deployment over several machines sets it on each); otherwise the first process that needs it — the API at start,
or the simulator — generates a random one into RECEIPT_TOKEN_FILE (data/receipt_token, mode 0600), and every
later process on the machine reads the same file, so the API and the simulator agree without configuration.
"""

import logging
import os
import secrets
from functools import lru_cache
from pathlib import Path

from engine.settings import Settings, get_settings

log = logging.getLogger(__name__)


def receipt_token(settings: Settings | None = None) -> str:
    """The token: RECEIPT_CALLBACK_TOKEN, else the file's (created on first use)."""
    s = settings or get_settings()
    if s.receipt_callback_token:
        return s.receipt_callback_token
    return _from_file(str(s.receipt_token_file))


@lru_cache(maxsize=4)
def _from_file(path_text: str) -> str:
    path = Path(path_text)
    try:
        token = path.read_text().strip()
        if token:
            return token
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    # written to a private temp file, then linked into place: link fails if another process won the race, and
    # a reader never sees a half-written file
    temp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(32) + "\n")
        try:
            os.link(temp, path)
            log.info("generated the receipt token into %s (providers send 'Authorization: Bearer <it>')", path)
        except FileExistsError:
            pass
    finally:
        temp.unlink(missing_ok=True)
    return path.read_text().strip()
