"""Apply Alembic migrations up to head (run on every start and by the tests)."""

from alembic import command
from alembic.config import Config

from engine.settings import PROJECT_ROOT


def upgrade_to_head() -> None:
    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "alembic"))
    command.upgrade(cfg, "head")


if __name__ == "__main__":
    upgrade_to_head()
    print("database migrated to head")
