"""scripts/smtp_sink.sh, the local SMTP peer of the run command and the benchmarks: the email channel's
transactions (single and grouped recipients) are accepted by whichever sink it starts."""

import socket
import subprocess
import time
from pathlib import Path

import pytest

from engine.channels.base import SendStatus
from engine.channels.email import SmtpEmailChannel
from tests.engine.channels.helpers import free_port, msg

SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "smtp_sink.sh"


@pytest.fixture
def peer() -> tuple[str, int]:
    port = free_port()
    proc = subprocess.Popen(["bash", str(SCRIPT), f"127.0.0.1:{port}"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 30
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            assert proc.poll() is None, "the SMTP peer exited"
            assert time.monotonic() < deadline, "the SMTP peer did not listen"
            time.sleep(0.05)
    yield "127.0.0.1", port
    proc.terminate()
    proc.wait(10)


@pytest.mark.parametrize("max_recipients", [1, 100])
def test_the_local_smtp_peer_accepts_the_channels_mail(peer, max_recipients: int) -> None:
    host, port = peer
    channel = SmtpEmailChannel(host=host, port=port, sender="Shop <news@shop.example>",
                               max_recipients=max_recipients, concurrency=2)
    results = channel.send_batch([msg(i, channel="email", to=f"c{i}@example.com", record_id=1, node_id="mail",
                                      subject="Hi", body="Hello") for i in range(1, 251)])
    assert sorted(r.customer_id for r in results) == list(range(1, 251))
    assert {r.status for r in results} == {SendStatus.SUCCESS}
