"""Run the HTTP API: `python -m engine.api [--host H] [--port P]` (defaults API_HOST / API_PORT: 127.0.0.1:8100).

The database must be migrated already (the run command does it; or `python -m engine.migrate`)."""

import argparse
import logging

import uvicorn

from engine.runtime import gc_tuning
from engine.settings import get_settings


def main() -> None:
    settings = get_settings()
    parser = argparse.ArgumentParser(prog="python -m engine.api", description=__doc__)
    parser.add_argument("--host", default=settings.api_host)
    parser.add_argument("--port", type=int, default=settings.api_port)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    gc_tuning.tune()  # receipts and events allocate much, cycle little (engine/runtime/gc_tuning.py)
    uvicorn.run("engine.api.app:runtime_app", factory=True, host=args.host, port=args.port, workers=args.workers,
                access_log=False)


if __name__ == "__main__":
    main()
