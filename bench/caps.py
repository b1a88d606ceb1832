"""`bench.throughput --cap`: the workspace's frequency caps switched on for the benchmark flow (issue 16), so the
throughput it keeps can be set against the run without them. The rules hold every customer's one touch (nobody is
capped): what is measured is the check itself — one Lua call per batch per touch and a history key per customer."""

from engine.db import write_session
from engine.models.frequency_cap import ANY_CHANNEL, FrequencyCap
from engine.runtime.connection import get_redis

RULES = [(ANY_CHANNEL, 5, 7), ("text_sms", 3, 7), ("email", 3, 7), ("app_push", 3, 7)]


def switch_on(workspace_id: int) -> None:
    with write_session() as session:
        for channel, most, days in RULES:
            session.add(FrequencyCap(workspace_id=workspace_id, channel=channel, max_messages=most, window_days=days))


def histories(workspace_id: int) -> int:
    """Customers whose send history the caps keep (one key each): proof the check ran."""
    return sum(1 for _ in get_redis().scan_iter(match=f"fc:{workspace_id}:*", count=10_000))
