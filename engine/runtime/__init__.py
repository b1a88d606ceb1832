"""Execution runtime: moves batches of customers through a flow on Dramatiq + Redis.

- store.py     Redis state of running rounds (batch members, pending batches, counters, send results, waits)
- ports.py     the DB/Redis/channel-backed implementation of components.base.Ports
- step.py      one batch through one component: execute, record, count, route to the next components
- rounds.py    start a round (materialise the audience into batches), event entries, finish a round
"""
