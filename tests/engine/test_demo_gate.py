"""The run command's demo decision (engine.demo_gate, called by scripts/run.sh): known passwords only into the
embedded default database or when asked."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine.demo_gate import CREATE_ADMIN, decide, is_embedded_default
from engine.settings import PROJECT_ROOT, Settings

DEFAULT = str(Settings.model_fields["database_url"].default)
SERVER = "postgresql+psycopg://app:secret@db-host/marketing"


def test_the_default_database_is_recognised_however_it_is_spelled() -> None:
    assert is_embedded_default(DEFAULT)
    assert is_embedded_default(f"sqlite:///{PROJECT_ROOT}/data/../data/marketing.db")
    assert not is_embedded_default(f"sqlite:///{PROJECT_ROOT}/data/other.db")
    assert not is_embedded_default(SERVER)
    assert not is_embedded_default("sqlite://")


@pytest.mark.parametrize(("url", "demo", "load"), [
    (DEFAULT, None, True), (DEFAULT, "", True), (DEFAULT, "0", False), (DEFAULT, "1", True),
    (SERVER, None, False), (SERVER, "1", True), (SERVER, "0", False),
    ("sqlite:////srv/marketing/prod.db", None, False),
])
def test_decision(url: str, demo: str | None, load: bool) -> None:
    decision = decide(url, demo)
    assert decision.load is load
    assert (CREATE_ADMIN in decision.reason) is (not load)


def _gate(url: str, demo: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DEMO"} | {"DATABASE_URL": url,
                                                                 "PYTHONPATH": str(PROJECT_ROOT)}
    if demo is not None:
        env["DEMO"] = demo
    return subprocess.run([sys.executable, "-m", "engine.demo_gate"], env=env, cwd=Path(PROJECT_ROOT),
                          capture_output=True, text=True, timeout=60)


def test_the_script_step_exits_1_and_prints_the_create_admin_step_for_a_server_database() -> None:
    refused = _gate(SERVER, None)
    assert refused.returncode == 1 and CREATE_ADMIN in refused.stderr
    assert _gate(SERVER, "1").returncode == 0
    assert _gate(DEFAULT, None).returncode == 0


def test_run_sh_loads_the_demo_only_through_the_gate() -> None:
    script = (PROJECT_ROOT / "scripts" / "run.sh").read_text()
    assert "if python -m engine.demo_gate; then\n    python -m engine.demo\n" in script
    assert script.count("python -m engine.demo\n") == 1
