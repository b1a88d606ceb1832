"""Execution runtime: walks batches of customers through a flow on Dramatiq + Redis.

- store.py     Redis state of running rounds (batch members, pending batches, claims, counters, send results,
               waits)
- ports.py     the DB/Redis/channel-backed implementation of components.base.Ports (sends exactly once)
- step.py      one batch through the whole flow (a walk): execute, record, count; waits park
- rounds.py    start a round (materialise the audience into batches), event entries, finish a round, end a
               round whose Redis state was lost (Abnormal End, not Completed)
- entry.py     behaviour events → customers entering event-triggered rounds
- receipts.py  provider receipts: pending sends become success / failed, once
- lifecycle.py start / end times, periodic cycles, re-runs, retention (run by the scheduler)
- rescue.py    pending batches whose message was lost get a new one (run by the scheduler)
- redis_state.py  Redis bound to one database; the per-round markers whose absence means lost state
- reach_refresh.py  the stored Reach Task rows still moving follow the Redis counters (run by the scheduler);
               the Reach pages' live counters of many rounds at once
- inbox.py     receipts / events accepted while Redis was unavailable, kept in the DB and applied later
               (`enter_or_keep` is the API's entry hook)
"""
