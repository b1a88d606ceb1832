"""The migrations form one line: branches built side by side each add a migration after the same parent, and a
merge that forgets to chain them leaves several heads — then `upgrade head` refuses and every database-backed
test errors. This says so in one line instead, naming the heads."""

from alembic.config import Config
from alembic.script import ScriptDirectory

from engine.settings import PROJECT_ROOT


def test_one_head() -> None:
    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "alembic"))
    heads = ScriptDirectory.from_config(cfg).get_heads()
    assert len(heads) == 1, f"several migration heads {sorted(heads)}: set each one's down_revision to chain them"
