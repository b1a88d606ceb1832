"""The running app for browser tests, started exactly as scripts/run.sh does, once per test session.

Migrate + demo data go into a fresh SQLite file under the test's tmp dir; `reflex run --env prod` serves it on
a free port. The frontend is built in tmp/browser-web-<xdist worker> (kept between runs; bun hard-links its
packages from .tools/bun-cache, so a copy costs little) rather than .web: a `scripts/run.sh` running at the
same time keeps its build, and each xdist worker has its own app (the port is baked into the build).
scripts/test.sh uses `--dist loadfile`, so the tests of one file share one app. (`--dist loadgroup` would be
the tool for more, but pytest 9.2 + xdist 3.8 silently ignore xdist_group: pytest-xdist issue #1386.)
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
WEB_DIR = ROOT / "tmp" / f"browser-web-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
OUTPUT_DIR = ROOT / "test-output"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]
START_TIMEOUT_S = 900  # a first build on a fresh machine installs the frontend packages
UI_TIMEOUT_MS = 15_000


@dataclass(frozen=True)
class RunningApp:
    url: str
    database_url: str
    log: Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _tool_env(database_url: str, work: Path) -> dict[str, str]:
    """os.environ plus what scripts/env.sh sets, so plain `pytest` works as well as scripts/test.sh."""
    env = dict(os.environ)
    env.update({
        "DATABASE_URL": database_url,
        "REFLEX_WEB_WORKDIR": str(WEB_DIR),
        "REFLEX_STATES_WORKDIR": str(work / "states"),
        "PATH": os.pathsep.join([str(ROOT / ".venv" / "bin"), str(ROOT / ".tools/bun/node_modules/.bin"),
                                 env.get("PATH", "")]),
    })
    env.setdefault("REFLEX_DIR", str(ROOT / ".tools" / "reflex"))
    env.setdefault("BUN_INSTALL_CACHE_DIR", str(ROOT / ".tools" / "bun-cache"))
    env.setdefault("REFLEX_TELEMETRY_ENABLED", "false")
    env.setdefault("REFLEX_USE_SYSTEM_BUN", "1")
    env.setdefault("NPM_CONFIG_REGISTRY", "https://registry.npmjs.org")
    for name in ("FRONTEND_PORT", "BACKEND_PORT", "REFLEX_FRONTEND_PORT", "REFLEX_BACKEND_PORT"):
        env.pop(name, None)
    return env


def _load_demo(env: dict[str, str]) -> None:
    """As scripts/run.sh: migrate, then the demo data (in subprocesses: this process's settings stay put)."""
    for module in ("engine.migrate", "engine.demo"):
        subprocess.run([sys.executable, "-m", module], cwd=ROOT, env=env, check=True)


def _wait_until_up(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"reflex exited with {proc.returncode}:\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(f"{url}/ping", timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"app not up after {START_TIMEOUT_S}s:\n{log.read_text()[-4000:]}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop reflex and its server workers: the process group we created for it, by its id."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


@pytest.fixture(scope="session")
def app_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    work = tmp_path_factory.mktemp("app")
    database_url = f"sqlite:///{work / 'app.db'}"
    env = _tool_env(database_url, work)
    _load_demo(env)
    port = _free_port()
    url = f"http://localhost:{port}"
    log = work / "reflex.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "reflex", "run", "--env", "prod", "--frontend-port", str(port),
             "--backend-port", str(port)],
            cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_until_up(url, proc, log)
        yield RunningApp(url=url, database_url=database_url, log=log)
    finally:
        _stop(proc)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    # Playwright gives every launch a fresh, temporary --user-data-dir of its own.
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[pytest.TestReport]:
    report = yield
    if report.when == "call":
        item.stash[_FAILED] = report.failed
    return report


_FAILED = pytest.StashKey[bool]()


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A new browser context per test: no cookie (session) carries over between tests.
    A failing test leaves failure.png (what the browser showed) in test-output/<test>/."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    context.set_default_timeout(UI_TIMEOUT_MS)
    expect.set_options(timeout=UI_TIMEOUT_MS)
    pg = context.new_page()
    yield pg
    if request.node.stash.get(_FAILED, False):
        dest = OUTPUT_DIR / request.node.name
        dest.mkdir(parents=True, exist_ok=True)
        pg.screenshot(path=str(dest / "failure.png"), full_page=True)
        (dest / "failure-url.txt").write_text(pg.url + "\n")
    context.close()


Shot = Callable[[Page, str], Path]


@pytest.fixture
def shot(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Shot]:
    """shot(page, "name") saves name.png in the test's tmp dir; at the end they are copied to test-output/."""
    taken: list[Path] = []

    def take(pg: Page, name: str) -> Path:
        path = tmp_path / f"{len(taken) + 1:02d}-{name}.png"
        pg.screenshot(path=str(path), full_page=True)
        taken.append(path)
        return path

    yield take
    dest = OUTPUT_DIR / request.node.name
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True, exist_ok=True)
    for path in taken:
        shutil.copy2(path, dest / path.name)
