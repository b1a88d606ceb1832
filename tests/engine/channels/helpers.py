"""Small helpers shared by the channel tests."""

import socket
import time
from typing import Any

from engine.channels.base import Message


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
