"""Counters per version (issue 16): a periodic audience activity published as V1, republished as V2 while V1's
customers wait in a Wait Until (V1 drains), then V2's next cycle enters everyone again. On real Redis with real
workers: per version, entries and unique customers are exact and add up; a customer who enters twice is two
entries and one unique customer; sampled all through the run, no version's number ever decreases, a unique
count never passes its entries, and no component's entries pass what its predecessors routed to it in that
version. The HyperLogLog estimate (the path of big or expired versions) agrees; a private activity's numbers are
its creator's and the admins' only."""

import threading
from collections import defaultdict
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import col, select

from engine.db import read_session, write_session
from engine.errors import NotFound
from engine.models import Activity, ExecutionRecord, Role, User, Workspace
from engine.models.activity import Schedule
from engine.services import activities as svc
from engine.services import version_counters as vc
from engine.services.audiences import add_members
from engine.shared.customers import upsert_customers
from engine.status import RecordStatus
from tests import factories as f
from tests.engine.runtime.support import records as rounds
from tests.engine.runtime.support import seed_activity

N = 30  # V1's audience (customer 0 has no phone: entered, not sent)
NEW = 6  # members added while V1's customers wait: V2's republish round enters only them


def node(nid: str, type_: str, **config: Any) -> dict[str, Any]:
    return {"id": nid, "type": type_, "config": config, "position": {"x": 0, "y": 0}}


def chain(*nodes: dict[str, Any]) -> dict[str, Any]:
    return {"nodes": list(nodes), "edges": [{"source": a["id"], "branch": "out", "target": b["id"]}
                                            for a, b in zip(nodes, nodes[1:], strict=False)]}


def v1(audience_id: int) -> dict[str, Any]:
    """Target Audience → Text SMS → Wait Until 1 h → Text SMS "s2" → End."""
    return chain(node("t", "target_audience", audience_id=audience_id), node("s1", "text_sms", content="V1 hi"),
                 node("w", "wait_until", mode="period", hours=1), node("s2", "text_sms", content="V1 again"),
                 node("e", "end"))


def v2(audience_id: int) -> dict[str, Any]:
    """V1 with "s2" removed and an APP PUSH "p" in its place."""
    return chain(node("t", "target_audience", audience_id=audience_id), node("s1", "text_sms", content="V2 hi"),
                 node("w", "wait_until", mode="period", hours=1), node("p", "app_push", title="V2", body="hi"),
                 node("e", "end"))


PARENTS = {"s1": "t", "w": "s1", "s2": "w", "p": "w", "e": None}  # e's parent depends on the version


def routed_by_version(activity_id: int) -> dict[int, dict[str, int]]:
    """version → node → customers its parent routed on ("branch:out"), summed over the version's rounds."""
    from engine.services.execution import counters_of

    out: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    with read_session() as session:
        for record in session.exec(select(ExecutionRecord).where(ExecutionRecord.activity_id == activity_id)):
            for node_id, metrics in counters_of(session, record).items():
                out[record.version_id][node_id] += int(metrics.get("branch:out", 0))
    return out


def read(activity_id: int, user_id: int) -> vc.VersionCounters:
    with read_session() as session:
        return vc.version_counters(session=session, actor=session.get(User, user_id), activity_id=activity_id)


class Sampler(threading.Thread):
    """Reads the counters per version over and over while the engine runs, checking each sample against the
    previous one and against the predecessors' routes read just after it."""

    def __init__(self, activity_id: int, user_id: int) -> None:
        super().__init__(daemon=True)
        self.activity_id, self.user_id = activity_id, user_id
        self.stop = threading.Event()
        self.samples = 0
        self.problems: list[str] = []
        self.last: dict[tuple[str, str], tuple[int, int]] = {}

    def run(self) -> None:
        while not self.stop.is_set():
            counters = read(self.activity_id, self.user_id)
            routed = routed_by_version(self.activity_id)  # after: routes only grow, so entries(t) ≤ routes(t')
            self.samples += 1
            for row in counters.components:
                for version in [*(str(v.version_id) for v in counters.versions), vc.ALL]:
                    cell = row.cell(version)
                    if cell is None:
                        continue
                    unique = cell.unique if cell.unique is not None else -1
                    before = self.last.get((row.node_id, version), (0, 0))
                    if cell.entries < before[0] or unique < before[1]:
                        self.problems.append(f"{row.node_id} {version} went down: {before} → {cell}")
                    if cell.unique is None or cell.unique > cell.entries:
                        self.problems.append(f"{row.node_id} {version}: unique {cell.unique} vs {cell}")
                    self.last[(row.node_id, version)] = (cell.entries, unique)
                    parent = PARENTS.get(row.node_id)
                    if version != vc.ALL and parent is not None and \
                            cell.entries > routed[int(version)].get(parent, 0):
                        self.problems.append(f"{row.node_id} V{version}: {cell.entries} entered, "
                                             f"{routed[int(version)].get(parent, 0)} routed by {parent}")


def numbers(counters: vc.VersionCounters, number: int | str) -> dict[str, tuple[int, int | None] | None]:
    """node → (entries, unique) of version `number` (or "all"); None: not in that version."""
    version = vc.ALL if number == vc.ALL else str(next(v.version_id for v in counters.versions
                                                       if v.number == number))
    out: dict[str, tuple[int, int | None] | None] = {}
    for row in counters.components:
        cell = row.cell(version)
        out[row.node_id] = None if cell is None else (cell.entries, cell.unique)
    return out


def test_counters_per_version_through_a_republish_and_a_second_cycle(engine, simulator, monkeypatch) -> None:
    from engine.settings import get_settings

    monkeypatch.setenv("ENGINE_BATCH_SIZE", "4")  # many walks: the sampler sees the numbers move
    get_settings.cache_clear()
    now = engine.clock()
    audience: list[int] = []
    activity_id, owner_id = seed_activity(N, lambda a: audience.append(a) or v1(a), schedule=Schedule.MINUTES,
                                          schedule_every=15, end_time=now + timedelta(minutes=25))
    sampler = Sampler(activity_id, owner_id)
    sampler.start()
    try:
        engine.run_until(lambda: engine.store.counters(rounds(activity_id)[0].id).get("w", {}).get("entered") == N)
        with write_session() as session:  # new members, then V2 while V1's customers wait: V1 drains
            activity = session.get(Activity, activity_id)
            new_ids = set(upsert_customers(session=session, workspace_id=activity.workspace_id, rows=[
                {"qaid": f"N{i}", "name": f"N{i}", "phone": f"+8613700{i:06d}", "push_token": f"n-{i}"}
                for i in range(NEW)]).ids.values())
            add_members(session=session, audience_id=audience[0], customer_ids=sorted(new_ids))
            svc.publish(session=session, actor=session.get(User, owner_id), activity_id=activity_id,
                        flow=v2(audience[0]))
        second = rounds(activity_id)[1]
        engine.run_until(lambda: engine.store.counters(second.id).get("w", {}).get("entered") == NEW)
        mid = read(activity_id, owner_id)
        assert [v.label for v in mid.versions] == ["V2 (live)", "V1 (draining)"]
        assert numbers(mid, 1) == {"t": (N, N), "s1": (N, N), "w": (N, N), "p": None, "e": (0, 0), "s2": (0, 0)}
        assert numbers(mid, 2) == {"t": (NEW, NEW), "s1": (NEW, NEW), "w": (NEW, NEW), "p": (0, 0), "e": (0, 0),
                                   "s2": None}
        engine.clock.advance(minutes=16)  # V2's next cycle: everyone enters V2 (the new members a second time)
        engine.run_until(lambda: len(rounds(activity_id)) == 3 and
                         engine.store.counters(rounds(activity_id)[2].id).get("w", {}).get("entered") == N + NEW)
        engine.clock.advance(hours=1, minutes=1)  # every wait is over; the end time has passed: no more cycles
        engine.run_until(lambda: all(r.status != RecordStatus.IN_PROGRESS for r in rounds(activity_id)))
    finally:
        sampler.stop.set()
        sampler.join(30)
    assert sampler.samples > 10 and sampler.problems == []

    done = read(activity_id, owner_id)
    assert [(v.label, v.rounds, v.unique_kind) for v in done.versions] == [
        ("V2 (live)", 2, vc.EXACT), ("V1 (superseded)", 1, vc.EXACT)]
    twice = N + 2 * NEW  # V2's entries: the new members in both of its rounds, V1's customers in its second
    assert numbers(done, 1) == {"t": (N, N), "s1": (N, N), "w": (N, N), "s2": (N, N), "e": (N, N), "p": None}
    assert numbers(done, 2) == {"t": (twice, N + NEW), "s1": (twice, N + NEW), "w": (twice, N + NEW),
                                "p": (twice, N + NEW), "e": (twice, N + NEW), "s2": None}
    total = numbers(done, vc.ALL)  # entries add up; a customer of both versions is one unique customer
    assert total == {"t": (N + twice, N + NEW), "s1": (N + twice, N + NEW), "w": (N + twice, N + NEW),
                     "p": (twice, N + NEW), "e": (N + twice, N + NEW), "s2": (N, N)}
    assert [(r.node_id, r.removed) for r in done.components] == [
        ("t", False), ("s1", False), ("w", False), ("p", False), ("e", False), ("s2", True)]
    assert [r.label for r in done.components][:4] == ["Target Audience", "Text SMS", "Wait Until", "APP PUSH"]

    # the estimate (big or expired versions): the versions' HyperLogLogs agree with the exact counts
    monkeypatch.setattr(vc, "EXACT_LIMIT", 0)
    estimated = read(activity_id, owner_id)
    assert {v.unique_kind for v in estimated.versions} == {vc.ESTIMATE}
    for number in (1, 2, vc.ALL):
        for node_id, exact in numbers(done, number).items():
            guess = numbers(estimated, number)[node_id]
            assert (guess is None) == (exact is None)
            if exact is not None and guess is not None:
                assert guess[0] == exact[0] and abs((guess[1] or 0) - (exact[1] or 0)) <= 1, (number, node_id)
    assert vc.describe(estimated.row("t").cell(vc.ALL), vc.ALL, estimated)["unique"].startswith("≈ ")
    monkeypatch.setattr(vc, "EXACT_LIMIT", 50_000)

    engine.clock.advance(days=8)  # the rounds began before the details' 7 days: the estimate answers
    aged = read(activity_id, owner_id)
    assert {v.unique_kind for v in aged.versions} == {vc.ESTIMATE}
    aged_p, done_p = numbers(aged, 2)["p"], numbers(done, 2)["p"]
    assert aged_p and done_p and aged_p[0] == done_p[0] and abs((aged_p[1] or 0) - (done_p[1] or 0)) <= 1
    engine.store.r.delete(*engine.store.r.keys("u:*"))  # and once Redis has forgotten the versions: unknown
    gone = read(activity_id, owner_id)
    assert numbers(gone, 1)["t"] == (N, None) and numbers(gone, vc.ALL)["t"] == (N + twice, None)
    assert vc.describe(gone.row("t").cell(vc.ALL), vc.ALL, gone)["unique"] == "unknown"
    assert numbers(gone, 2)["s2"] is None  # still not in V2: "—", not "unknown"


def test_a_private_activitys_numbers_are_for_its_creator_and_admins(engine) -> None:
    audience: list[int] = []
    activity_id, owner_id = seed_activity(5, lambda a: audience.append(a) or v1(a))
    with write_session() as session:
        ws_id = session.get(Activity, activity_id).workspace_id
        workspace = session.get(Workspace, ws_id)
        other, admin = f.user(session, workspace, Role.MARKETER), f.user(session, workspace, Role.ADMIN)
        other_id, admin_id = other.id, admin.id
    engine.run_until(lambda: engine.store.counters(rounds(activity_id)[0].id).get("w", {}).get("entered") == 5)
    assert numbers(read(activity_id, admin_id), 1)["t"] == (5, 5)
    with pytest.raises(NotFound):
        read(activity_id, other_id)
    with read_session() as session:
        assert session.exec(select(Activity.is_public).where(col(Activity.id) == activity_id)).one() is False


def test_a_test_round_counts_for_no_version(engine, simulator) -> None:
    """Seed 004: the testers' round walks the draft version but adds nobody to its numbers or estimates."""
    from engine.services import approval
    from tests.engine.runtime.test_test_rounds import seed as seed_tested

    activity_id, owner_id = seed_tested("audience")
    with write_session() as session:
        record_id = int(approval.run_test(session=session, actor=session.get(User, owner_id),
                                          activity_id=activity_id).id)
    engine.run_until(lambda: engine.store.counters(record_id).get("e", {}).get("entered") == 1)
    assert engine.store.r.keys("u:*") == []
    assert read(activity_id, owner_id).versions == []  # nothing published, no real round
