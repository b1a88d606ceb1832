"""Run the simulator: in the foreground (`python -m engine.simulator`) or in a thread (tests, embedding)."""

import logging
import threading
import time

import uvicorn

from engine.channels.kafka_mock import MockKafkaCluster
from engine.simulator.app import create_app
from engine.simulator.state import SimConfig, Simulator

log = logging.getLogger("engine.simulator")


class SimulatorServer:
    """The simulator on a uvicorn server. `port=0` picks a free port (read `.url` after `start()`).
    With `kafka=True` it also hosts a librdkafka mock cluster (GET /admin/kafka gives its address)."""

    def __init__(self, config: SimConfig | None = None, *, host: str = "127.0.0.1", port: int = 0,
                 kafka: bool = False) -> None:
        self._kafka = None
        bootstrap = None
        if kafka:
            self._kafka = MockKafkaCluster()
            bootstrap = self._kafka.bootstrap_servers
        self.simulator = Simulator(config or SimConfig.from_settings(), kafka_bootstrap_servers=bootstrap)
        self.app = create_app(self.simulator)
        self.host = host
        self.server = uvicorn.Server(uvicorn.Config(self.app, host=host, port=port, log_level="warning",
                                                    access_log=False, lifespan="on"))
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self.server.servers[0].sockets[0].getsockname()[1])

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def run(self) -> None:
        """Serve in this thread until interrupted."""
        try:
            self.server.run()
        finally:
            self._close_kafka()

    def start(self, timeout: float = 10.0) -> "SimulatorServer":
        self._thread = threading.Thread(target=self.server.run, name="provider-simulator", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("provider simulator did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None
        self._close_kafka()

    def _close_kafka(self) -> None:
        if self._kafka is not None:
            self._kafka.close()
            self._kafka = None

    def __enter__(self) -> "SimulatorServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
