"""The app with its engine running, for browser tests that watch real rounds (issue: watching a campaign run).

`live_stack` starts what scripts/run.sh starts, on free ports and a database of the test's own: the provider
simulator, the HTTP API (receipts, events, short links), an SMTP sink, one Dramatiq worker process, the
scheduler, and the Reflex app, all on one redis-server. The test process itself points DATABASE_URL /
REDIS_URL / PROVIDER_URL at the same places (so services and factories used by the test see what the app
sees); `LiveStack.env` is that environment.
"""

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import redis

from engine.runtime.connection import reset_redis
from engine.settings import get_settings
from tests.browser.harness import RunningApp, free_port, running_app
from tests.engine.runtime.support import Proc, engine_env, scheduler, wait_for, worker


@dataclass
class LiveStack:
    app: RunningApp
    env: dict[str, str]
    procs: dict[str, Proc] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.app.url


def _wait_http(url: str, what: str) -> None:
    import urllib.request

    def up() -> bool:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return True
        except OSError as err:  # an HTTP error status still means the server is up
            return hasattr(err, "code")

    wait_for(up, 30, what=what, interval=0.1)


@contextmanager
def live_stack(work: Path, web_dir: Path, redis_url: str, *, receipt_delay: float = 0.5,
               settings: dict[str, str] | None = None) -> Iterator[LiveStack]:
    """Everything runs until the block exits; the test process's environment points at it meanwhile."""
    work.mkdir(parents=True, exist_ok=True)
    logs = work / "logs"
    logs.mkdir(exist_ok=True)
    sim_port, api_port, smtp_port = free_port(), free_port(), free_port()
    database_url = f"sqlite:///{work / 'app.db'}"
    extra = {
        "DATABASE_URL": database_url, "REDIS_URL": redis_url,
        "PROVIDER_URL": f"http://127.0.0.1:{sim_port}", "SIMULATOR_PORT": str(sim_port),
        "SIMULATOR_RECEIPT_DELAY": str(receipt_delay), "SIMULATOR_KAFKA": "false",
        "RECEIPT_CALLBACK_URL": f"http://127.0.0.1:{api_port}/api/v1/receipts",
        "API_PORT": str(api_port), "SHORT_LINK_BASE": f"http://127.0.0.1:{api_port}/s",
        "SMTP_PORT": str(smtp_port), "ENGINE_POLL_MS": "50",
        **(settings or {}),
    }
    saved = {k: os.environ.get(k) for k in extra}
    os.environ.update(extra)
    get_settings.cache_clear()
    reset_redis()
    redis.Redis.from_url(redis_url).flushdb()
    env = engine_env(**extra)
    procs = {
        "simulator": Proc("simulator", [sys.executable, "-m", "engine.simulator"], env, logs),
        "api": Proc("api", [sys.executable, "-m", "engine.api"], env, logs),
        "smtp": Proc("smtp", [sys.executable, "-m", "aiosmtpd", "-n", "-c", "aiosmtpd.handlers.Sink", "-l",
                              f"127.0.0.1:{smtp_port}"], env, logs),
    }
    try:
        # the app first: it migrates the database and loads the demo data the engine then works on
        with running_app(database_url, work, web_dir, extra_env=extra) as app:
            for proc in procs.values():
                proc.start()
            _wait_http(f"http://127.0.0.1:{sim_port}/", "the provider simulator")
            _wait_http(f"http://127.0.0.1:{api_port}/", "the API")
            procs["worker"] = worker(env, logs).start()
            procs["scheduler"] = scheduler(env, logs).start()
            try:
                yield LiveStack(app=app, env=extra, procs=procs)
            finally:
                for proc in reversed(list(procs.values())):
                    proc.stop()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        get_settings.cache_clear()
        reset_redis()
