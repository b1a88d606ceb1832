"""The real stack for benchmarks, started as separate processes the way `scripts/run.sh` starts it:
redis-server, `python -m engine.migrate`, the SMTP sink (scripts/smtp_sink.sh), the provider simulator, the
HTTP API, an HTTP sink for webhooks (bench/sink.py), the Dramatiq workers and the scheduler — on a temporary
SQLite database, a temporary Redis directory and free ports. Everything is stopped (by pid) when the stack exits.

The benchmark process itself talks to the same database and Redis through the engine's services (it
creates the workspace, the customers and the activity, and publishes it), with the environment pointed at
the stack (`Stack.env`)."""

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
BIN = Path(PYTHON).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def machine() -> dict[str, Any]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "ram_gib": round(psutil.virtual_memory().total / 2**30, 1), "cpu": model,
            "python": sys.version.split()[0]}


class Stack:
    """`with Stack(...) as stack:` — temp dir, ports, env; `start_services()` after seeding the database."""

    def __init__(self, *, workers: int = 2, threads: int = 4, actors: str = "engine.actors",
                 env: dict[str, str] | None = None, keep: bool = False, redis_args: list[str] | None = None,
                 simulator_args: list[str] | None = None, worker_timeout_ms: int = 50) -> None:
        self.workers = workers
        self.threads = threads
        self.actors = actors
        self.keep = keep
        self.redis_args = redis_args or []
        self.simulator_args = simulator_args or []
        self.worker_timeout_ms = worker_timeout_ms
        self.dir = Path(tempfile.mkdtemp(prefix="am-bench-"))
        self.ports = {name: free_port() for name in ("redis", "smtp", "simulator", "api", "sink")}
        self.procs: dict[str, subprocess.Popen] = {}
        self.logs: dict[str, Any] = {}
        p = self.ports
        self.env = {
            "DATABASE_URL": f"sqlite:///{self.dir / 'bench.db'}",
            "REDIS_URL": f"redis://127.0.0.1:{p['redis']}/0",
            "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(p["smtp"]),
            "PROVIDER_URL": f"http://127.0.0.1:{p['simulator']}",
            "SIMULATOR_PORT": str(p["simulator"]),
            "SIMULATOR_KAFKA": "false",
            "API_PORT": str(p["api"]),
            "RECEIPT_CALLBACK_URL": f"http://127.0.0.1:{p['api']}/api/v1/receipts",
            "RECEIPT_CALLBACK_TOKEN": secrets.token_urlsafe(24),  # the API requires it; the simulator sends it
            "OUTBOUND_ALLOW": f"127.0.0.1:{p['sink']}",  # the webhook sink, allow-listed explicitly (outbound fence)
            "WEBHOOK_SECRET": secrets.token_hex(16),  # every POST signed, and verified by the sink (bench/sink.py)
            "SHORT_LINK_BASE": f"http://127.0.0.1:{p['api']}/s",
            "PYTHONUNBUFFERED": "1",
            "ENGINE_POLL_MS": str(worker_timeout_ms),
            **(env or {}),
        }
        self.sink_url = f"http://127.0.0.1:{p['sink']}"
        self.cpu_mark: dict[str, float] = {}

    # -- environment of this process ---------------------------------------------------------------------
    def apply_env(self) -> None:
        """Point this process's engine (settings, DB engine, Redis client) at the stack."""
        os.environ.update(self.env)
        from engine import db
        from engine.runtime.connection import reset_redis
        from engine.settings import get_settings

        get_settings.cache_clear()
        db.reset_engine()
        reset_redis()

    # -- processes -------------------------------------------------------------------------------------
    def _spawn(self, name: str, args: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
        log = open(self.dir / f"{name}.log", "wb")  # noqa: SIM115 — closed in stop()
        self.logs[name] = log
        proc = subprocess.Popen(args, cwd=ROOT, env={**os.environ, **self.env, **(env or {})}, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
        self.procs[name] = proc
        return proc

    def start_redis(self) -> None:
        exe = shutil.which("redis-server")
        if exe is None:
            raise SystemExit("redis-server is not installed (scripts/setup.sh installs it)")
        self._spawn("redis", [exe, "--port", str(self.ports["redis"]), "--bind", "127.0.0.1", "--dir", str(self.dir),
                              *self.redis_args])
        import redis

        client = redis.Redis(port=self.ports["redis"])
        for _ in range(200):
            try:
                client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.025)
        raise RuntimeError("redis-server did not start")

    def migrate(self) -> None:
        subprocess.run([PYTHON, "-m", "engine.migrate"], cwd=ROOT, env={**os.environ, **self.env}, check=True,
                       stdout=subprocess.DEVNULL)

    def start_services(self, *, workers: bool = True, scheduler: bool = True) -> None:
        """SMTP sink, simulator, API, webhook sink, then the workers and the scheduler (like run.sh)."""
        p = self.ports
        self._spawn("smtp", ["bash", str(ROOT / "scripts" / "smtp_sink.sh"), f"127.0.0.1:{p['smtp']}"])
        self._spawn("simulator", [PYTHON, "-m", "engine.simulator", "--port", str(p["simulator"]), "--no-kafka",
                                  *self.simulator_args])
        self._spawn("api", [PYTHON, "-m", "engine.api", "--port", str(p["api"])])
        self._spawn("sink", [PYTHON, "-m", "bench.sink", "--port", str(p["sink"])])
        self.wait_http(f"http://127.0.0.1:{p['simulator']}/health")
        self.wait_http(f"http://127.0.0.1:{p['api']}/health")
        self.wait_http(f"{self.sink_url}/stats")
        self.wait_smtp()
        if workers:
            self.start_workers()
        if scheduler:
            self._spawn("scheduler", [PYTHON, "-m", "engine.scheduler"])
            # ready before anything is measured: its start (imports, ~1.3 CPU-s without bytecode caches) is not
            # the engine's work, and it competed with the workers in the first seconds of a run
            self.wait_log("scheduler", b"scheduler running")

    def wait_log(self, name: str, text: bytes, timeout: float = 60) -> None:
        """Until the process `name` has written `text` to its log."""
        deadline = time.monotonic() + timeout
        while text not in (self.dir / f"{name}.log").read_bytes():
            if self.procs[name].poll() is not None:
                raise RuntimeError(f"{name} exited; see {self.dir / f'{name}.log'}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not log {text!r} within {timeout:.0f} s")
            time.sleep(0.05)

    def start_workers(self) -> None:
        self._spawn("workers", [str(BIN / "dramatiq"), self.actors, "--processes", str(self.workers),
                                "--threads", str(self.threads)])
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # every worker process has declared its queues (is consuming)
            kids = self.children("workers")
            ready = (self.dir / "workers.log").read_bytes().count(b"Worker process is ready")
            if len(kids) >= self.workers and ready >= self.workers:
                return
            time.sleep(0.1)

    def profile_workers(self, outdir: str, rate: int = 100) -> None:
        """py-spy (sampling, in its own process) on every worker process until `stop_profiles()`."""
        Path(outdir).mkdir(parents=True, exist_ok=True)
        for name, proc in self.processes().items():
            if name.startswith("workers[") or name in ("api", "simulator", "smtp", "sink", "scheduler"):
                out = Path(outdir) / f"{name.replace('[', '').replace(']', '')}.txt"
                self._spawn(f"py-spy {name}", [str(BIN / "py-spy"), "record", "--pid", str(proc.pid), "--rate",
                                               str(rate), "--format", "raw", "--output", str(out), "--nonblocking",
                                               "--gil"])

    def stop_profiles(self) -> None:
        for name in [n for n in self.procs if n.startswith("py-spy")]:
            self.stop_process(name, signal.SIGINT)

    def wait_http(self, url: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if httpx.get(url, timeout=1).status_code < 500:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"{url} did not answer; logs in {self.dir}")

    def wait_smtp(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.ports["smtp"]), timeout=1):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("SMTP sink did not start")

    def children(self, name: str) -> list[psutil.Process]:
        try:
            return psutil.Process(self.procs[name].pid).children(recursive=True)
        except (psutil.NoSuchProcess, KeyError):
            return []

    def processes(self) -> dict[str, psutil.Process]:
        """Every process of the stack by name; worker processes as workers[i] (the dramatiq parent apart)."""
        out: dict[str, psutil.Process] = {}
        for name, proc in self.procs.items():
            try:
                out[name] = psutil.Process(proc.pid)
            except psutil.NoSuchProcess:
                continue
            if name == "workers":
                for i, child in enumerate(sorted(self.children(name), key=lambda c: c.pid)):
                    out[f"workers[{i}]"] = child
        return out

    def peak_rss(self) -> dict[str, int]:
        """Peak resident memory (VmHWM) of every process, bytes."""
        out = {}
        for name, proc in self.processes().items():
            try:
                for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        out[name] = int(line.split()[1]) * 1024
            except OSError:
                pass
        return out

    def cpu_seconds(self) -> dict[str, float]:
        out = {}
        for name, proc in self.processes().items():
            try:
                t = proc.cpu_times()
                out[name] = t.user + t.system
            except psutil.NoSuchProcess:
                pass
        return out

    def mark_cpu(self) -> None:
        self.cpu_mark = self.cpu_seconds()

    def cpu_since_mark(self) -> dict[str, float]:
        now = self.cpu_seconds()
        return {name: now[name] - self.cpu_mark.get(name, 0.0) for name in now}

    def stop_process(self, name: str, sig: int = signal.SIGTERM, timeout: float = 20) -> None:
        proc = self.procs.pop(name, None)
        if proc is None:
            return
        try:
            os.killpg(proc.pid, sig)  # the process group we started (dramatiq's children included)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(5)

    def stop(self) -> None:
        for name in ("scheduler", "workers", "api", "simulator", "sink", "smtp", "redis"):
            self.stop_process(name)
        for name in list(self.procs):
            self.stop_process(name)
        for log in self.logs.values():
            log.close()
        if not self.keep:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> "Stack":
        self.start_redis()
        self.migrate()
        self.apply_env()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def fmt_bytes(n: float) -> str:
    return f"{n / 2**20:,.0f} MiB"
