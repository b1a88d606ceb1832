"""Redis state belongs to one database (engine/runtime/redis_state.py): a fresh pairing binds, another
database's state is refused by the engine processes and cleared by `engine.migrate --bind-redis`, so a new
database never shows an old database's counters under its reused record ids."""

import subprocess
import sys
from collections.abc import Callable

import pytest

from engine import migrate
from engine.db import read_session
from engine.models import ExecutionRecord
from engine.runtime import redis_state
from engine.runtime.connection import get_redis
from engine.runtime.store import RoundStore
from engine.services.execution import counters_of
from engine.status import RecordStatus
from tests.databases import use_database
from tests.engine.runtime import support as s

N = 60


def _run_a_round() -> int:
    activity_id, _ = s.seed_activity(N)
    record_id = s.records(activity_id)[0].id
    s.run_in_process(record_id)
    return record_id


def _counters(record_id: int) -> dict[str, dict[str, int]]:
    with read_session() as session:
        record = session.get(ExecutionRecord, record_id)
        assert record is not None
        return counters_of(session, record)


@pytest.fixture
def first_database(make_database: Callable[[str], str], redis_url: str, simulator, monkeypatch) -> str:
    """Database A ran a round (record 1) whose counters live in Redis, bound to A."""
    monkeypatch.setenv("PROVIDER_URL", simulator.url)
    url = make_database("sqlite")
    assert redis_state.bind(get_redis(), clear=False) == "bound"
    record_id = _run_a_round()
    assert _counters(record_id)["t"]["entered"] == N
    return url


def test_a_fresh_pairing_binds_redis_to_the_database_once(database: str, redis_url: str) -> None:
    r = get_redis()
    assert r.dbsize() == 0
    assert redis_state.bind(r, clear=False) == "bound"
    assert r.get(redis_state.IDENTITY_KEY).decode() == redis_state.database_identity()
    assert redis_state.bind(r, clear=False) == "ours"  # every later start: nothing to do
    assert r.dbsize() == 1


def test_a_new_database_next_to_an_old_redis_is_refused_by_processes_and_cleared_by_migrate(
        first_database: str, make_database: Callable[[str], str], monkeypatch, simulator) -> None:
    a_identity = redis_state.database_identity()
    second = make_database("sqlite")  # database B: a new identity, the same record ids
    b_identity = redis_state.database_identity()
    assert b_identity != a_identity
    record_id = s.records(s.seed_activity(N)[0])[0].id
    assert record_id == 1  # the id A's counters in Redis are filed under
    r = get_redis()
    # an engine process starting on B refuses A's Redis, with words saying what to do
    with pytest.raises(redis_state.ForeignRedis, match="another Redis|engine.migrate --bind-redis"):
        redis_state.bind(r, clear=False)
    done = subprocess.run([sys.executable, "-m", "engine.scheduler"], env=s.engine_env(), capture_output=True,
                          text=True, timeout=60)
    assert done.returncode != 0 and a_identity in done.stderr and "--bind-redis" in done.stderr
    from engine.api.app import runtime_app

    with pytest.raises(redis_state.ForeignRedis):  # the API as the run command serves it
        runtime_app()
    assert r.get(redis_state.IDENTITY_KEY).decode() == a_identity  # refused: nothing was touched
    # the run command's first step clears it, loudly, and binds Redis to B
    migrate.main(["--bind-redis"])
    assert r.get(redis_state.IDENTITY_KEY).decode() == b_identity
    assert r.dbsize() == 1  # A's batches, counters, results and queues are gone
    with read_session() as session:
        record = session.get(ExecutionRecord, record_id)
        assert record is not None and record.status == RecordStatus.IN_PROGRESS
        assert counters_of(session, record) == {}  # none of A's record 1
    use_database(second, monkeypatch)


def test_an_unbound_old_snapshot_next_to_a_new_database_is_foreign(first_database: str,
                                                                   make_database: Callable[[str], str]) -> None:
    """A dump.rdb from before identities existed: keys but no identity, and a database that never ran a round."""
    r = get_redis()
    r.delete(redis_state.IDENTITY_KEY)
    make_database("sqlite")
    with pytest.raises(redis_state.ForeignRedis, match="never run a round"):
        redis_state.bind(r, clear=False)
    assert redis_state.bind(r, clear=True) == "cleared"
    assert r.dbsize() == 1 and RoundStore(r).counters(1) == {}


def test_an_unbound_redis_of_a_database_with_rounds_is_adopted_and_its_running_rounds_keep_their_state(
        database: str, redis_url: str, simulator, monkeypatch) -> None:
    """An installation upgraded from before identities: its Redis is its own, running rounds are not lost."""
    monkeypatch.setenv("PROVIDER_URL", simulator.url)
    activity_id, _ = s.seed_activity(N)
    record_id = s.records(activity_id)[0].id
    r = get_redis()
    r.sadd(f"pending:{record_id}", "e0")  # as if its first batch were waiting, written by the old version
    assert redis_state.bind(r, clear=False) == "adopted"
    assert redis_state.present(r, record_id)


def test_the_worker_refuses_to_boot_on_another_databases_redis(first_database: str,
                                                               make_database: Callable[[str], str], tmp_path) -> None:
    make_database("sqlite")
    worker = s.worker(s.engine_env(), tmp_path).start()
    try:
        s.wait_for(lambda: "Refusing to start" in worker.log(), 60, what="the worker's refusal")
    finally:
        worker.kill()
    r = get_redis()
    assert r.get(redis_state.IDENTITY_KEY).decode() != redis_state.database_identity()  # still A's, untouched
    assert r.exists("ck:1")
