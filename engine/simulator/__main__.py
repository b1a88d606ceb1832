"""`python -m engine.simulator`: the provider simulator on SIMULATOR_HOST:SIMULATOR_PORT (default
127.0.0.1:8200), rates and receipt delay from SIMULATOR_* settings, receipts to RECEIPT_CALLBACK_URL.
Options on the command line override the settings (`--port 8201 --success-rate 0.8 --receipt-delay 0.5`)."""

import argparse
import logging
import signal
import sys
from dataclasses import replace

from engine.runtime import gc_tuning
from engine.settings import get_settings
from engine.simulator.server import SimulatorServer
from engine.simulator.state import SimConfig


def main(argv: list[str] | None = None) -> None:
    settings = get_settings()
    parser = argparse.ArgumentParser(prog="python -m engine.simulator", description=__doc__)
    parser.add_argument("--host", default=settings.simulator_host)
    parser.add_argument("--port", type=int, default=settings.simulator_port)
    parser.add_argument("--success-rate", type=float)
    parser.add_argument("--failure-rate", type=float)
    parser.add_argument("--reject-rate", type=float)
    parser.add_argument("--receipt-delay", type=float)
    parser.add_argument("--callback-url")
    parser.add_argument("--no-kafka", action="store_true", help="do not host the librdkafka mock cluster")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # not a line per receipt POST
    config = SimConfig.from_settings(settings)
    overrides = {name: getattr(args, name) for name in
                 ("success_rate", "failure_rate", "reject_rate", "receipt_delay", "callback_url")
                 if getattr(args, name) is not None}
    config = replace(config, **overrides)
    config.validate()
    server = SimulatorServer(config, host=args.host, port=args.port,
                             kafka=settings.simulator_kafka and not args.no_kafka)
    log = logging.getLogger("engine.simulator")
    gc_tuning.tune()
    log.info("provider simulator on http://%s:%d — success %.2f, failure %.2f, reject %.2f, no receipt %.2f, "
             "receipts after %.1fs to %s; Kafka mock cluster: %s", args.host, args.port, config.success_rate,
             config.failure_rate, config.reject_rate,
             max(0.0, 1 - config.success_rate - config.failure_rate - config.reject_rate), config.receipt_delay,
             config.callback_url, server.simulator.kafka_bootstrap_servers or "off")
    # uvicorn shuts down gracefully on SIGTERM/SIGINT, then re-raises the signal: end with status 0
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    log.info("provider simulator stopped")


if __name__ == "__main__":
    main()
