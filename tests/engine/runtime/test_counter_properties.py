"""Property: whatever the order of sends, answers and receipts — receipts overtaking the answer they follow,
receipts and answers delivered twice, walks killed between reserving and storing and walked again — a send's
counters obey the counting rules after every single operation, and end exactly at what each customer's fate
says. Real Redis and the store's own Lua scripts (engine/runtime/store.py, receipts.py), driven by hypothesis."""

import itertools
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.runtime.connection import get_redis
from engine.runtime.receipts import apply_receipts
from engine.runtime.store import SENDING, SHARD_BITS, RoundStore

C = 12  # customers at one send component
ANSWERS = ("success", "failed", "pending", "stopped")  # what the channel said (stopped: never sent, round stopped)
_records = itertools.count(1)

operation = st.one_of(
    # a walk attempt over some customers; `dies_after` customers get their answer stored before the worker dies
    st.tuples(st.just("walk"), st.lists(st.integers(0, C - 1), min_size=1, max_size=C, unique=True),
              st.one_of(st.none(), st.integers(0, C))),
    # a receipt for one customer, maybe delivered twice
    st.tuples(st.just("receipt"), st.integers(0, C - 1), st.booleans()),
)


@pytest.fixture
def store(database: str, redis_url: str) -> RoundStore:
    return RoundStore(get_redis())


def check(store: RoundStore, record: int, handed: set[int]) -> Counter:
    m = Counter(store.counters(record).get("sms", {}))
    assert all(v >= 0 for v in m.values()), m
    assert m["sent"] == m["success"] + m["failed"] + m["pending"], m
    assert m["success"] <= m["sent"] <= len(handed), (m, len(handed))
    assert m["sent"] + m["stopped"] <= len(handed), m
    return m


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(answers=st.lists(st.sampled_from(ANSWERS), min_size=C, max_size=C),
       receipts=st.lists(st.sampled_from(("delivered", "failed")), min_size=C, max_size=C),
       ops=st.lists(operation, max_size=40))
def test_send_counters_obey_the_rules_after_every_operation(store, answers, receipts, ops) -> None:
    record = next(_records)
    handed: set[int] = set()  # customers some walk reserved (what reached, or may have reached, the provider)

    def walk(customers: list[int], dies_after: int | None) -> None:
        before = store.reserve(record, "sms", customers)
        to_answer = [c for c in customers if before.get(c) in (None, SENDING)]  # new, or in flight when a worker died
        handed.update(customers)
        check(store, record, handed)
        if dies_after is not None:
            to_answer = to_answer[:dies_after]
        for c in to_answer:  # answers stored one by one (a worker may die between any two)
            store.settle_results(record, "sms", {c: answers[c]})
            check(store, record, handed)

    def receipt(c: int, twice: bool) -> None:
        if answers[c] != "pending" or c not in handed:
            return  # a provider sends receipts only for messages it received and accepted
        for _ in range(2 if twice else 1):
            apply_receipts([{"id": f"{record}:sms:{c}", "status": receipts[c]}], store=store)
            check(store, record, handed)

    for op in ops:
        if op[0] == "walk":
            walk(op[1], op[2])
        else:
            receipt(op[1], op[2])
    # the end: the round's last walk answers everyone, every receipt arrives (some a second time)
    walk(list(range(C)), None)
    for c in range(C):
        receipt(c, c % 2 == 0)
    m = check(store, record, handed)
    fate = Counter(answers[c] if answers[c] != "pending" else ("success" if receipts[c] == "delivered" else "failed")
                   for c in range(C))
    assert (m["success"], m["failed"], m["pending"], m["stopped"]) == \
        (fate["success"], fate["failed"], 0, fate["stopped"])
    assert m["sent"] == C - fate["stopped"]


def test_reserve_and_settle_over_many_customers_and_duplicates_count_each_customer_once(store) -> None:
    """The scripts read and write the results 1,000 customers at a time (one HMGET, one HSET): the chunk
    boundaries and a customer given twice in one call must not change what a customer-by-customer script did."""
    record = next(_records)
    ids = list(range(1, 2_503))
    store.settle_results(record, "sms", {7: "success", 1_500: "failed"})  # settled by an earlier walk
    # 3 and 1,200 twice in the same chunk, 2,000 twice in two chunks: the second time each finds "sending"
    before = store.reserve(record, "sms", [3, *ids[:1_500], 1_200, *ids[1_500:], 2_000])
    assert before == {7: "success", 1_500: "failed", 3: SENDING, 1_200: SENDING, 2_000: SENDING}
    assert store.raw_results(record, "sms", [1, 1_001, 2_502]) == dict.fromkeys((1, 1_001, 2_502), SENDING)
    answers = {c: "pending" if c % 2 else "success" for c in ids}
    store.settle_pairs(record, "sms", [(5, "failed"), *answers.items()])  # 5 twice: counted once
    answers[5] = "failed"
    m = Counter(store.counters(record)["sms"])
    settled_before = {7: "success", 1_500: "failed"}
    expected = Counter(answers[c] for c in ids if c not in settled_before)
    expected.update(settled_before.values())
    assert (m["success"], m["failed"], m["pending"]) == (expected["success"], expected["failed"], expected["pending"])
    assert m["sent"] == len(ids)
    assert store.raw_results(record, "sms", [5, 7, 1_500, 1_001, 2_502]) == {
        5: "failed", 7: "success", 1_500: "failed", 1_001: "pending", 2_502: "success"}
    store.settle_results(record, "sms", {c: "failed" for c in ids})  # a retried walk's answers: nothing moves
    assert Counter(store.counters(record)["sms"]) == m


def test_receipts_of_many_rounds_and_nodes_in_one_call_switch_each_send_once(store) -> None:
    """The switch groups a call's receipts by (round, node) and reads / writes each group 1,000 at a time: receipts
    of two rounds and two nodes interleaved, across chunk boundaries, some twice in one call, some for sends
    still "sending" (the receipt overtook the answer) or already settled, switch exactly what one-by-one did."""
    a, b = next(_records), next(_records)
    ids = list(range(1, 2_301))
    for record in (a, b):
        for node in ("sms", "push"):
            store.reserve(record, node, ids)
            store.settle_results(record, node, {c: "pending" for c in ids if c > 100})  # 1–100 still "sending"
    store.settle_results(a, "sms", dict.fromkeys(range(1, 11), "failed"))  # answered failed: no receipt switches it
    receipts = []
    for c in ids:  # interleaved: a/sms, b/push, a/push, b/sms for each customer
        for record, node in ((a, "sms"), (b, "push"), (a, "push"), (b, "sms")):
            status = "delivered" if c % 3 else "failed"
            receipts.append({"id": f"{record}:{node}:{c}", "status": status})
    receipts += [{"id": f"{a}:sms:{c}", "status": "failed"} for c in (500, 1_500, 2_300)]  # twice, other outcome
    switched = apply_receipts(receipts, store=store)
    assert switched == 4 * len(ids) - 10
    for record in (a, b):
        for node in ("sms", "push"):
            m = Counter(store.counters(record)[node])
            early = 10 if (record, node) == (a, "sms") else 0  # the ten answered "failed" before any receipt
            delivered = sum(1 for c in ids if c % 3 and c > early)
            failed = sum(1 for c in ids if not c % 3 and c > early)
            assert (m["success"], m["failed"] - early, m["pending"]) == (delivered, failed, 0), (record, node, m)
            assert m["sent"] == len(ids)  # the 100 "sending" counted as sent by their receipt, once
    assert store.raw_results(a, "sms", [5, 500, 1_500, 2_300]) == {
        5: "failed", 500: "+success", 1_500: "+failed", 2_300: "+success"}  # the first receipt won
    assert apply_receipts(receipts, store=store) == 0  # all of them again: nothing moves


def test_results_spread_over_shards_and_a_legacy_hash_read_as_one(store) -> None:
    """A component's results live in one hash per 32,768 customer ids (store.SHARD_BITS). Customers across shard
    boundaries, far apart, and left in the one hash an engine before the shards wrote (`r:{record}:{node}`, an
    upgrade mid-round) are reserved, settled, read and switched by receipts as if it were one hash: a legacy
    result is never sent again nor counted again, a legacy "pending" still takes its receipt."""
    record = next(_records)
    size = 1 << SHARD_BITS
    ids = [1, size - 1, size, 2 * size - 1, 2 * size, 30 * size + 5, *range(3 * size - 1_250, 3 * size + 1_250)]
    legacy = {1: "pending", size: "success", 3 * size - 1: SENDING}  # what the engine before the shards left
    store.r.hset(f"r:{record}:sms", mapping=legacy)
    assert store.reserve(record, "sms", ids) == legacy
    assert store.raw_results(record, "sms", ids) == {c: legacy.get(c, SENDING) for c in ids}
    store.settle_results(record, "sms", dict.fromkeys(ids, "pending"))  # 1 and `size` had answers: kept, uncounted
    m0 = Counter(store.counters(record)["sms"])
    assert (m0["sent"], m0["pending"]) == (len(ids) - 2, len(ids) - 2)
    receipts = [{"id": f"{record}:sms:{c}", "status": "delivered"} for c in reversed(ids)]
    assert apply_receipts(receipts, store=store) == len(ids) - 1  # all but `size` ("success": no receipt)
    m1 = Counter(store.counters(record)["sms"])
    assert (m1["success"] - m0["success"], m1["pending"] - m0["pending"], m1["sent"]) == (
        len(ids) - 1, -(len(ids) - 1), m0["sent"])
    assert store.raw_results(record, "sms", ids) == {c: "success" if c == size else "+success" for c in ids}
    assert store.results(record, "sms", [1, size, ids[-1]]) == dict.fromkeys((1, size, ids[-1]), "success")
    assert apply_receipts(receipts, store=store) == 0  # again: nothing moves
    shards = {int(k.decode().rsplit(":", 1)[1]): store.r.hkeys(k) for k in store.r.keys(f"r:{record}:sms:*")}
    assert all(int(cid) >> SHARD_BITS == shard for shard, fields in shards.items() for cid in fields)
    assert sorted(shards) == [0, 1, 2, 3, 30]
    assert sorted(int(c) for fields in shards.values() for c in fields) == sorted(c for c in ids if c != size)
