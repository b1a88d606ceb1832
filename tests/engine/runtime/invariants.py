"""The counting rules every reader relies on, checked on one snapshot of a round's counters, and a sampler
that checks them every 50 ms while the round runs (invariants hold at every instant, not once things settle).

- no counter is negative;
- a send: actually sent = succeeded + failed + no receipt yet; succeeded ≤ sent ≤ entered; sent + not sent +
  stopped + opted out + capped ≤ entered;
- a component's entered ≤ what its predecessors routed to it (the trigger's ≤ the audience).
"""

import threading
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from engine.components.registry import is_send

Counters = dict[str, dict[str, int]]


def violations(flow: dict[str, Any], counters: Counters, audience: int) -> list[str]:
    types = {n["id"]: n["type"] for n in flow["nodes"]}
    parents: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for edge in flow["edges"]:
        parents[edge["target"]].append((edge["source"], edge["branch"]))
    found: list[str] = []
    for node_id, node_type in types.items():
        m = defaultdict(int, counters.get(node_id, {}))
        found += [f"{node_id}.{k} = {v} < 0" for k, v in m.items() if v < 0]
        entered = m["entered"]
        if is_send(node_type):
            sent, success, failed, pending = m["sent"], m["success"], m["failed"], m["pending"]
            if sent != success + failed + pending:
                found.append(f"{node_id}: sent {sent} != success {success} + failed {failed} + pending {pending}")
            if not success <= sent <= entered:
                found.append(f"{node_id}: not success {success} <= sent {sent} <= entered {entered}")
            if sent + m["not_sent"] + m["stopped"] + m["opted_out"] + m["capped"] > entered:
                found.append(f"{node_id}: sent {sent} + not sent {m['not_sent']} + stopped {m['stopped']}"
                             f" + opted out {m['opted_out']} + capped {m['capped']} > entered {entered}")
        routed = sum(counters.get(src, {}).get(f"branch:{branch}", 0) for src, branch in parents[node_id])
        limit = routed if parents[node_id] else audience
        if entered > limit:
            found.append(f"{node_id}: entered {entered} > routed to it {limit}")
    return found


class Sampler:
    """Reads `read()` every `every` seconds in a thread and checks each snapshot; `extra(i)` may run further
    readers (views, panels) on some samples and return their violations."""

    def __init__(self, read: Callable[[], Counters], flow: dict[str, Any], audience: int, *, every: float = 0.05,
                 extra: Callable[[int], list[str]] | None = None) -> None:
        self.read, self.flow, self.audience, self.every, self.extra = read, flow, audience, every, extra
        self.samples: list[Counters] = []
        self.problems: list[tuple[int, str]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sampler", daemon=True)
        self.error: BaseException | None = None

    def __enter__(self) -> "Sampler":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(30)

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                started = time.monotonic()
                snapshot = self.read()
                index = len(self.samples)
                self.samples.append(snapshot)
                self.problems += [(index, p) for p in violations(self.flow, snapshot, self.audience)]
                if self.extra is not None:
                    self.problems += [(index, p) for p in self.extra(index)]
                self._stop.wait(max(0.0, self.every - (time.monotonic() - started)))
        except BaseException as err:  # noqa: BLE001 — reported by the test, not lost in a thread
            self.error = err

    def series(self, node_id: str, metric: str) -> list[int]:
        return [s.get(node_id, {}).get(metric, 0) for s in self.samples]
