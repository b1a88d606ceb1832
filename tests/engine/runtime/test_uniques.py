"""The versions' HyperLogLogs by route (engine/runtime/uniques.py), on a real Redis: each customer is added once,
to its route's key, and a component's estimate is the union of the routes through it — and of its own key, kept
by versions walked before the routes."""

import redis

from engine.runtime import uniques

ORDER = {n: i for i, n in enumerate(sorted(["t", "split", "sms", "push", "end", "routes", "m:1", "{"]))}


def near(got: dict[tuple[int, str], int], want: dict[tuple[int, str], int]) -> bool:
    """The same pairs, each count within HyperLogLog's error (0.81 % standard error; a union of several keys is
    merged dense, so even small counts are estimates): 2 %, or 1."""
    return got.keys() == want.keys() and all(abs(got[k] - n) <= max(1, 0.02 * n) for k, n in want.items())


def test_one_add_per_customer_and_each_component_counts_the_routes_through_it(redis_url: str) -> None:
    r = redis.Redis.from_url(redis_url)
    everyone = list(range(1, 301))
    sms, push = everyone[:100], everyone[100:]
    walk = [("t", everyone), ("split", everyone), ("sms", sms), ("push", push), ("end", everyone)]
    pipe = r.pipeline(transaction=True)
    uniques.add(pipe, 7, walk, ORDER)
    adds = [c[0] for c in pipe.command_stack if c[0][0] == "PFADD"]
    pipe.execute()
    # two routes (t-split-sms-end, t-split-push-end): two PFADDs carrying 300 ids, not five carrying 1,100
    assert len(adds) == 2 and sorted(len(a) - 2 for a in adds) == [100, 200]
    assert near(uniques.estimates(r, [7], ["t", "sms", "push", "end", "routes"]), {
        (7, "t"): 300, (7, "sms"): 100, (7, "push"): 200, (7, "end"): 300})  # "routes" was never walked
    # a second round (or a retried walk) adds the same customers: counted once
    pipe = r.pipeline(transaction=True)
    uniques.add(pipe, 7, walk, ORDER)
    pipe.execute()
    assert near(uniques.estimates(r, [7], ["t", "sms"]), {(7, "t"): 300, (7, "sms"): 100})


def test_older_per_component_keys_and_odd_component_ids_join_the_union(redis_url: str) -> None:
    """A version walked before the routes kept `u:{version}:{node}`: still read, in the same union. Component ids
    that look like the routes' own keys ("routes", "m:1", "{") collide with nothing."""
    r = redis.Redis.from_url(redis_url)
    r.pfadd(uniques.key(8, "sms"), *range(1, 51))  # the old form: customers 1–50 reached sms
    r.pfadd(uniques.key(8, "routes"), *range(1, 11))
    pipe = r.pipeline(transaction=True)
    uniques.add(pipe, 8, [("t", list(range(41, 81))), ("sms", list(range(41, 81))), ("m:1", [5]), ("{", [6])],
                ORDER)
    pipe.execute()
    assert near(uniques.estimates(r, [8], ["t", "sms", "routes", "m:1", "{"]), {
        (8, "t"): 40, (8, "sms"): 80, (8, "routes"): 10, (8, "m:1"): 1, (8, "{"): 1})
    # over versions: the union of every version's keys for the node
    pipe = r.pipeline(transaction=True)
    uniques.add(pipe, 9, [("sms", list(range(71, 121)))], ORDER)
    pipe.execute()
    union = uniques.union_estimates(r, [8, 9], ["sms", "push"])
    assert union.keys() == {"sms"} and abs(union["sms"] - 120) <= 2
    assert near(uniques.estimates(r, [9], ["sms", "t"]), {(9, "sms"): 50})
