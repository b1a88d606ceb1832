"""Real servers on loopback for channel and runtime tests: an SMTP server (aiosmtpd), a scriptable HTTP sink
(webhook receiver / receipt callback), the provider simulator in a thread, a librdkafka mock cluster."""

import json
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message as EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from engine.channels.kafka_mock import MockKafkaCluster
from engine.simulator import SimConfig, SimulatorServer
from tests.engine.channels.helpers import allow_outbound, free_port


# -- SMTP ----------------------------------------------------------------------------------------------------
@dataclass
class SmtpSink:
    host: str
    port: int
    refused: set[str] = field(default_factory=set)
    received: list[tuple[str, list[str], EmailMessage]] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)
    pipelining: bool = False  # offer PIPELINING (RFC 2920) like Postfix; aiosmtpd reads grouped commands in order
    ehlos: int = 0
    closing: dict[str, int] = field(default_factory=dict)  # address → RCPTs answered 421 (closing) before it is taken

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        self.ehlos += 1  # one per connection the channel opens
        if self.pipelining:
            responses.insert(-1, "250-PIPELINING")
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refused:
            return f"550 5.1.1 <{address}>: mailbox unavailable"
        if self.closing.get(address, 0) > 0:
            self.closing[address] -= 1
            return "421 4.3.2 service shutting down"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
        return "250 Message accepted for delivery"


def _authenticator(sink: SmtpSink):
    def check(server, session, envelope, mechanism, auth_data):
        if isinstance(auth_data, LoginPassword) and auth_data.password == b"s3cret":
            sink.logins.append((auth_data.login.decode(), mechanism))
            return AuthResult(success=True)
        return AuthResult(success=False, handled=False)
    return check


@pytest.fixture
def smtp_server() -> Iterator[SmtpSink]:
    sink = SmtpSink("127.0.0.1", free_port())
    controller = Controller(sink, hostname=sink.host, port=sink.port, authenticator=_authenticator(sink),
                            auth_require_tls=False)
    controller.start()
    yield sink
    controller.stop()


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    directory = tmp_path_factory.mktemp("tls")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    return cert, key


# -- HTTP sink -------------------------------------------------------------------------------------------
@dataclass
class Hit:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class HttpSink:
    """A threaded HTTP server that records every POST. Behaviour by path:
    /ok…→200 · /status/<code>→<code> · /redirect/<code>/<quoted URL>→<code> with that Location ·
    /flaky/<n>/…→503 for the first n hits of that path, then 200 ·
    /slow/<seconds>→200 after sleeping · /garbage/…→200 with a non-JSON body."""

    def __init__(self) -> None:
        self.hits: list[Hit] = []
        self.counts: dict[str, int] = {}
        self.lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with sink.lock:
                    sink.hits.append(Hit(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                    n = sink.counts[self.path] = sink.counts.get(self.path, 0) + 1
                parts = self.path.strip("/").split("/")
                code, payload = 200, b'{"ok": true}'
                extra: dict[str, str] = {}
                if parts[0] == "status":
                    code, payload = int(parts[1]), b'{"error": "nope"}'
                elif parts[0] == "flaky" and n <= int(parts[1]):
                    code = 503
                elif parts[0] == "redirect":  # /redirect/<code>/<quoted Location>
                    code, payload = int(parts[1]), b""
                    extra = {"Location": unquote(parts[2])}
                elif parts[0] == "slow":
                    time.sleep(float(parts[1]))
                elif parts[0] == "garbage":
                    payload = b"<html>not json</html>"
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for name, value in extra.items():
                    self.send_header(name, value)
                self.end_headers()
                try:
                    self.wfile.write(payload)
                except OSError:  # the client timed out and left
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def receipts(self, path: str = "/receipts") -> list[dict[str, Any]]:
        with self.lock:
            return [r for h in self.hits if h.path == path for r in h.json()["receipts"]]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def http_sink(monkeypatch: pytest.MonkeyPatch) -> Iterator[HttpSink]:
    """The sink, allow-listed for outbound calls (its own 127.0.0.1:port only)."""
    sink = HttpSink()
    allow_outbound(monkeypatch, sink.url.removeprefix("http://"))
    yield sink
    sink.close()


# -- simulator -----------------------------------------------------------------------------------------------
@pytest.fixture
def simulator(http_sink: HttpSink) -> Iterator[SimulatorServer]:
    """The provider simulator in a thread, receipts after 0.1 s to the HTTP sink's /receipts."""
    config = SimConfig(success_rate=0.9, failure_rate=0.05, receipt_delay=0.1, callback_url=f"{http_sink.url}/receipts")
    server = SimulatorServer(config).start()
    yield server
    server.stop()


# -- Kafka -------------------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def kafka_cluster() -> Iterator[MockKafkaCluster]:
    cluster = MockKafkaCluster(num_brokers=3)
    yield cluster
    cluster.close()
