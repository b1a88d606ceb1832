"""Small helpers shared by the channel tests."""

import os
import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from engine.channels.base import Message
from engine.settings import get_settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout: float = 10.0, interval: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def msg(customer_id: int, channel: str = "text_sms", to: str = "+8613800000000", record_id: int = 1,
        node_id: str = "n1", **kw: Any) -> Message:
    return Message(record_id=record_id, node_id=node_id, customer_id=customer_id, channel=channel, to=to, **kw)


def allow_outbound(monkeypatch: pytest.MonkeyPatch, *entries: str) -> None:
    """Allow-list these loopback sinks (host:port) for this test, on top of what is allowed already."""
    current = os.environ.get("OUTBOUND_ALLOW", "")
    monkeypatch.setenv("OUTBOUND_ALLOW", ",".join(e for e in (current, *entries) if e))
    get_settings.cache_clear()


_dials: list[list[tuple[str, int]]] = []
_dials_lock = threading.Lock()


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if event == "socket.connect" and _dials:
        address = args[1]
        if isinstance(address, tuple) and len(address) >= 2:
            with _dials_lock:
                for dials in _dials:
                    dials.append((str(address[0]), int(address[1])))


sys.addaudithook(_audit)  # audit hooks stay for the process; it records only inside `dialled()`


@contextmanager
def dialled() -> Iterator[list[tuple[str, int]]]:
    """Every TCP address this process's Python sockets connect to inside the block (any thread), from the
    interpreter's own audit events: proof that a refused address was never dialled."""
    dials: list[tuple[str, int]] = []
    with _dials_lock:
        _dials.append(dials)
    try:
        yield dials
    finally:
        with _dials_lock:
            _dials.remove(dials)
