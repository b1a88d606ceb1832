"""Apply Alembic migrations up to head (run on every start and by the tests), then bind Redis to this database.

`python -m engine.migrate --bind-redis` is the run command's first step, before any engine process starts: it is where a
Redis holding another database's engine state (a new database next to an old data/dump.rdb) is cleared, loudly
(engine/runtime/redis_state.py). The engine processes only check, and refuse to start on a foreign Redis.
The binding is asked for with `--bind-redis` (scripts/run.sh passes it): migrating a database alone (tests, a
machine without the engine's Redis) never touches a Redis."""

import logging
import sys

from alembic import command
from alembic.config import Config

from engine.runtime import redis_state
from engine.runtime.connection import get_redis
from engine.settings import PROJECT_ROOT


def upgrade_to_head() -> None:
    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "alembic"))
    command.upgrade(cfg, "head")


def bind_redis() -> str | None:
    """Bind the engine's Redis to this database, clearing another database's state (see the module doc)."""
    return redis_state.bind_at_boot(get_redis(), clear=True, wait_s=30.0)


def main(argv: list[str]) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    upgrade_to_head()
    print("database migrated to head")
    if "--bind-redis" in argv:
        print(f"Redis bound to this database ({bind_redis()})")


if __name__ == "__main__":
    main(sys.argv[1:])
