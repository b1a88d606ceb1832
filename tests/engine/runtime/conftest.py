"""A real engine for integration tests: a real redis-server, the RedisBroker, real Dramatiq worker threads,
the scheduler object, the provider simulator and loopback SMTP / HTTP / Kafka peers."""

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import dramatiq
import httpx
import pytest
import uvicorn
from dramatiq.brokers.redis import RedisBroker

from engine import clock
from engine.channels.registry import reset_channels
from engine.runtime.connection import get_redis
from engine.runtime.store import RoundStore
from engine.settings import get_settings
from engine.simulator import SimConfig, SimulatorServer
from tests.engine.channels.helpers import allow_outbound, free_port


class TestClock:
    """A clock tests move by hand; the engine reads it through engine.clock."""

    def __init__(self) -> None:
        self.at = datetime.now(clock.now().tzinfo)

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **kw: float) -> None:
        self.at += timedelta(**kw)


@dataclass
class Engine:
    broker: RedisBroker
    worker: dramatiq.Worker
    scheduler: object
    store: RoundStore
    clock: TestClock

    def run_until(self, done, *, timeout: float = 60.0, tick: bool = True) -> None:  # noqa: ANN001
        """Drive the scheduler and let the workers work until `done()` holds."""
        import time

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if tick:
                self.scheduler.tick()  # type: ignore[attr-defined]
            self.broker.join("rounds", timeout=int(timeout * 1000))
            self.broker.join("steps", timeout=int(timeout * 1000))
            self.worker.join()
            if done():
                return
            time.sleep(0.05)
        raise AssertionError("the engine did not get there in time")


@pytest.fixture
def engine(database: str, redis_url: str, monkeypatch: pytest.MonkeyPatch, simulator, smtp_server, http_sink,
           kafka_cluster) -> Iterator[Engine]:
    monkeypatch.setenv("PROVIDER_URL", simulator.url)
    monkeypatch.setenv("SMTP_HOST", smtp_server.host)
    monkeypatch.setenv("SMTP_PORT", str(smtp_server.port))
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", kafka_cluster.bootstrap_servers)
    allow_outbound(monkeypatch, kafka_cluster.bootstrap_servers)  # the loopback mock cluster (http_sink: itself)
    monkeypatch.setenv("WEBHOOK_BACKOFF", "0.01")
    get_settings.cache_clear()
    reset_channels()
    from engine import actors
    from engine.scheduler import Scheduler

    broker = RedisBroker(url=redis_url)
    actors.rebind(broker)
    test_clock = TestClock()
    clock.set_clock(test_clock)
    store = RoundStore(get_redis())
    worker = dramatiq.Worker(broker, worker_threads=4, worker_timeout=50)
    worker.start()
    scheduler = Scheduler(dispatch=actors.begin_round.send, resume=actors.resume_waiting, store=store)
    yield Engine(broker=broker, worker=worker, scheduler=scheduler, store=store, clock=test_clock)
    worker.stop()
    broker.close()
    clock.set_clock(None)
    reset_channels()


@pytest.fixture
def sim() -> Iterator[SimulatorServer]:
    """The provider simulator for the process tests (faults, scale-out): every send answered after 0.1 s, so
    walks overlap, every worker gets some and a killed worker dies while providers hold its messages; receipts
    far in the future, so the counters of two runs stay comparable."""
    server = SimulatorServer(SimConfig(receipt_delay=3600, callback_url="http://127.0.0.1:9/receipts",
                                       response_delay=0.1)).start()
    yield server
    server.stop()


@pytest.fixture
def api(engine):
    """The API as the run command serves it (runtime hooks installed), on a real uvicorn server."""
    from engine.api.app import create_app, install_hooks

    uninstall = install_hooks()
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            httpx.get(f"{url}/health")
            break
        except httpx.TransportError:
            time.sleep(0.05)
    yield url
    server.should_exit = True
    thread.join(10)
    uninstall()
