"""Webhook signatures that cannot be replayed: `X-Signature: t=<unix seconds>,v1=<hex>` where
v1 = HMAC-SHA256(secret, f"{t}.{raw body}") — the scheme Stripe uses. The timestamp is inside the signed text,
so a captured request re-sent later fails the receiver's tolerance check (5 minutes), and changing `t` breaks
the HMAC. A receiver verifies with `verify(...)` below (or its ten lines in any language: README "Webhooks").

Several `v1=` values may appear (secret rotation: one per secret); one matching value is enough.
"""

import hashlib
import hmac
import time

HEADER = "X-Signature"
TOLERANCE_S = 300  # a receiver accepts signatures at most this old (or this far in the future)


class SignatureError(ValueError):
    """Why a signature was refused: missing, malformed, too old, or not matching."""


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """hex HMAC-SHA256(secret, "<timestamp>.<body>")."""
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def sign(body: bytes, secret: str, timestamp: int | None = None) -> str:
    """The X-Signature value for `body`, signed now (or at `timestamp`)."""
    t = int(time.time()) if timestamp is None else int(timestamp)
    return f"t={t},v1={signature(secret, t, body)}"


def parse(header: str) -> tuple[int, list[str]]:
    """(t, [v1 values]) of a header; SignatureError when it has no timestamp or no v1."""
    t: int | None = None
    values: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            t = int(value)
        elif key == "v1" and value:
            values.append(value)
    if t is None or not values:
        raise SignatureError("the signature header needs t=<unix time> and v1=<hex>")
    return t, values


def verify(body: bytes, secret: str, header: str | None, *, tolerance: int = TOLERANCE_S,
           now: float | None = None) -> int:
    """What a receiver does with the RAW body: check the timestamp is within `tolerance` seconds of now and
    one v1 matches (constant-time). Returns t; raises SignatureError saying why not."""
    if not header:
        raise SignatureError("no X-Signature header")
    t, values = parse(header)
    current = time.time() if now is None else now
    if abs(current - t) > tolerance:
        raise SignatureError(f"the signature is {abs(current - t):.0f} s from now (more than {tolerance} s)")
    expected = signature(secret, t, body)
    if not any(hmac.compare_digest(expected, value) for value in values):
        raise SignatureError("the signature does not match the body")
    return t


def is_valid(body: bytes, secret: str, header: str | None, *, tolerance: int = TOLERANCE_S,
             now: float | None = None) -> bool:
    """`verify` as a yes/no."""
    try:
        verify(body, secret, header, tolerance=tolerance, now=now)
    except SignatureError:
        return False
    return True
