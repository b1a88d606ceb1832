"""The engine under the run command's own supervisord config (deploy/supervisord.conf), for the supervised-engine
test and bench/recovery.py: start it against this process's database / Redis / provider simulator, find and kill
a worker process, and sample Redis while it runs (who claims which batch, every process's Dramatiq heartbeat)."""

import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import redis

from tests.engine.runtime import support as s

CONF = s.ROOT / "deploy" / "supervisord.conf"
HEARTBEATS = "dramatiq:__heartbeats__"
ACKS = "dramatiq:__acks__."


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Supervisor:
    """supervisord with deploy/supervisord.conf: every engine program, logs and control socket in `log_dir`."""

    def __init__(self, log_dir: Path, *, workers: int = 2, threads: int = 4, **env: str) -> None:
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir = log_dir
        self.run_dir = Path(tempfile.mkdtemp(prefix="am-sup-"))  # short: a socket path takes at most 107 bytes
        self.env = s.engine_env(
            ROOT=str(s.ROOT), LOG_DIR=str(log_dir), RUN_DIR=str(self.run_dir), WORKER_PROCESSES=str(workers),
            WORKER_THREADS=str(threads),
            SMTP_HOST="127.0.0.1", SMTP_PORT=str(_free_port()), API_PORT=str(_free_port()),
            SIMULATOR_PORT=str(_free_port()), SIMULATOR_KAFKA="false",
            PATH=f"{s.BIN}{os.pathsep}{os.environ.get('PATH', '')}", **env)
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> "Supervisor":
        out = open(self.log_dir / "supervisord.out", "wb")  # noqa: SIM115
        self.proc = subprocess.Popen([sys.executable, "-m", "supervisor.supervisord", "-c", str(CONF)], cwd=s.ROOT,
                                     env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        out.close()
        s.wait_for(lambda: self.all_running(), timeout, what="every supervised program RUNNING", interval=0.2)
        return self

    def ctl(self, *args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "supervisor.supervisorctl", "-c", str(CONF), *args],
                              env=self.env, capture_output=True, text=True, timeout=60)
        return done.stdout

    def status(self) -> dict[str, tuple[str, int]]:
        """program → (state, pid); pid 0 when not running."""
        out: dict[str, tuple[str, int]] = {}
        for line in self.ctl("status").splitlines():
            parts = line.split()
            if len(parts) >= 2:
                pid = int(parts[3].rstrip(",")) if len(parts) > 3 and parts[2] == "pid" else 0
                out[parts[0]] = (parts[1], pid)
        return out

    def all_running(self) -> bool:
        states = self.status()
        return bool(states) and all(state == "RUNNING" for name, (state, _) in states.items()
                                    if not name.startswith("demo-traffic"))

    def pid(self, program: str) -> int:
        return self.status().get(program, ("", 0))[1]

    def worker_process(self, program: str) -> int:
        """The Dramatiq worker process (the one walking batches) under `program`'s `dramatiq` parent."""
        children = psutil.Process(self.pid(program)).children()
        assert len(children) == 1, children
        return children[0].pid

    def log(self) -> str:
        return (self.log_dir / "supervisord.log").read_text(errors="replace")

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}"
                         for p in sorted(self.log_dir.glob("*.log")))

    def shutdown(self) -> None:
        """`supervisorctl shutdown`, as run.sh's exit does: every program stopped, then supervisord exits."""
        if self.proc is None:
            return
        self.ctl("shutdown")
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, 9)
            self.proc.wait(10)
        self.proc = None
        shutil.rmtree(self.run_dir, ignore_errors=True)


@dataclass
class Sampler:
    """Samples Redis every `interval` s while a round runs: which process (pid in the claim token) claimed each
    batch and when first, and every Dramatiq consumer's heartbeat age (ms) with the broker ids that had acks."""

    r: redis.Redis
    interval: float = 0.02
    claims: dict[str, dict[int, float]] = field(default_factory=dict)  # batch → pid → first seen (monotonic)
    ages: dict[str, list[tuple[float, float]]] = field(default_factory=dict)  # broker id → [(epoch ms, age ms)]
    last_beat: dict[str, float] = field(default_factory=dict)  # broker id → last heartbeat (epoch ms)
    consumers: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "Sampler":
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(10)

    def held_by(self, pid: int) -> set[str]:
        """Batches whose claim is held by `pid` right now."""
        return {batch for batch, holder in self.read_claims().items() if holder == pid}

    def read_claims(self) -> dict[str, int]:
        keys = list(self.r.scan_iter("claim:*", count=1000))
        tokens = self.r.mget(keys) if keys else []
        return {k.decode().split(":", 2)[2]: int(t.decode().split(":")[1]) for k, t in zip(keys, tokens, strict=True)
                if t}

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            now = time.monotonic()
            for batch, pid in self.read_claims().items():
                self.claims.setdefault(batch, {}).setdefault(pid, now)
            for key in self.r.scan_iter(f"{ACKS}*", count=1000):
                self.consumers.add(key.decode()[len(ACKS):].split(".", 1)[0])
            wall_ms = time.time() * 1000
            for member, score in self.r.zrange(HEARTBEATS, 0, -1, withscores=True):
                broker_id = member.decode()
                self.last_beat[broker_id] = score
                self.ages.setdefault(broker_id, []).append((wall_ms, wall_ms - score))

    def walked_again(self, batches: set[str], dead_pid: int, since: float) -> dict[str, float]:
        """For each batch, seconds from `since` until a process other than `dead_pid` was seen claiming it."""
        out = {}
        for batch in batches:
            later = [t for pid, t in self.claims.get(batch, {}).items() if pid != dead_pid and t >= since]
            if later:
                out[batch] = min(later) - since
        return out

    def live_silences(self) -> list[float]:
        """Heartbeat ages (ms) of consumers that beat again afterwards: how long a live worker was silent. The
        last silence of a process that died or stopped never ends, so it is not among them."""
        return [age for broker_id in self.consumers for wall, age in self.ages.get(broker_id, [])
                if wall < self.last_beat.get(broker_id, 0)]
