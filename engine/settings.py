"""Configuration from the environment, with defaults that run on one machine.

Changing only DATABASE_URL (e.g. to PostgreSQL) and REDIS_URL moves the platform to shared servers.
"""

from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    database_url: str = f"sqlite:///{PROJECT_ROOT / 'data' / 'marketing.db'}"
    redis_url: str = "redis://127.0.0.1:6379/0"
    default_in_progress_cap: int = 100
    # Secret fields of component configs (webhook secret / credential headers, Kafka SASL password) are stored
    # encrypted with this Fernet key (comma-separated: the first encrypts, all decrypt, for rotation). Unset: a
    # key generated at first start into SECRETS_KEY_FILE (one machine); set it on every host of a shared DB.
    secrets_key: str = ""
    secrets_key_file: str = str(PROJECT_ROOT / "data" / "secrets.key")
    session_days: int = 14

    # --- Channels (engine/channels): every default runs on one machine ---------------------------------
    # Email over SMTP: connections kept between batches (channels/email.py); STARTTLS, TLS, login when set.
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 8025
    smtp_username: str = ""  # empty = no AUTH
    smtp_password: str = ""
    smtp_starttls: bool = False
    smtp_ssl: bool = False  # implicit TLS (port 465 style); takes precedence over STARTTLS
    smtp_timeout: float = 10.0
    smtp_max_attempts: int = 3  # connection attempts per batch
    email_from: str = "Marketing <marketing@example.com>"
    # Envelope recipients per SMTP transaction for messages whose rendered content is identical (no per-customer
    # variables): 1 = one transaction per customer (To: the customer); up to 100 is what RFC 5321 relays must
    # accept, the usual setting of a bulk mailer (To: undisclosed-recipients).
    smtp_max_recipients: int = 1
    smtp_concurrency: int = 4  # SMTP connections a batch is spread over (each command waits on the server)
    # Webhook (httpx): retries on timeouts / 5xx / 408 / 429 / connection errors, 4xx fails at once.
    webhook_timeout: float = 5.0
    webhook_max_attempts: int = 3
    webhook_backoff: float = 0.2  # seconds before the 2nd attempt, doubled each time
    webhook_backoff_max: float = 5.0
    webhook_secret: str = ""  # used when the node has no secret of its own; empty = no X-Signature
    webhook_batch_size: int = 1  # 1 = one POST per customer; >1 = JSON arrays of up to N customers
    webhook_concurrency: int = 8  # parallel POSTs within one batch
    # Outbound fence (engine/outbound.py): webhooks and Kafka brokers never reach loopback / private / link-local /
    # metadata addresses unless allow-listed here (comma list of host, host:port, address[:port], CIDR) or in the
    # admin's allow-list table. E.g. OUTBOUND_ALLOW=127.0.0.1:8099,crm.internal,10.20.0.0/16
    outbound_allow: str = ""
    # SMS / digital SMS / WeChat / template message / app push providers (one JSON protocol, see provider.py)
    provider_url: str = "http://127.0.0.1:8200"
    provider_api_key: str = ""  # sent as "Authorization: Bearer ..." when set
    provider_timeout: float = 10.0
    provider_max_attempts: int = 3
    provider_backoff: float = 0.2
    provider_backoff_max: float = 5.0
    provider_batch_size: int = 1000  # messages per provider request
    # Push Kafka: a real librdkafka producer; "simulator" = the mock cluster the provider simulator hosts.
    kafka_bootstrap_servers: str = "simulator"
    kafka_message_timeout_ms: int = 15000  # a record not acknowledged by then is FAILED
    kafka_client_id: str = "automated-marketing"
    # Producer security for every Push Kafka component (a component's own SASL settings take precedence); empty =
    # librdkafka's defaults (PLAINTEXT, no SASL). Settings → Channels overrides these per workspace.
    kafka_security_protocol: str = ""  # PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL
    kafka_sasl_mechanism: str = ""  # PLAIN, SCRAM-SHA-256, SCRAM-SHA-512
    kafka_sasl_username: str = ""
    kafka_sasl_password: str = ""
    # The provider simulator (python -m engine.simulator)
    simulator_host: str = "127.0.0.1"
    simulator_port: int = 8200
    simulator_success_rate: float = 0.90  # receipt "delivered"
    simulator_failure_rate: float = 0.05  # receipt "failed"; the rest never gets a receipt
    simulator_reject_rate: float = 0.0  # refused synchronously in the send response
    simulator_receipt_delay: float = 2.0  # seconds between accepting a message and POSTing its receipt
    simulator_seed: str = "sim"  # outcome = hash(seed, message id): same ids, same outcomes
    simulator_keep_bodies: int = 100_000  # keep to/body of the first N messages for inspection
    simulator_kafka: bool = True  # host a librdkafka mock cluster (GET /admin/kafka gives its bootstrap)
    receipt_callback_url: str = "http://127.0.0.1:8100/api/v1/receipts"
    # POST /api/v1/receipts always needs "Authorization: Bearer <token>": this value, else the token generated at
    # first start into RECEIPT_TOKEN_FILE (engine/receipt_token.py), which the simulator reads too.
    receipt_callback_token: str = ""
    receipt_token_file: Path = PROJECT_ROOT / "data" / "receipt_token"

    # --- Execution runtime (engine/runtime) -------------------------------------------------------------------
    engine_batch_size: int = 2000  # customers per entry batch (one Dramatiq message carries it through the flow)
    # A killed worker's batches are walked again ~DRAMATIQ_HEARTBEAT_TIMEOUT_MS after its death (engine/runtime/
    # broker.py explains the three numbers). A live worker heartbeats with every broker command (its idle
    # consumers poll every ENGINE_POLL_MS), so 10 s of silence is a dead or frozen process, never a busy one;
    # the claim (refreshed every third of its TTL by its own thread) lapses before the redelivery arrives.
    engine_claim_ttl_ms: int = 5000  # a batch being worked on is claimed; a dead worker's claim expires after this
    dramatiq_heartbeat_timeout_ms: int = 10000  # a worker silent this long is dead: its messages are redelivered
    dramatiq_maintenance_chance: int = 100_000  # per million broker commands, how often to look for dead workers
    engine_poll_ms: int = 50  # an idle worker polls the walks' queue at least this often (dead-worker pass)
    engine_quiet_poll_ms: int = 500  # ... and its other queues (rounds, crowds): an enqueue wakes them at once
    engine_stall_s: float = 60.0  # a round whose pending batches did not change this long is checked for lost ones
    scheduler_lease_ms: int = 5000  # one scheduler acts at a time; a killed one's lease lapses after this

    # --- HTTP API (python -m engine.api): behaviour events, audience CSV import, provider receipts ---------
    api_host: str = "127.0.0.1"
    api_port: int = 8100
    api_max_batch: int = 1000  # events (or receipts) per request; more is refused with 413
    api_max_body_bytes: int = 4_000_000  # JSON bodies (events, receipts); more is refused with 413
    api_max_csv_bytes: int = 200_000_000  # audience CSV uploads (~1M rows of QAIDs with a few columns)
    # where clients reach the API (Settings → API keys links its OpenAPI document, API_PUBLIC_URL + "/docs")
    api_public_url: str = "http://127.0.0.1:8100"
    short_link_base: str = "http://127.0.0.1:8100/s"  # Text SMS {short_link}: GET /s/{code} counts and redirects
    # Per API key: at most API_RATE_LIMIT requests per API_RATE_WINDOW_S seconds (a fixed window in Redis), more is
    # answered 429 with Retry-After; 0 = no limit. Receipts (providers' token) are not limited.
    api_rate_limit: int = 1000
    api_rate_window_s: int = 1
    # Segment-compatible API (engine/services/segment.py): messageIds remembered this long (SDKs retry for up to
    # 12 h), events of never-identified anonymousIds kept this long
    segment_dedupe_hours: int = 24
    anonymous_event_days: int = 30


@lru_cache
def get_settings() -> Settings:
    return Settings()
