"""The demo's outside world: shoppers who browse, add to cart and buy, and the CRM that receives webhooks.

    python -m engine.demo_traffic        # scripts/run.sh starts it with the engine (log: data/demo-traffic.log)

- **Shoppers**: a session every 1/DEMO_TRAFFIC_RATE seconds (default 0.5 per second) of a random demo customer
  (now and then a new visitor): login, one to four page views, maybe an add to cart and a purchase, posted as
  one batch to the local API (`POST /api/v1/events` with the demo workspace's key), so the event-triggered
  demo activities keep picking customers up. The API not answering yet (it starts alongside) is retried.
- **The CRM**: the demo flows' webhooks POST to http://127.0.0.1:DEMO_WEBHOOK_PORT/hook (8099; 0 = off); it
  answers 200, or 422 "unknown customer" for about DEMO_WEBHOOK_FAILURE_RATE of the customers (the same ones
  every time, decided by a hash of the body), so the dashboard shows failures in their colour too.

Deterministic per DEMO_TRAFFIC_SEED; stops on SIGTERM / Ctrl-C.
"""

import hashlib
import json
import logging
import os
import random
import signal
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from engine.demo_customers import CUSTOMERS, DEMO_API_KEY
from engine.settings import get_settings

log = logging.getLogger("demo_traffic")

PAGES = ["/home", "/activity/double11", "/activity/member-day", "/category/beauty", "/category/apparel",
         "/product/detail", "/coupon/center", "/live/room", "/member/points"]
CATEGORIES = ["apparel", "beauty", "shoes", "electronics", "home", "snacks", "sports", "kids"]
PLATFORMS = ["ios", "android", "h5", "mini_program"]


@dataclass(frozen=True)
class TrafficConfig:
    api_url: str
    rate: float = 0.5  # sessions per second
    webhook_port: int = 8099
    webhook_failure_rate: float = 0.03
    new_visitor_rate: float = 0.05
    seed: int = 2026

    @classmethod
    def from_env(cls) -> "TrafficConfig":
        settings = get_settings()
        env = os.environ.get
        return cls(api_url=env("DEMO_TRAFFIC_API", f"http://{settings.api_host}:{settings.api_port}"),
                   rate=float(env("DEMO_TRAFFIC_RATE", "0.5")), webhook_port=int(env("DEMO_WEBHOOK_PORT", "8099")),
                   webhook_failure_rate=float(env("DEMO_WEBHOOK_FAILURE_RATE", "0.03")),
                   seed=int(env("DEMO_TRAFFIC_SEED", "2026")))


def session_events(rng: random.Random, qaid: str, *, new: bool = False) -> list[dict[str, Any]]:
    """One shopping session as behaviour events, in order."""
    platform = rng.choice(PLATFORMS)
    events: list[dict[str, Any]] = []
    if new:
        events.append({"qaid": qaid, "name": "register_app", "properties": {"platform": platform,
                                                                           "channel": "h5_invite"}})
    events.append({"qaid": qaid, "name": "login", "properties": {"platform": platform}})
    for _ in range(rng.randint(1, 4)):
        events.append({"qaid": qaid, "name": "browse_h5", "properties": {
            "page": rng.choice(PAGES), "duration_s": rng.randint(3, 300), "source": "direct"}})
    if rng.random() < 0.35:
        category, price, qty = rng.choice(CATEGORIES), round(rng.uniform(19, 899), 2), rng.randint(1, 3)
        events.append({"qaid": qaid, "name": "add_to_cart", "properties": {
            "sku": f"SKU-{rng.randint(10000, 99999)}", "category": category, "price": price, "quantity": qty}})
        if rng.random() < 0.45:
            events.append({"qaid": qaid, "name": "purchase", "properties": {
                "order_id": f"DEMO{rng.getrandbits(40):010x}", "category": category, "amount": round(price * qty, 2),
                "items": qty, "payment": rng.choice(["alipay", "wechat_pay", "card"])}})
    return events


class Shoppers:
    """Posts one session at a time to the API, at the configured rate."""

    def __init__(self, config: TrafficConfig, stop: threading.Event, client: httpx.Client | None = None) -> None:
        self.config, self.stop = config, stop
        self.rng = random.Random(config.seed)
        self.client = client or httpx.Client(base_url=config.api_url, timeout=10.0)
        self.client.headers["Authorization"] = f"Bearer {DEMO_API_KEY}"
        self.sessions = self.events = self.visitors = 0

    def next_session(self) -> list[dict[str, Any]]:
        if self.rng.random() < self.config.new_visitor_rate:
            self.visitors += 1
            return session_events(self.rng, f"WEB{self.config.seed}-{self.visitors:06d}", new=True)
        return session_events(self.rng, f"QA{10_000_001 + self.rng.randrange(CUSTOMERS)}")

    def post(self, events: list[dict[str, Any]]) -> bool:
        try:
            response = self.client.post("/api/v1/events", json={"events": events})
        except httpx.HTTPError as err:
            log.warning("API not answering (%s): retrying", err)
            return False
        if response.status_code >= 500:
            log.warning("API answered %s: retrying", response.status_code)
            return False
        if response.status_code >= 400:  # our request is wrong: say so, go on with the next session
            log.error("API refused a session (%s): %s", response.status_code, response.text[:300])
        return True

    def run(self) -> None:
        interval = 1.0 / self.config.rate if self.config.rate > 0 else 0.0
        backoff = 0.5
        events = self.next_session()
        while not self.stop.is_set():
            if not self.post(events):
                self.stop.wait(backoff)
                backoff = min(backoff * 2, 10.0)
                continue
            backoff = 0.5
            self.sessions += 1
            self.events += len(events)
            if self.sessions % 50 == 1:
                log.info("%d sessions, %d events posted", self.sessions, self.events)
            events = self.next_session()
            self.stop.wait(interval)
        self.client.close()


class WebhookSink:
    """The demo CRM: a threaded HTTP server that accepts the demo flows' webhook POSTs."""

    def __init__(self, port: int, failure_rate: float) -> None:
        sink = self
        self.received = self.refused = 0
        self.lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                unknown = int.from_bytes(hashlib.blake2b(body, digest_size=4).digest(), "big") / 2**32 < failure_rate
                with sink.lock:
                    sink.received += 1
                    sink.refused += unknown
                payload = json.dumps({"error": "unknown customer"} if unknown else {"ok": True}).encode()
                self.send_response(422 if unknown else 200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.2,), daemon=True)

    def start(self) -> "WebhookSink":
        self.thread.start()
        return self

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s demo-traffic %(levelname)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # not a line per request
    config = TrafficConfig.from_env()
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    sink = None
    if config.webhook_port:
        try:
            sink = WebhookSink(config.webhook_port, config.webhook_failure_rate).start()
            log.info("webhook sink on http://127.0.0.1:%d/hook", config.webhook_port)
        except OSError as err:
            log.warning("webhook sink not started (port %d: %s): demo webhooks will fail", config.webhook_port, err)
    log.info("posting about %.2f sessions/s to %s", config.rate, config.api_url)
    shoppers = Shoppers(config, stop)
    started = time.monotonic()
    try:
        shoppers.run()
    finally:
        if sink is not None:
            sink.close()
        log.info("stopped after %.0f s: %d sessions, %d events; webhooks %d received, %d refused",
                 time.monotonic() - started, shoppers.sessions, shoppers.events,
                 sink.received if sink else 0, sink.refused if sink else 0)


if __name__ == "__main__":
    main()
