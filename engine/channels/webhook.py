"""Webhook: HTTP POST of JSON to the node's URL (message.to), signed, idempotent, retried with backoff.

Wire format (documented for receivers):
- One POST per customer by default (`batch_size` 1 — what most receivers expect):
  `{"id": "<record>:<node>:<customer>", "record_id", "node_id", "customer_id", "data": {...}}`
  (+ "subject"/"body" when the message has them).
- With `batch_size` > 1 (node option or WEBHOOK_BATCH_SIZE) a POST carries up to N customers:
  `{"items": [<the object above>, ...]}`; the whole POST succeeds or fails together.
- Headers: `X-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>` (Stripe's scheme,
  engine/channels/signature.py; omitted when no secret is configured): a receiver refuses signatures older than
  5 minutes, so a captured request cannot be replayed. `Idempotency-Key: <dedupe key>` (batched:
  `batch-<sha256 of the item ids>`), the same on every attempt and every later re-send of that delivery, so a
  receiver drops what it already has; plus any `headers` from the node's options.
- Outbound fence (engine/outbound.py): every connection — first request, redirect hop, reconnect — goes only to
  an address checked after DNS resolution; a refused one is FAILED "address not allowed: …", never retried.
  Redirects 301/302/307/308 are followed (at most 5 hops) re-POSTing the same signed body; headers from the
  node's options are dropped when a hop leaves the origin (they were meant for that receiver only).
- 2xx = SUCCESS. Timeouts, connection errors, 408/429/5xx are retried with exponential backoff
  (WEBHOOK_MAX_ATTEMPTS, default 3), then FAILED "HTTP 503 after 3 attempts"; other 4xx FAILED at once.
"""

import hashlib
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from engine.channels import signature
from engine.channels.base import Message, Proceed, SendResult, SendStatus, go_on, stopped_results
from engine.channels.redirects import FollowRedirects
from engine.channels.retry import RetryPolicy, post_with_retries
from engine.channels.wire import dumps
from engine.outbound import AddressNotAllowed, Fence, FencedTransport
from engine.secrets import revealed
from engine.settings import Settings, get_settings

SIGNATURE_HEADER = signature.HEADER
IDEMPOTENCY_HEADER = "Idempotency-Key"
#: what a redirect to another origin keeps; the node's own headers (Authorization, …) stay with their receiver
PLATFORM_HEADERS = frozenset({"content-type", "user-agent", SIGNATURE_HEADER.lower(), IDEMPOTENCY_HEADER.lower()})


def payload_of(message: Message, key: str | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": message.dedupe_key if key is None else key,
        "record_id": message.record_id,
        "node_id": message.node_id,
        "customer_id": message.customer_id,
        "data": message.data,
    }
    if message.subject:
        item["subject"] = message.subject
    if message.body:
        item["body"] = message.body
    return item


def _dumps(obj: Any) -> bytes:
    return dumps(obj)


class WebhookChannel:
    name = "webhook"

    def __init__(self, *, timeout: float = 5.0, max_attempts: int = 3, backoff: float = 0.2,
                 backoff_max: float = 5.0, secret: str = "", batch_size: int = 1, concurrency: int = 8,
                 fence: Fence | None = None) -> None:
        self.timeout = timeout
        self.policy = RetryPolicy(max_attempts=max_attempts, backoff=backoff, backoff_max=backoff_max)
        self.secret = secret
        self.batch_size = max(1, batch_size)
        self.concurrency = max(1, concurrency)
        self._client: httpx.Client | None = None
        self.fence = fence or Fence()  # OUTBOUND_ALLOW + the admin's table, the system resolver
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> "WebhookChannel":
        s = settings or get_settings()
        return cls(timeout=s.webhook_timeout, max_attempts=s.webhook_max_attempts, backoff=s.webhook_backoff,
                   backoff_max=s.webhook_backoff_max, secret=s.webhook_secret, batch_size=s.webhook_batch_size,
                   concurrency=s.webhook_concurrency)

    @property
    def client(self) -> httpx.Client:
        with self._lock:
            if self._client is None:
                limits = httpx.Limits(max_connections=self.concurrency * 4, max_keepalive_connections=self.concurrency)
                transport = FollowRedirects(FencedTransport(self.fence, limits=limits),
                                            keep_on_new_origin=PLATFORM_HEADERS)
                self._client = httpx.Client(timeout=self.timeout, transport=transport, trust_env=False,
                                            headers={"User-Agent": "automated-marketing-webhook/1"})
            return self._client

    def _executor(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="webhook")
            return self._pool

    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.shutdown(wait=True)
                self._pool = None
            if self._client is not None:
                self._client.close()
                self._client = None

    # -- sending ---------------------------------------------------------------------------------------
    def _groups(self, messages: list[Message]) -> list[list[Message]]:
        """Requests to make: one message each, or chunks of messages sharing URL and options."""
        if not messages:
            return []
        first = messages[0]
        options, to = first.options, first.to
        if all(m.options is options and m.to == to for m in messages):  # one component's batch: one target
            size = int(options.get("batch_size") or self.batch_size)  # the same chunks as below, by slicing
            if size <= 1:
                return [[m] for m in messages]
            return [messages[i:i + size] for i in range(0, len(messages), size)]
        by_target: dict[tuple[str, str], list[Message]] = {}
        groups: list[list[Message]] = []
        option_keys: dict[int, tuple[dict[str, Any], str]] = {}  # messages of a node share one options object
        for message in messages:
            size = int(message.options.get("batch_size") or self.batch_size)
            if size <= 1:
                groups.append([message])
                continue
            known = option_keys.get(id(message.options))
            if known is None or known[0] is not message.options:
                known = option_keys[id(message.options)] = (
                    message.options, json.dumps(message.options, sort_keys=True, default=str))
            key = (message.to, known[1])
            bucket = by_target.setdefault(key, [])
            bucket.append(message)
            if len(bucket) >= size:
                groups.append(bucket)
                by_target[key] = []
        groups.extend(bucket for bucket in by_target.values() if bucket)
        return groups

    def _post(self, group: list[Message]) -> list[SendResult]:
        first = group[0]
        options = revealed(first.options)  # the node's secrets, resolved for this request only (engine/secrets.py)
        if len(group) == 1 and int(options.get("batch_size") or self.batch_size) <= 1:
            body = _dumps(payload_of(first))
            idempotency_key = first.dedupe_key
        else:
            keys = [m.dedupe_key for m in group]  # formatted once: the items and the idempotency key use them
            body = _dumps({"items": [payload_of(m, key) for m, key in zip(group, keys, strict=True)]})
            ids = "\n".join(keys)
            idempotency_key = "batch-" + hashlib.sha256(ids.encode()).hexdigest()[:32]
        headers = {str(k): str(v) for k, v in (options.get("headers") or {}).items()}
        headers["Content-Type"] = "application/json"
        headers[IDEMPOTENCY_HEADER] = idempotency_key
        secret = options.get("secret") or self.secret
        if secret:
            headers[SIGNATURE_HEADER] = signature.sign(body, str(secret))
        policy = self.policy
        if options.get("max_attempts"):
            policy = RetryPolicy(max_attempts=int(options["max_attempts"]), backoff=policy.backoff,
                                 backoff_max=policy.backoff_max, sleep=policy.sleep)
        timeout = float(options["timeout"]) if options.get("timeout") else None
        try:
            outcome = post_with_retries(self.client, first.to, content=body, headers=headers, policy=policy,
                                        timeout=timeout)
        except AddressNotAllowed as refused:  # raised before connecting: counted FAILED, never retried
            return [SendResult(m.customer_id, SendStatus.FAILED, reason=str(refused)) for m in group]
        if outcome.ok:
            assert outcome.response is not None
            request_id = outcome.response.headers.get("x-request-id")
            success = SendStatus.SUCCESS
            return [SendResult(m.customer_id, success, None, request_id) for m in group]  # positional: cheaper
        return [SendResult(m.customer_id, SendStatus.FAILED, reason=outcome.error) for m in group]

    def _safe_post(self, group: list[Message], proceed: Proceed = go_on) -> list[SendResult]:
        if not proceed():  # the round was stopped: this POST never leaves
            return stopped_results(group)
        try:
            return self._post(group)
        except Exception as exc:  # a bad option must fail these sends, never the worker
            reason = f"webhook error: {type(exc).__name__}: {exc}"
            return [SendResult(m.customer_id, SendStatus.FAILED, reason=reason) for m in group]

    def send_batch(self, messages: list[Message], proceed: Proceed = go_on) -> list[SendResult]:
        results: list[SendResult] = []
        valid: list[Message] = []
        checked: dict[str, bool] = {}  # a component's messages share one URL: checked once
        for message in messages:
            usable = checked.get(message.to)
            if usable is None:
                usable = checked[message.to] = bool(message.to) and message.to.lower().startswith(("http://",
                                                                                                     "https://"))
            if not usable:
                results.append(SendResult(message.customer_id, SendStatus.FAILED,
                                          reason=f"invalid webhook URL: {message.to!r}"))
            else:
                valid.append(message)
        groups = self._groups(valid)
        if len(groups) <= 1:
            for group in groups:
                results.extend(self._safe_post(group, proceed))
            return results
        for group_results in self._executor().map(lambda group: self._safe_post(group, proceed), groups):
            results.extend(group_results)
        return results
