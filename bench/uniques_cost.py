"""What the counters per version's HyperLogLogs cost the walk (engine/runtime/uniques.py): the PFADDs a walk adds
to its pipelines, measured apart from everything else, on a redis-server of its own.

    .venv/bin/python -m bench.uniques_cost [--customers 300000] [--components 10] [--batch 1000]

A walk of a 1,000-customer batch through a flow of N components sends one PFADD (+ EXPIRE) per route its
customers took (here every customer passes every component: one route) in the MULTI that ends it. Printed: this
process's CPU per customer-step (grouping the customers by route, packing the ids), Redis's own time per
customer-step (INFO commandstats), and the estimate's error at the end."""

import argparse
import subprocess
import time

import redis

from bench.stack import free_port


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.uniques_cost")
    parser.add_argument("--customers", type=int, default=300_000)
    parser.add_argument("--components", type=int, default=10)
    parser.add_argument("--batch", type=int, default=1000)
    args = parser.parse_args()
    from engine.runtime.uniques import add

    port = free_port()
    server = subprocess.Popen(["redis-server", "--port", str(port), "--save", "", "--appendonly", "no"],
                              stdout=subprocess.DEVNULL)
    try:
        r = redis.Redis(port=port)
        deadline = time.monotonic() + 10
        while True:
            try:
                r.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        r.config_resetstat()
        ids = list(range(1, args.customers + 1))
        nodes = [f"n{i}" for i in range(args.components)]
        order = {n: i for i, n in enumerate(sorted(nodes))}
        wall, cpu = time.perf_counter(), time.process_time()
        for start in range(0, args.customers, args.batch):
            members = ids[start:start + args.batch]
            pipe = r.pipeline(transaction=True)
            add(pipe, 1, [(node, members) for node in nodes], order)
            pipe.execute()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        steps = args.customers * args.components
        stats = r.info("commandstats")["cmdstat_pfadd"]
        from engine.runtime.uniques import estimates

        estimate = estimates(r, [1], [nodes[0]])[(1, nodes[0])]
        print(f"{args.customers:,} customers × {args.components} components in batches of {args.batch:,}: "
              f"{steps:,} adds in {wall:.2f} s")
        print(f"  walk side (packing the ids): {cpu / steps * 1e6:.2f} µs CPU per customer-step")
        print(f"  Redis side (PFADD): {stats['usec'] / steps:.3f} µs per customer-step, "
              f"{stats['usec_per_call']:.1f} µs per call")
        print(f"  estimate {estimate:,} of {args.customers:,} ({100 * (estimate / args.customers - 1):+.2f} %), "
              f"{max(r.memory_usage(k) or 0 for k in r.keys('u:1~*')):,} bytes per key")
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
