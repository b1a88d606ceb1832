"""The page's CSV import, run in a child process: a million rows are parsed, checked and written off the web
server, so its event loop and threads keep answering while the import runs.

Why a process and not a thread of the web server (as before) or a Dramatiq actor: parsing and checking a
million rows is seconds of pure-Python work that, in a thread, holds the web process's GIL against every page
event; an actor would need the file where the workers can read it (the upload lives on the web server's disk)
and a record of the operation with an outbox, for a job the user is watching and that is all-or-nothing
anyway. The child reads the uploaded file, parses it outside any transaction, then writes customers, tags
and members in ONE write transaction (a refused or failed file leaves nothing); its progress and outcome come
back over a queue, which the page drains with `ImportJob.poll` (never blocking). If the web server stops, the
child goes with it and its transaction rolls back: nothing is half-imported, the user imports again.
"""

import logging
import multiprocessing
import multiprocessing.connection
import os
import queue
import traceback
from dataclasses import dataclass, field
from multiprocessing.context import SpawnProcess
from typing import Any

from engine.db import read_session, write_session
from engine.errors import Forbidden, ServiceError
from engine.models import User
from engine.permissions import require_writer
from engine.services import audiences

log = logging.getLogger(__name__)
_SPAWN = multiprocessing.get_context("spawn")  # a fresh interpreter: no copy of the web server's threads or loop


@dataclass
class ImportStatus:
    """What the page shows: the phase and counts while it runs, then the outcome (`state` not "running")."""

    state: str = "running"  # running / done / refused (CsvImportError) / failed (any other refusal or error)
    phase: str = "starting"  # starting / reading / saving
    done: int = 0
    total: int = 1
    message: str = ""  # refused / failed: the reason in words
    errors: list[tuple[int, str]] = field(default_factory=list)  # refused: (line, problem)
    audience_id: int | None = None
    audience_name: str = ""
    rows: int = 0
    members: int = 0
    customers_created: int = 0
    customers_updated: int = 0
    warnings: list[str] = field(default_factory=list)


def _run(out: Any, user_id: int, name: str, path: str, columns: list[str] | None) -> None:
    """The child: import the file as the user, reporting ("progress", phase, done, total) then one outcome."""
    def progress(phase: str, done: int, total: int) -> None:
        out.put(("progress", phase, done, total))

    try:
        with read_session() as session:  # refuse a taken name or a reader before reading a million lines
            actor = session.get(User, user_id)
            if actor is None:
                raise Forbidden("Your account can no longer import audiences.")
            require_writer(actor)
            audiences.check_name(session, actor.workspace_id, name)
        with open(path, "rb") as handle:
            text = audiences.decode_csv(handle.read())
        parsed = audiences.parse_csv(text, columns, progress)
        del text
        with write_session() as session:  # SQLite's write lock is taken only now, for the write alone
            actor = session.get(User, user_id)
            if actor is None:
                raise Forbidden("Your account can no longer import audiences.")
            result = audiences.import_csv(session=session, actor=actor, name=name, columns=columns,
                                          progress=progress, parsed=parsed)
            done = ("done", {"audience_id": result.audience.id, "audience_name": result.audience.name,
                             "rows": result.rows, "members": result.members,
                             "customers_created": result.customers_created,
                             "customers_updated": result.customers_updated, "warnings": result.warnings})
        out.put(done)
    except audiences.CsvImportError as err:
        out.put(("refused", err.message, err.errors))
    except ServiceError as err:
        out.put(("failed", err.message, []))
    except Exception as err:  # noqa: BLE001 — said on the page; the transaction rolled back
        log.error("audience import failed: %s", traceback.format_exc())
        out.put(("failed", f"The import failed ({err.__class__.__name__}); nothing was imported.", []))


class ImportJob:
    """One import running in a child process. `poll()` drains its messages without blocking."""

    def __init__(self, *, user_id: int, name: str, path: str, columns: list[str] | None = None) -> None:
        self.status = ImportStatus()
        self._queue: Any = _SPAWN.Queue()
        self._process: SpawnProcess = _SPAWN.Process(target=_run, args=(self._queue, user_id, name, path, columns),
                                                     daemon=True, name="audience-import")
        self._process.start()

    def poll(self) -> ImportStatus:
        """The latest status; a child that died without a word (killed, out of memory) reads as failed."""
        while True:
            try:
                message = self._queue.get_nowait()
            except queue.Empty:
                break
            self._apply(message)
        if self.status.state == "running" and not self._process.is_alive():
            try:  # its last words may arrive just after it exits
                self._apply(self._queue.get(timeout=1))
            except queue.Empty:
                self.status.state = "failed"
                self.status.message = (f"The import stopped unexpectedly (exit code {self._process.exitcode}); "
                                       "nothing was imported.")
        if self.status.state != "running":
            self._process.join(timeout=5)
        return self.status

    def _apply(self, message: tuple[Any, ...]) -> None:
        kind = message[0]
        if kind == "progress":
            self.status.phase, self.status.done, self.status.total = message[1], message[2], max(1, message[3])
        elif kind == "done":
            self.status.state = "done"
            for key, value in message[1].items():
                setattr(self.status, key, value)
        else:
            self.status.state, self.status.message, self.status.errors = kind, message[1], list(message[2])

    def wait(self, timeout: float) -> None:
        """Block until the child says something or ends, at most `timeout` seconds (for callers without a loop
        of their own to pace the polls)."""
        multiprocessing.connection.wait([self._queue._reader, self._process.sentinel], timeout)

    @property
    def pid(self) -> int | None:
        return self._process.pid

    def cancel(self) -> None:
        """Stop the child (its transaction rolls back)."""
        if self._process.is_alive():
            self._process.terminate()
        self._process.join(timeout=5)


def remove_file(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
