"""Issue 12 part 8 ("twice the speed"), measured on one host: the engine the issue was filed against and this
checkout, through the same benchmark, alternating back to back.

    .venv/bin/python -m bench.speedup                          # 3 pairs of 1,000,000 customers (~15 min)
    .venv/bin/python -m bench.speedup --pairs 1 --size 300000  # a quick look

Why: the issue's 30 s was "twice the speed" of the 54.5–58.8 s its filing code took on the machine of that day.
These VMs' speed wanders by up to 2x from one day to the next (docs/BENCHMARKS.md: the storage floor between
436k and 741k steps/s, a pure-Python loop 0.77–1.67 s), so a wall time alone says as much about the host as
about the code. Running the filing commit (`BASE`, da23c80) beside this checkout, in alternation, on the same
two cores, gives the speed-up itself. Each side runs its own `bench/throughput.py` (`--no-baseline
--no-floor`) in its own tree: the base in a git worktree under tmp/bench/ sharing this checkout's .venv and
.tools. Prints every run's wall time and CPU seconds, then the ratio of the medians.
"""

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BASE = "da23c80"  # the commit issue 12 was filed against (its 1M figure: 54.5–58.8 s that day)


def base_tree(commit: str) -> Path:
    """A worktree of `commit` beside this checkout, with this checkout's virtualenv and tools."""
    tree = ROOT / "tmp" / "bench" / f"base-{commit}"
    if not (tree / "bench" / "throughput.py").exists():
        subprocess.run(["git", "worktree", "add", "--force", "--detach", str(tree), commit], cwd=ROOT, check=True,
                       capture_output=True)
    for name in (".venv", ".tools"):
        link = tree / name
        if not link.exists():
            link.symlink_to(ROOT / name)
    return tree


def run(tree: Path, size: int, out: Path) -> dict[str, Any]:
    """One `bench.throughput` run of `size` customers in `tree`; its wall time and CPU seconds."""
    log = out.with_suffix(".log")
    with log.open("w") as fh:
        subprocess.run([str(ROOT / ".venv" / "bin" / "python"), "-m", "bench.throughput", "--sizes", str(size),
                        "--no-baseline", "--no-floor", "--json", str(out)], cwd=tree, check=True, stdout=fh,
                       stderr=subprocess.STDOUT)
    [r] = json.loads(out.read_text())["runs"]
    if r["status"] != "completed":
        raise SystemExit(f"{tree}: the round ended {r['status']} ({r['failure']}); see {log}")
    cpu = {k: v for k, v in r["cpu_s"].items() if not k.startswith("py-spy")}
    return {"wall_s": r["wall_s"], "cpu_s": sum(cpu.values()), "workers_s": sum(
        v for k, v in cpu.items() if k.startswith("workers")), "counters": r["counters"],
        "receipts": int((r.get("simulator") or {}).get("receipts_sent", 0))}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.speedup", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--base", default=BASE, help="the commit to compare against")
    args = parser.parse_args()
    base = base_tree(args.base)
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout.strip()
    out = ROOT / "tmp" / "bench" / "speedup"
    out.mkdir(parents=True, exist_ok=True)
    runs: dict[str, list[dict[str, Any]]] = {"base": [], "head": []}
    for i in range(args.pairs):
        for side, tree in (("base", base), ("head", ROOT)):
            r = run(tree, args.size, out / f"{side}-{i}.json")
            runs[side].append(r)
            print(f"   {side} ({args.base if side == 'base' else head}) {args.size:,}: {r['wall_s']:6.1f} s, "
                  f"{r['cpu_s']:6.1f} CPU-s (workers {r['workers_s']:.1f}); {r['receipts']:,} receipts in the "
                  "window", flush=True)  # the receipts a side handled before completion are work it did too
    if runs["base"][0]["counters"] != runs["head"][0]["counters"]:
        same = sorted(set(runs["base"][0]["counters"]) & set(runs["head"][0]["counters"]))
        entered = {n: (runs["base"][0]["counters"][n].get("entered"), runs["head"][0]["counters"][n].get("entered"))
                   for n in same}
        if any(a != b for a, b in entered.values()):
            raise SystemExit(f"the two engines routed the customers differently: {entered}")
    wall = {side: statistics.median(r["wall_s"] for r in rs) for side, rs in runs.items()}
    cpu = {side: statistics.median(r["cpu_s"] for r in rs) for side, rs in runs.items()}
    print(f"\n== {args.size:,} customers, {args.pairs} alternating pairs, medians: {args.base} {wall['base']:.1f} s "
          f"({cpu['base']:.1f} CPU-s), {head} {wall['head']:.1f} s ({cpu['head']:.1f} CPU-s): "
          f"{wall['base'] / wall['head']:.2f}x the speed, {cpu['base'] / cpu['head']:.2f}x less work")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
