"""The webhook signature a receiver verifies: t=<unix>,v1=<HMAC-SHA256(secret, "t.body")>, 5 minutes' tolerance."""

import hashlib
import hmac

import pytest

from engine.channels.signature import SignatureError, is_valid, sign, verify

BODY = b'{"id":"3:n5:1","data":{"tier":"gold"}}'


def test_the_header_is_t_and_the_hmac_of_t_dot_body():
    expected = hmac.new(b"k3y-secret", b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert sign(BODY, "k3y-secret", timestamp=1_700_000_000) == f"t=1700000000,v1={expected}"


def test_a_fresh_signature_verifies_and_returns_its_time():
    header = sign(BODY, "k3y-secret", timestamp=1_700_000_000)
    assert verify(BODY, "k3y-secret", header, now=1_700_000_000 + 299) == 1_700_000_000
    assert verify(BODY, "k3y-secret", header, now=1_700_000_000 - 299) == 1_700_000_000  # a clock slightly behind


@pytest.mark.parametrize(("body", "secret", "now", "why"), [
    (BODY, "k3y-secret", 1_700_000_000 + 301, "more than 300 s"),  # a replay 5 minutes later
    (BODY + b" ", "k3y-secret", 1_700_000_000, "does not match"),  # the body was changed
    (BODY, "other-secret", 1_700_000_000, "does not match"),
])
def test_replayed_changed_or_foreign_signatures_are_refused(body: bytes, secret: str, now: int, why: str):
    header = sign(BODY, "k3y-secret", timestamp=1_700_000_000)
    with pytest.raises(SignatureError, match=why):
        verify(body, secret, header, now=now)
    assert not is_valid(body, secret, header, now=now)


def test_moving_the_timestamp_breaks_the_hmac():
    header = sign(BODY, "k3y-secret", timestamp=1_700_000_000)
    replayed = header.replace("t=1700000000", "t=1700000600")  # a replayer "refreshing" the timestamp
    with pytest.raises(SignatureError, match="does not match"):
        verify(BODY, "k3y-secret", replayed, now=1_700_000_600)


@pytest.mark.parametrize("header", [None, "", "sha256=abc", "t=abc,v1=00", "t=1700000000"])
def test_missing_or_malformed_headers_are_refused(header: str | None):
    with pytest.raises(SignatureError):
        verify(BODY, "k3y-secret", header, now=1_700_000_000)


def test_one_matching_v1_is_enough_for_secret_rotation():
    new = sign(BODY, "new-secret", timestamp=1_700_000_000)
    old_value = sign(BODY, "old-secret", timestamp=1_700_000_000).split("v1=")[1]
    assert verify(BODY, "old-secret", f"{new},v1={old_value}", now=1_700_000_000) == 1_700_000_000


def test_the_readme_verify_snippet_agrees() -> None:
    """The receiver's code in the README (section "Outbound calls, webhook signatures and receipts") works."""
    import re
    import time

    from engine.settings import PROJECT_ROOT

    readme = (PROJECT_ROOT / "README.md").read_text()
    snippet = re.search(r"```python\n(import hashlib, hmac, time\n.*?)```", readme, re.S)
    assert snippet is not None
    scope: dict = {}
    exec(snippet.group(1), scope)  # noqa: S102 — our own documentation
    fresh = sign(BODY, "k3y-secret")
    assert scope["verify"](BODY, "k3y-secret", fresh) is True
    assert scope["verify"](BODY, "other", fresh) is False
    assert scope["verify"](BODY, "k3y-secret", sign(BODY, "k3y-secret", timestamp=int(time.time()) - 301)) is False
