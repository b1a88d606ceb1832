"""The layer below both the services and the runtime: what the two need alike, actor-free (no permission
checks: the services check before they call it, the runtime acts for nobody) and never importing either.

- customers.py      customers and their tags: bulk upsert by QAID, lookups, tag reads/writes
- audiences.py      who is in an audience: the rule format, validator and compiler; materialise, count, membership
- trigger_index.py  which event names start which in-progress activities (cached in Redis)
- trigger_watch.py  the session listener that invalidates it whenever an activity's status or live version moves
- in_progress.py    an activity entering In Progress: status check, the in-progress cap, a new execution record,
                    a re-run round
"""
