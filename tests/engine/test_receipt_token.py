"""The receipt token: generated once per machine at first use (RECEIPT_TOKEN_FILE, mode 0600) when
RECEIPT_CALLBACK_TOKEN is unset, read back by every process — the API and the simulator agree without setup."""

import os
import stat
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from engine.receipt_token import _from_file, receipt_token
from engine.settings import PROJECT_ROOT, get_settings
from engine.simulator import SimConfig, SimulatorServer
from tests.engine.channels.helpers import wait_until


@pytest.fixture
def token_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "data" / "receipt_token"
    monkeypatch.delenv("RECEIPT_CALLBACK_TOKEN")
    monkeypatch.setenv("RECEIPT_TOKEN_FILE", str(path))
    get_settings.cache_clear()
    _from_file.cache_clear()
    yield path
    _from_file.cache_clear()


def test_generated_once_private_and_stable(token_file: Path) -> None:
    assert not token_file.exists()
    token = receipt_token()
    assert len(token) >= 40 and token_file.read_text().strip() == token
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    _from_file.cache_clear()
    assert receipt_token() == token  # read back, not generated again


def test_processes_starting_together_agree(token_file: Path) -> None:
    code = "from engine.receipt_token import receipt_token; print(receipt_token())"
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    procs = [subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, text=True)
             for _ in range(4)]
    tokens = {p.communicate(timeout=60)[0].strip() for p in procs}
    assert len(tokens) == 1 and tokens == {token_file.read_text().strip()}
    assert [p.name for p in token_file.parent.iterdir()] == ["receipt_token"]  # no temp files left


def test_the_environment_overrides_the_file(token_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECEIPT_CALLBACK_TOKEN", "from-the-env")
    get_settings.cache_clear()
    assert receipt_token() == "from-the-env"
    assert not token_file.exists()


def test_the_simulator_sends_the_generated_token(token_file: Path, http_sink) -> None:
    server = SimulatorServer(SimConfig(success_rate=1.0, failure_rate=0.0, receipt_delay=0.0,
                                       callback_url=f"{http_sink.url}/receipts")).start()
    try:
        sent = httpx.post(f"{server.url}/v1/text_sms/send", json={"messages": [
            {"id": "1:n1:1", "customer_id": 1, "to": "+8613800000000", "body": "hi"}]})
        assert sent.status_code == 200, sent.text
        assert wait_until(lambda: http_sink.receipts())
    finally:
        server.stop()
    assert http_sink.hits[0].headers["authorization"] == f"Bearer {receipt_token()}"
    assert token_file.exists()
