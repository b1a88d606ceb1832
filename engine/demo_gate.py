"""Whether the run command loads the demo (its users have passwords printed in the README).

Only into the embedded default database (the SQLite file the settings default to), or anywhere when asked with
DEMO=1; DEMO=0 never. A server database instead gets the step that makes a first admin with a password of the
operator's own. scripts/run.sh calls `python -m engine.demo_gate`: exit 0 = load the demo, 1 = do not.
"""

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import make_url

from engine.settings import Settings, get_settings

CREATE_ADMIN = "python -m engine.admin create-admin --username <name>"


@dataclass(frozen=True)
class Decision:
    load: bool
    reason: str


def _sqlite_path(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database).expanduser().resolve()


def is_embedded_default(database_url: str) -> bool:
    """The settings' own default: the SQLite file under data/ of this checkout."""
    default = _sqlite_path(str(Settings.model_fields["database_url"].default))
    return default is not None and _sqlite_path(database_url) == default


def decide(database_url: str, demo: str | None) -> Decision:
    flag = (demo or "").strip()
    if flag == "1":
        return Decision(True, "DEMO=1: loading the demo data (users with the README's known passwords)")
    if flag == "0":
        return Decision(False, f"DEMO=0: no demo data; make a first admin with: {CREATE_ADMIN}")
    if is_embedded_default(database_url):
        return Decision(True, "the embedded default database: loading the demo data")
    return Decision(False, "a server or custom database: no demo data (its users have known passwords; DEMO=1 "
                           f"loads it anyway); make a first admin with: {CREATE_ADMIN}")


def main() -> int:
    decision = decide(get_settings().database_url, os.environ.get("DEMO"))
    print(f"[run] {decision.reason}", file=sys.stderr)
    return 0 if decision.load else 1


if __name__ == "__main__":
    sys.exit(main())
