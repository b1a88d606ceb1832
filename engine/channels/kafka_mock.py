"""A real Kafka-protocol broker that runs anywhere: librdkafka's built-in mock cluster.

librdkafka (bundled in the confluent-kafka wheel) starts an in-process mock cluster when a client is created
with `test.mock.num.brokers`; its brokers listen on loopback TCP ports and speak the real Kafka protocol
(produce, fetch, metadata, consumer groups), so any other client — our `KafkaChannel`, a Consumer in a test —
connects to it like to a real cluster. confluent-kafka 2.16 has no Python API for the mock cluster, so the
address is read from the log line librdkafka writes when it starts ("... replaced with <bootstraps>").
The cluster lives as long as this object; used by the tests and hosted by the provider simulator for dev.
"""

import logging
import re
import threading
import time

from confluent_kafka import Producer

_BOOTSTRAPS = re.compile(r"replaced with (\S+)")


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.bootstrap_servers: str | None = None
        self.found = threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        match = _BOOTSTRAPS.search(record.getMessage())
        if match and not self.found.is_set():
            self.bootstrap_servers = match.group(1)
            self.found.set()


class MockKafkaCluster:
    def __init__(self, num_brokers: int = 1, timeout: float = 10.0) -> None:
        self._capture = _Capture()
        logger = logging.getLogger(f"{__name__}.{id(self)}")
        logger.propagate = False
        logger.setLevel(logging.INFO)
        logger.addHandler(self._capture)
        self._logger = logger
        self._holder: Producer | None = Producer({
            "test.mock.num.brokers": num_brokers,
            "logger": logger,
            "log_level": 6,
        })
        deadline = time.monotonic() + timeout
        while not self._capture.found.is_set() and time.monotonic() < deadline:
            self._holder.poll(0.05)
        if self._capture.bootstrap_servers is None:
            self.close()
            raise RuntimeError("librdkafka did not report the mock cluster's address")
        self.bootstrap_servers: str = self._capture.bootstrap_servers

    def close(self) -> None:
        holder, self._holder = self._holder, None
        if holder is not None:
            holder.close()
        self._logger.removeHandler(self._capture)

    def __enter__(self) -> "MockKafkaCluster":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
