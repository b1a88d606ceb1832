"""Services: keyword-only functions taking the acting user and a session; every rule is checked here."""

from engine.services import stop_watch  # noqa: F401  (session listener: a stopped round sends nothing more)
from engine.shared import (
    reach_rows,  # noqa: F401  (session listener: the stored Reach Task rows)
    trigger_watch,  # noqa: F401  (session listener: trigger index follows activity status)
)
