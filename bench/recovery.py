"""Recovery time of a killed worker under the run command's own supervisord config (deploy/supervisord.conf).

    python -m bench.recovery                 # 3 kills, 3,000 customers each, the engine's default settings
    python -m bench.recovery --runs 1 --env DRAMATIQ_HEARTBEAT_TIMEOUT_MS=60000 --env ENGINE_CLAIM_TTL_MS=15000 \\
        --env DRAMATIQ_MAINTENANCE_CHANCE=1000   # the settings before issue 12, for comparison

One redis-server (append-only), a SQLite database, the provider simulator in this process (every send answered
after 0.1 s, requests of 20 messages: a walk of 200 customers takes ~1.5 s) and supervisord running every
engine program. Per run: an audience round of N customers through Text SMS (tests/engine/runtime/support.py's
flow) starts; once worker-0's Dramatiq worker process holds batch claims it is SIGKILLed. Measured from the
SIGKILL: supervisord's restart (new pid RUNNING), the first and the last of the killed process's claimed
batches claimed again by another process (= walked again), and the round's completion; plus the largest
Dramatiq heartbeat age of any live worker seen during the run (a live worker must stay far from the timeout),
and the simulator's duplicate count (must be 0). Prints one JSON line per run and a summary.
"""

import argparse
import json
import os
import signal
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.stack import free_port, machine  # noqa: E402
from tests.engine.runtime import support as s  # noqa: E402
from tests.engine.runtime.supervised import Sampler, Supervisor  # noqa: E402


def one_run(sup: Supervisor, sim, n: int) -> dict:  # noqa: ANN001
    from engine.runtime.connection import get_redis
    from engine.status import RecordStatus

    victim = sup.worker_process("worker:worker-0")
    old_parent = sup.pid("worker:worker-0")
    sent_before = sim.simulator.snapshot()["unique"]
    activity_id, _ = s.seed_activity(n)
    record_id = s.records(activity_id)[0].id
    with Sampler(get_redis()) as sampler:
        s.wait_for(lambda: sim.simulator.snapshot()["unique"] - sent_before >= 200 and sampler.held_by(victim), 120,
                   what="worker-0 walking batches")
        held = sampler.held_by(victim)
        killed_at = time.monotonic()
        os.kill(victim, signal.SIGKILL)
        restarted = None
        while s.records_status(record_id) == RecordStatus.IN_PROGRESS:
            if restarted is None:
                state, pid = sup.status().get("worker:worker-0", ("", 0))
                if state == "RUNNING" and pid != old_parent:
                    restarted = time.monotonic() - killed_at
            if time.monotonic() - killed_at > 300:
                raise SystemExit("the round did not complete within 300 s of the kill")
            time.sleep(0.05)
        completed = time.monotonic() - killed_at
    again = sampler.walked_again(held, victim, killed_at)
    stats = sim.simulator.snapshot()
    return {"record": record_id, "completed": s.records_status(record_id) == RecordStatus.COMPLETED,
            "killed_batches": len(held),
            "walked_again": len(again), "restarted_s": restarted and round(restarted, 2),
            "first_walked_again_s": round(min(again.values()), 2) if again else None,
            "all_walked_again_s": round(max(again.values()), 2) if len(again) == len(held) else None,
            "completed_s": round(completed, 2),
            "max_live_heartbeat_age_ms": round(max(sampler.live_silences(), default=0)),
            "duplicates": stats["duplicates"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--customers", type=int, default=3000)
    parser.add_argument("--env", action="append", default=[], help="KEY=VALUE for every engine process")
    args = parser.parse_args()
    extra = dict(item.split("=", 1) for item in args.env)
    work = Path(tempfile.mkdtemp(prefix="recovery-", dir=ROOT / "tmp"))
    redis_server = s.RedisServer(work, free_port()).start()
    os.environ.update(DATABASE_URL=f"sqlite:///{work / 'bench.db'}", REDIS_URL=redis_server.url,
                      ENGINE_BATCH_SIZE="200", PROVIDER_BATCH_SIZE="20", **extra)
    from engine.migrate import upgrade_to_head
    from engine.settings import get_settings
    from engine.simulator import SimConfig, SimulatorServer

    get_settings.cache_clear()
    upgrade_to_head()
    sim = SimulatorServer(SimConfig(receipt_delay=3600, callback_url="http://127.0.0.1:9/receipts",
                                    response_delay=0.1)).start()
    sup = Supervisor(work / "logs", PROVIDER_URL=sim.url)
    settings = get_settings()
    print(json.dumps({"machine": machine(), "date": datetime.now(UTC).isoformat(timespec="seconds"),
                      "load_avg": os.getloadavg(), "heartbeat_timeout_ms": settings.dramatiq_heartbeat_timeout_ms,
                      "maintenance_chance": settings.dramatiq_maintenance_chance,
                      "claim_ttl_ms": settings.engine_claim_ttl_ms}), flush=True)
    results = []
    try:
        sup.start()
        for _ in range(args.runs):
            results.append(one_run(sup, sim, args.customers))
            print(json.dumps(results[-1]), flush=True)
    finally:
        sup.shutdown()
        sim.stop()
        redis_server.stop()
    walked = [r["all_walked_again_s"] for r in results if r["all_walked_again_s"] is not None]
    print(json.dumps({"runs": len(results), "all_walked_again_s": walked,
                      "max_all_walked_again_s": max(walked, default=None),
                      "all_completed": all(r["completed"] for r in results),
                      "duplicates": sum(r["duplicates"] for r in results), "load_avg_after": os.getloadavg(),
                      "logs": str(work / "logs")}))


if __name__ == "__main__":
    main()
