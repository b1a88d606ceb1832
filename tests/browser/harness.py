"""Start the real app (as scripts/run.sh does) on a given database, and Debian's Chromium, for the browser tests
and the page benchmark (bench/page_bench.py) alike.

The frontend is built in a directory of the caller's choice (`web_dir`) rather than .web, so a `scripts/run.sh`
running at the same time keeps its build and parallel runs do not share one (the port is baked into the build).
Within one process a build is made once and served again by the next apps on its port (`_serve`).
"""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Browser, Playwright

from tests.redis_process import RedisProcess

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]
START_TIMEOUT_S = 900  # a first build on a fresh machine installs the frontend packages


@dataclass(frozen=True)
class RunningApp:
    url: str
    database_url: str
    log: Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def tool_env(database_url: str, work: Path, web_dir: Path) -> dict[str, str]:
    """os.environ plus what scripts/env.sh sets, so plain `pytest` works as well as scripts/test.sh."""
    env = dict(os.environ)
    env.update({
        "DATABASE_URL": database_url,
        "REFLEX_WEB_WORKDIR": str(web_dir),
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


#: migrate, then the demo data, in one interpreter: the two share their imports (SQLModel, the engine), which
#: took a second process ~2 s to load again
_MIGRATE_AND_DEMO = """
import runpy, sys
for module in ("engine.migrate", "engine.demo"):
    sys.argv = [module]
    runpy.run_module(module, run_name="__main__", alter_sys=True)
"""


def load_demo(env: dict[str, str]) -> None:
    """As scripts/run.sh: migrate, then the demo data (in a subprocess: this process's settings stay put)."""
    done = subprocess.run([sys.executable, "-c", _MIGRATE_AND_DEMO], cwd=ROOT, env=env, capture_output=True,
                          text=True)
    if done.returncode:
        raise RuntimeError(f"migrate + demo failed ({done.returncode}):\n{done.stderr[-4000:]}")


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
        time.sleep(0.25)
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


@contextmanager
def running_app(database_url: str, work: Path, web_dir: Path, *, demo: bool = True,
                extra_env: dict[str, str] | None = None) -> Iterator[RunningApp]:
    """`reflex run --env prod` on a free port over `database_url` (migrated, with the demo data unless
    demo=False); stopped on exit. `work` receives the log and Reflex's state files; `extra_env` (REDIS_URL, ...)
    is added to the app's environment."""
    work.mkdir(parents=True, exist_ok=True)
    env = tool_env(database_url, work, web_dir)
    env.update(extra_env or {})
    with ExitStack() as stack:
        if "REDIS_URL" not in (extra_env or {}):
            # Sign-in is throttled in Redis: an app started without one gets a redis-server of its own (never a
            # developer's 6379), so one file's failed sign-ins never lock a user in another's.
            own = RedisProcess(work / "redis", free_port(), persistent=False).start()
            stack.callback(own.stop)
            env["REDIS_URL"] = own.url
        yield from _serve(database_url, work, env, demo=demo)


#: build dir → the port its frontend was built for, by an app this process started (a frontend bakes its port in)
_BUILT: dict[str, int] = {}


def port_is_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server binds: TIME_WAIT does not count
        try:
            s.bind(("0.0.0.0", port))
        except OSError:
            return False
        return True


def _serve(database_url: str, work: Path, env: dict[str, str], *, demo: bool) -> Iterator[RunningApp]:
    """The first app of a build dir in this process compiles and builds (`reflex run --env prod`); the next ones
    serve that build on the same port (tests/browser/serve_built.py): the same code makes the same frontend, and
    building it was most of an app's start. A port taken meanwhile means a fresh build on a free one."""
    if demo:
        load_demo(env)
    web_dir = env["REFLEX_WEB_WORKDIR"]
    built = _BUILT.pop(web_dir, None)
    reuse = built is not None and port_is_free(built)
    port = built if reuse and built is not None else free_port()
    url = f"http://localhost:{port}"
    log = work / "reflex.log"
    command = ([sys.executable, "-m", "tests.browser.serve_built", str(port)] if reuse else
               [sys.executable, "-m", "reflex", "run", "--env", "prod", "--frontend-port", str(port),
                "--backend-port", str(port)])
    with log.open("wb") as out:
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_until_up(url, proc, log)
        _BUILT[web_dir] = port
        yield RunningApp(url=url, database_url=database_url, log=log)
    finally:
        _stop(proc)


def launch_chromium(pw: Playwright) -> Browser:
    # Playwright gives every launch a fresh, temporary --user-data-dir of its own.
    return pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
