"""Micro-benchmarks of small hot parts, each alone in this process (CPU time, best of `--repeat`):

    .venv/bin/python -m bench.hot_parts            # ~20 s

- `split`: Random Grouping's split of 2,000 customers into 20/30/50 (engine/components/splitting.py), per customer;
- `simulator`: the provider simulator's `receive` of 1,000-message requests with their JSON in and out
  (engine/simulator/state.py), per message;
- `pack`: what redis-py's hiredis packer costs per argument (a 2,000-id PFADD) against joining the ids into one
  text argument — why the walk keeps one argument per customer only where Redis would pay more to split a text
  (docs/BENCHMARKS.md, 2026-12-07).

To measure another checkout's engine with it: `PYTHONPATH=<that tree> .venv/bin/python bench/hot_parts.py` (run as a
script, so the engine is imported from PYTHONPATH, not from this directory)."""

import argparse
import time
from collections.abc import Callable


def best(run: Callable[[], None], *, rounds: int, repeat: int) -> float:
    """Best CPU seconds of `repeat` batches of `rounds` calls, per call."""
    times = []
    for _ in range(repeat):
        start = time.process_time()
        for _ in range(rounds):
            run()
        times.append((time.process_time() - start) / rounds)
    return min(times)


def split_cost(repeat: int) -> float:
    from engine.components.base import Batch, CustomerView
    from engine.components.splitting import SplitGroup, split

    customers = [CustomerView(i, "q") for i in range(1_000_000, 1_002_000)]
    batch = Batch(record_id=5, node_id="rg1", key="k", customers=customers)
    groups = [SplitGroup(ratio=20), SplitGroup(ratio=30), SplitGroup(ratio=50)]
    return best(lambda: split(batch, groups), rounds=50, repeat=repeat) / len(customers)


def simulator_cost(repeat: int) -> float:
    from engine.channels.wire import dumps, loads
    from engine.simulator.state import SimConfig, Simulator

    size, requests = 1000, 100
    bodies = [dumps({"messages": [{"id": f"1:sms:{r * size + i}", "customer_id": r * size + i,
                                   "to": "+8613800000000", "body": "Hi Customer, the spring sale starts today"}
                                  for i in range(size)]}) for r in range(requests)]
    per_message = []
    for _ in range(repeat):
        sim = Simulator(SimConfig(callback_url="http://127.0.0.1:9/receipts"))
        start = time.process_time()
        for body in bodies:
            dumps({"results": sim.receive("text_sms", loads(body)["messages"], None)})
        per_message.append((time.process_time() - start) / (size * requests))
    return min(per_message)


def pack_costs(repeat: int) -> tuple[float, float]:
    import hiredis

    ids = list(range(1_000_001, 1_002_001))
    pack = best(lambda: hiredis.pack_command(("PFADD", "u:1:sms", *ids)), rounds=200, repeat=repeat)
    join = best(lambda: ",".join(map(str, ids)), rounds=200, repeat=repeat)
    return pack / len(ids), join / len(ids)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.hot_parts")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(f"split      {split_cost(args.repeat) * 1e6:6.2f} µs a customer (3 groups)")
    print(f"simulator  {simulator_cost(args.repeat) * 1e6:6.2f} µs a message (receive + JSON in and out)")
    pack, join = pack_costs(args.repeat)
    print(f"pack       {pack * 1e6:6.3f} µs an argument (hiredis) | join {join * 1e6:6.3f} µs an id (one text)")


if __name__ == "__main__":
    main()
