"""Push Kafka: a real librdkafka producer (confluent-kafka). One record per customer, then flush.

- Topic: `message.to` (the node's topic). Brokers: `options["bootstrap_servers"]` (the node's config), else
  KAFKA_BOOTSTRAP_SERVERS. The value "simulator" means the librdkafka mock cluster hosted by the provider
  simulator (its address is asked from `{PROVIDER_URL}/admin/kafka`), so dev and demo need no Kafka install.
- Key: the customer's QAID (`data["qaid"]`) or else the customer id — a customer's records stay in order on
  one partition. Value: the JSON object the webhook sends (`id` = dedupe key, record/node/customer ids, data).
  Header `dedupe_key` carries the dedupe key. The producer is idempotent (acks=all, no duplicates on retry).
- Delivery callbacks decide: acknowledged → SUCCESS (provider id `topic/partition@offset`), error → FAILED
  with librdkafka's reason; a record still unacknowledged after KAFKA_MESSAGE_TIMEOUT_MS (brokers down) is
  FAILED by librdkafka's own timeout. Extra producer settings (security, SASL) come from
  `options["kafka_config"]`. Producers are kept per broker list and shared by threads. Never raises.
- Outbound fence (engine/outbound.py): the bootstrap servers are checked after DNS resolution before a producer
  is made, and the brokers the cluster advertises (its metadata) before the first record goes out: a refused
  address fails the sends with "address not allowed: …", never retried. librdkafka resolves and connects by
  itself (confluent-kafka offers no connect hook), so unlike HTTP the checked address cannot be pinned: an
  internal Kafka cluster is reached only when allow-listed. "simulator" is the admin's dev setting (the
  simulator's own mock cluster on loopback) and is trusted.
"""

import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
from confluent_kafka import KafkaError, KafkaException, Producer

from engine.channels.base import Message, Proceed, SendResult, SendStatus, go_on, stopped_results
from engine.channels.webhook import payload_of
from engine.outbound import AddressNotAllowed, Fence, split_server
from engine.secrets import SecretUnavailable, revealed
from engine.settings import Settings, get_settings

log = logging.getLogger(__name__)

SIMULATOR = "simulator"
PROCEED_EVERY = 500  # produce() only queues locally; the stop is asked once per this many records


def security_config(s: Settings) -> dict[str, Any]:
    """The producer's security settings from KAFKA_SECURITY_PROTOCOL / KAFKA_SASL_* (or a workspace's stored
    ones): only those set, so an unset one keeps librdkafka's default."""
    conf = {"security.protocol": s.kafka_security_protocol, "sasl.mechanism": s.kafka_sasl_mechanism,
            "sasl.username": s.kafka_sasl_username, "sasl.password": s.kafka_sasl_password}
    return {key: value for key, value in conf.items() if value}


class KafkaChannel:
    name = "push_kafka"

    def __init__(self, *, bootstrap_servers: str = SIMULATOR, message_timeout_ms: int = 15000,
                 client_id: str = "automated-marketing", simulator_url: str = "http://127.0.0.1:8200",
                 config: dict[str, Any] | None = None, fence: Fence | None = None) -> None:
        self.bootstrap_servers = bootstrap_servers
        self.message_timeout_ms = message_timeout_ms
        self.client_id = client_id
        self.simulator_url = simulator_url.rstrip("/")
        self.config = dict(config or {})
        self.fence = fence or Fence()
        self._producers: dict[tuple[str, str], Producer] = {}
        self._vetted: set[int] = set()  # producers whose cluster's advertised brokers passed the fence
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> "KafkaChannel":
        s = settings or get_settings()
        return cls(bootstrap_servers=s.kafka_bootstrap_servers, message_timeout_ms=s.kafka_message_timeout_ms,
                   client_id=s.kafka_client_id, simulator_url=s.provider_url, config=security_config(s))

    def resolve(self, bootstrap_servers: str) -> str:
        """Broker list to connect to ("simulator" → the simulator's mock cluster)."""
        if bootstrap_servers.strip().lower() != SIMULATOR:
            return bootstrap_servers
        try:
            response = httpx.get(f"{self.simulator_url}/admin/kafka", timeout=5.0)
            response.raise_for_status()
            servers = response.json().get("bootstrap_servers")
        except (httpx.HTTPError, ValueError) as exc:
            raise RuntimeError(f"Kafka mock cluster of the simulator unavailable ({exc})") from exc
        if not servers:
            raise RuntimeError("the simulator hosts no Kafka mock cluster (SIMULATOR_KAFKA is off)")
        return str(servers)

    def check_servers(self, servers: str) -> None:
        """AddressNotAllowed unless every bootstrap server passes the fence (after DNS resolution)."""
        for server in servers.split(","):
            if server.strip():
                try:
                    host, port = split_server(server)
                except ValueError:
                    continue  # librdkafka refuses it with its own words
                self.fence.check(host, port)

    def vet_brokers(self, producer: Producer) -> None:
        """Check the brokers the cluster advertises (once per producer, when its metadata can be read): a
        public bootstrap must not point the producer at internal brokers."""
        if id(producer) in self._vetted:
            return
        try:
            metadata = producer.list_topics(timeout=min(2.0, self.message_timeout_ms / 1000))
        except KafkaException:
            return  # brokers unreachable: nothing is delivered anyway; checked again with the next batch
        for broker in metadata.brokers.values():
            self.fence.check(broker.host, int(broker.port))
        self._vetted.add(id(producer))

    def producer(self, bootstrap_servers: str, extra: dict[str, Any] | None = None) -> Producer:
        extra = extra or {}
        key = (bootstrap_servers, json.dumps(extra, sort_keys=True, default=str))
        with self._lock:
            producer = self._producers.get(key)
            if producer is None:
                conf: dict[str, Any] = {
                    "bootstrap.servers": bootstrap_servers,
                    "client.id": self.client_id,
                    "enable.idempotence": True,
                    "linger.ms": 5,
                    "message.timeout.ms": self.message_timeout_ms,
                    "log_level": 4,
                    "logger": logging.getLogger("engine.channels.kafka.librdkafka"),
                }
                conf.update(self.config)
                conf.update(extra)
                producer = Producer(conf)
                self._producers[key] = producer
            return producer

    def close(self) -> None:
        with self._lock:
            producers, self._producers = list(self._producers.values()), {}
            self._vetted.clear()
        for producer in producers:
            producer.purge()
            producer.flush(1.0)

    @staticmethod
    def record_key(message: Message) -> str:
        return str(message.data.get("qaid") or message.customer_id)

    def _send_group(self, servers: str, extra: dict[str, Any], messages: list[Message],
                    proceed: Proceed = go_on) -> list[SendResult]:
        fenced = servers.strip().lower() != SIMULATOR
        try:
            if fenced:
                self.check_servers(servers)
            producer = self.producer(self.resolve(servers), extra)
            if fenced:
                self.vet_brokers(producer)
        except AddressNotAllowed as refused:  # before any record is produced: FAILED, never retried
            return [SendResult(m.customer_id, SendStatus.FAILED, reason=str(refused)) for m in messages]
        except (KafkaException, RuntimeError, ValueError, TypeError) as exc:
            reason = f"Kafka producer unavailable: {exc}"
            return [SendResult(m.customer_id, SendStatus.FAILED, reason=reason) for m in messages]
        outcomes: dict[int, SendResult] = {}
        timeout_s = int(extra.get("message.timeout.ms") or self.message_timeout_ms) / 1000
        timed_out = f"Kafka did not acknowledge within {timeout_s:g}s (brokers {servers} unreachable?)"

        def on_delivery(index: int, customer_id: int) -> Callable[[KafkaError | None, Any], None]:
            def callback(err: KafkaError | None, record: Any) -> None:
                if err is not None:
                    reason = timed_out if err.code() == KafkaError._MSG_TIMED_OUT else f"Kafka: {err.str()}"
                    outcomes[index] = SendResult(customer_id, SendStatus.FAILED, reason=reason)
                else:
                    where = f"{record.topic()}/{record.partition()}@{record.offset()}"
                    outcomes[index] = SendResult(customer_id, SendStatus.SUCCESS, provider_message_id=where)
            return callback

        for index, m in enumerate(messages):
            if index % PROCEED_EVERY == 0 and not proceed():  # stopped: nothing more is produced
                for later in range(index, len(messages)):
                    outcomes[later] = stopped_results([messages[later]])[0]
                break
            topic = m.to or str(m.options.get("topic") or "")
            if not topic:
                outcomes[index] = SendResult(m.customer_id, SendStatus.FAILED, reason="no Kafka topic")
                continue
            value = json.dumps(payload_of(m), separators=(",", ":"), ensure_ascii=False, default=str).encode()
            while True:
                try:
                    producer.produce(topic, key=self.record_key(m).encode(), value=value,
                                     headers=[("dedupe_key", m.dedupe_key.encode())],
                                     on_delivery=on_delivery(index, m.customer_id))
                    break
                except BufferError:  # local queue full: let deliveries drain, then go on
                    producer.poll(0.1)
                except (KafkaException, TypeError, ValueError) as exc:
                    outcomes[index] = SendResult(m.customer_id, SendStatus.FAILED, reason=f"Kafka: {exc}")
                    break
            producer.poll(0)
        wait = timeout_s + 5.0
        deadline = time.monotonic() + wait
        while len(outcomes) < len(messages) and time.monotonic() < deadline:
            producer.flush(min(1.0, max(0.0, deadline - time.monotonic())))
        reason = f"Kafka did not acknowledge within {wait:.0f}s"
        return [outcomes.get(i) or SendResult(m.customer_id, SendStatus.FAILED, reason=reason)
                for i, m in enumerate(messages)]

    def send_batch(self, messages: list[Message], proceed: Proceed = go_on) -> list[SendResult]:
        groups: dict[tuple[str, str], list[Message]] = {}
        results: list[SendResult] = []
        for m in messages:
            servers = str(m.options.get("bootstrap_servers") or self.bootstrap_servers)
            try:  # the SASL password is resolved here, for the producer only (engine/secrets.py)
                extra = revealed(m.options.get("kafka_config") or {})
            except SecretUnavailable as err:
                results.append(SendResult(m.customer_id, SendStatus.FAILED, reason=f"Kafka: {err}"))
                continue
            groups.setdefault((servers, json.dumps(extra, sort_keys=True, default=str)), []).append(m)
        for (servers, extra_json), group in groups.items():
            try:
                results.extend(self._send_group(servers, json.loads(extra_json), group, proceed))
            except Exception as exc:  # never the worker
                reason = f"Kafka error: {type(exc).__name__}: {exc}"
                results.extend(SendResult(m.customer_id, SendStatus.FAILED, reason=reason) for m in group)
        return results
