"""A redis-server of a test's own, run as the run command runs it (scripts/redis.sh REDIS_ARGS: append-only file,
fsync every second), that a test can stop cleanly, SIGKILL, wipe (restart EMPTY) and start again on the same
port and files."""

import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parent.parent


def production_args() -> list[str]:
    """The persistence flags of scripts/redis.sh (one source: what the run command uses is what is tested)."""
    text = (ROOT / "scripts" / "redis.sh").read_text()
    found = re.search(r"^REDIS_ARGS=\((.*)\)$", text, re.MULTILINE)
    assert found, "scripts/redis.sh defines REDIS_ARGS=(...)"
    return found.group(1).split()


class RedisProcess:
    def __init__(self, directory: Path, port: int, *, persistent: bool = True) -> None:
        self.dir, self.port, self.persistent = directory, port, persistent
        self.proc: subprocess.Popen | None = None
        self.url = f"redis://127.0.0.1:{port}/0"

    def start(self) -> "RedisProcess":
        exe = shutil.which("redis-server")
        assert exe, "redis-server is not installed (scripts/setup.sh installs it)"
        self.dir.mkdir(parents=True, exist_ok=True)
        args = production_args() if self.persistent else ["--appendonly", "no"]
        self.proc = subprocess.Popen([exe, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir),
                                      "--save", "", *args], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        client = redis.Redis(port=self.port)
        for _ in range(400):
            try:
                if client.ping():
                    return self
            except (redis.ConnectionError, redis.BusyLoadingError):
                time.sleep(0.025)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        """A clean shutdown (SIGTERM): Redis writes its append-only file first."""
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(15)
            self.proc = None

    def appended(self, text: bytes) -> bool:
        """Whether the append-only file holds `text` (e.g. a key or id a write just made). With fsync every second
        Redis may hold a write back for up to 2 s while the disk is busy (a loaded CI machine), and a SIGKILL then
        loses it: a test whose point is what survives a restart waits for this before it kills."""
        files = (self.dir / "appendonlydir").glob("*.aof")
        return any(text in path.read_bytes() for path in files)

    def kill(self) -> None:
        """SIGKILL: no shutdown work at all."""
        if self.proc is not None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(15)
            self.proc = None

    def wipe(self) -> None:
        """Delete the data files (stopped server): the next start is EMPTY, as a Redis without persistence."""
        assert self.proc is None, "stop or kill the server first"
        shutil.rmtree(self.dir / "appendonlydir", ignore_errors=True)
        (self.dir / "dump.rdb").unlink(missing_ok=True)
