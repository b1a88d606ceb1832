"""Summarise py-spy raw profiles (`python -m bench.throughput --profile DIR` writes one per process):

    .venv/bin/python -m bench.profile_report DIR [--top 40] [--filter engine/]

Prints, per process, the frames with the most samples: inclusive (the frame is on the stack) and self (the
frame is the innermost one). Idle samples (threads waiting in a queue or on a socket) are counted apart."""

import argparse
from collections import Counter
from pathlib import Path

IDLE = ("wait (threading.py", "_RedisConsumer.__next__ (dramatiq/brokers/redis.py:370)", "get (queue.py",
        "select (selectors.py", "_worker (concurrent", "sleep",
        "poll (", "recv_into", "readinto", "accept (", "run_forever")


def summarise(path: Path, top: int, contains: str) -> None:
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = idle = 0
    for line in path.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        if not stack:
            continue
        count = int(n)
        frames = stack.split(";")
        total += count
        if any(marker in frames[-1] for marker in IDLE):
            idle += count
            continue
        for frame in set(frames):
            inclusive[frame] += count
        own[frames[-1]] += count
    busy = total - idle
    print(f"\n## {path.stem}: {total} samples, {busy} busy ({busy / max(total, 1):.0%})")
    print("   inclusive (share of busy samples):")
    shown = 0
    for frame, count in inclusive.most_common():
        if contains and contains not in frame:
            continue
        print(f"   {count / max(busy, 1):6.1%}  {frame[:140]}")
        shown += 1
        if shown >= top:
            break
    print("   self:")
    for frame, count in own.most_common(top // 2):
        print(f"   {count / max(busy, 1):6.1%}  {frame[:140]}")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.profile_report")
    parser.add_argument("directory")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--filter", default="", help="only inclusive frames containing this text")
    args = parser.parse_args()
    for path in sorted(Path(args.directory).glob("*.txt")):
        summarise(path, args.top, args.filter)


if __name__ == "__main__":
    main()
