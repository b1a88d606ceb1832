"""One adapter for the HTTP message providers: Text SMS, Digital SMS, WeChat message, template message, APP PUSH.

The provider protocol (spoken by `engine.simulator`, and by a thin shim in front of a real gateway):

    POST {PROVIDER_URL}/v1/{channel}/send            Authorization: Bearer {PROVIDER_API_KEY} (when set)
    {"messages": [{"id": "<dedupe key>", "customer_id": 7, "to": "+8613800000000",
                   "subject": "", "body": "Hi Ann", "data": {...}}, ...],
     "callback_url": "<optional: where receipts go, overrides the provider's default>"}
    200 {"results": [{"id": "<dedupe key>", "status": "accepted" | "delivered" | "rejected",
                      "provider_id": "sim-…", "reason": "<when rejected>"}, ...]}

The message id is the dedupe key, so the provider can recognise a resent message (a retry after a timeout)
and must not deliver it twice. accepted → PENDING (the delivery receipt arrives later on the callback URL),
delivered → SUCCESS, rejected → FAILED with the provider's reason. Timeouts, connection errors, 408/429/5xx
are retried with exponential backoff (PROVIDER_MAX_ATTEMPTS); after that, or on another 4xx, every message
of the request is FAILED with the reason ("provider unavailable: HTTP 503 after 3 attempts"). Never raises.

What the provider received (asked by the runtime after a worker died between sending and storing the
answer, so it resends only what the provider never got):
    POST {PROVIDER_URL}/v1/{channel}/status      {"ids": ["<dedupe key>", ...]}
    200 {"results": [<the send answer of each id it knows>]}        (unknown ids are left out)

Receipts the provider POSTs later (to RECEIPT_CALLBACK_URL, batched):
    {"receipts": [{"id": "<dedupe key>", "provider_id": "sim-…", "channel": "text_sms",
                   "status": "delivered" | "failed", "reason": null | "…", "at": "<ISO-8601 UTC>"}, ...]}
"""

import json
import threading
from typing import Any

import httpx

from engine.channels.base import Message, Proceed, SendResult, SendStatus, go_on, stopped_results
from engine.channels.retry import RetryPolicy, post_with_retries
from engine.channels.wire import dumps, loads
from engine.settings import Settings, get_settings

PROVIDER_CHANNELS = ("text_sms", "digital_sms", "wechat_message", "template_message", "app_push")

MISSING_RECIPIENT = {
    "text_sms": "no phone number",
    "digital_sms": "no phone number",
    "wechat_message": "no WeChat open id",
    "template_message": "no WeChat open id",
    "app_push": "no push token",
}


def _wire(message: Message, key: str) -> dict[str, Any]:
    item: dict[str, Any] = {"id": key, "customer_id": message.customer_id, "to": message.to, "body": message.body}
    if message.subject:
        item["subject"] = message.subject
    if message.data:
        item["data"] = message.data
    return item


class ProviderChannel:
    def __init__(self, name: str, *, base_url: str = "http://127.0.0.1:8200", api_key: str = "",
                 timeout: float = 10.0, max_attempts: int = 3, backoff: float = 0.2, backoff_max: float = 5.0,
                 batch_size: int = 1000, callback_url: str | None = None, client: httpx.Client | None = None) -> None:
        if name not in PROVIDER_CHANNELS:
            raise ValueError(f"not a provider channel: {name}")
        self.name = name
        self.url = f"{base_url.rstrip('/')}/v1/{name}/send"
        self.api_key = api_key
        self.timeout = timeout
        self.policy = RetryPolicy(max_attempts=max_attempts, backoff=backoff, backoff_max=backoff_max)
        self.batch_size = max(1, batch_size)
        self.callback_url = callback_url
        self._client = client
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, name: str, settings: Settings | None = None) -> "ProviderChannel":
        s = settings or get_settings()
        return cls(name, base_url=s.provider_url, api_key=s.provider_api_key, timeout=s.provider_timeout,
                   max_attempts=s.provider_max_attempts, backoff=s.provider_backoff,
                   backoff_max=s.provider_backoff_max, batch_size=s.provider_batch_size)

    @property
    def client(self) -> httpx.Client:
        with self._lock:
            if self._client is None:
                self._client = httpx.Client(timeout=self.timeout,
                                            headers={"User-Agent": "automated-marketing-provider/1"})
            return self._client

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None

    def _send_chunk(self, chunk: list[Message]) -> list[SendResult]:
        keys = [m.dedupe_key for m in chunk]  # the message ids, formatted once: the request and the answers use them
        request: dict[str, Any] = {"messages": [_wire(m, key) for m, key in zip(chunk, keys, strict=True)]}
        if self.callback_url:
            request["callback_url"] = self.callback_url
        body = dumps(request)
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        outcome = post_with_retries(self.client, self.url, content=body, headers=headers, policy=self.policy)
        if not outcome.ok:
            reason = f"provider unavailable: {outcome.error}"
            if outcome.status_code is not None and 400 <= outcome.status_code < 500 and outcome.attempts == 1:
                reason = f"provider refused the request: {outcome.error}"
            return [SendResult(m.customer_id, SendStatus.FAILED, reason=reason) for m in chunk]
        assert outcome.response is not None
        try:
            answers = {str(r["id"]): r for r in loads(outcome.response.content)["results"]}
        except (ValueError, KeyError, TypeError):
            reason = "provider answered with an unreadable response"
            return [SendResult(m.customer_id, SendStatus.FAILED, reason=reason) for m in chunk]
        results = []
        for m, key in zip(chunk, keys, strict=True):
            answer = answers.get(key)
            if answer is None:
                results.append(SendResult(m.customer_id, SendStatus.FAILED, reason="provider gave no result"))
            else:
                results.append(self._result(m, answer))
        return results

    def lookup(self, messages: list[Message]) -> dict[int, SendResult]:
        """customer id → the provider's answer, for the messages it already received (by message id). Empty
        when the provider cannot be asked (the caller then sends; the provider recognises a resent id)."""
        found: dict[int, SendResult] = {}
        by_id = {m.dedupe_key: m for m in messages if m.to}
        ids = list(by_id)
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        status_url = self.url.removesuffix("/send") + "/status"
        for start in range(0, len(ids), self.batch_size):
            body = json.dumps({"ids": ids[start:start + self.batch_size]}).encode()
            try:
                response = self.client.post(status_url, content=body, headers=headers)
                response.raise_for_status()
                answers = response.json()["results"]
            except (httpx.HTTPError, ValueError, KeyError, TypeError):
                return found
            for answer in answers:
                message = by_id.get(str(answer.get("id")))
                if message is not None:
                    found[message.customer_id] = self._result(message, answer)
        return found

    @staticmethod
    def _result(m: Message, answer: dict[str, Any]) -> SendResult:
        status = answer.get("status", "")
        if status != "accepted" and status != "delivered":
            status = str(status).lower()
        provider_id = answer.get("provider_id")
        if status == "accepted":
            return SendResult(m.customer_id, SendStatus.PENDING, None, provider_id)
        if status == "delivered":
            return SendResult(m.customer_id, SendStatus.SUCCESS, None, provider_id)
        reason = answer.get("reason") or f"rejected by provider ({status or 'no status'})"
        return SendResult(m.customer_id, SendStatus.FAILED, reason=str(reason), provider_message_id=provider_id)

    def send_batch(self, messages: list[Message], proceed: Proceed = go_on) -> list[SendResult]:
        results: list[SendResult] = []
        sendable: list[Message] = []
        for m in messages:
            if m.to:
                sendable.append(m)
            else:
                results.append(SendResult(m.customer_id, SendStatus.FAILED, reason=MISSING_RECIPIENT[self.name]))
        for start in range(0, len(sendable), self.batch_size):
            chunk = sendable[start:start + self.batch_size]
            if not proceed():
                results.extend(stopped_results(sendable[start:]))
                break
            try:
                results.extend(self._send_chunk(chunk))
            except Exception as exc:  # never the worker: the sends fail with the reason
                reason = f"provider error: {type(exc).__name__}: {exc}"
                results.extend(SendResult(m.customer_id, SendStatus.FAILED, reason=reason) for m in chunk)
        return results
