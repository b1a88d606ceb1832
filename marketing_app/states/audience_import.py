"""CSV import (`/audiences/import`): upload, map the columns, import in a child process with progress, and the
report of rejected rows.

The upload is written to a file on the server (`data/imports/`; only its path is kept in the state, never the
text: a 60 MB file would otherwise ride along with every state update); the mapping step shows the header with
a target per column (a profile field, a tag or attribute named after the column, or left out), suggested by the
engine (`suggested_column`). The import runs in a child process (`engine.services.audience_import.ImportJob`):
parsing and checking a million rows there never holds this process's GIL, and its one write transaction means a
refused file leaves nothing behind. A background event polls the job's progress four times a second and copies
it into the state; the file is removed when the job ends.
"""

import asyncio
import os
import tempfile
from pathlib import Path

import reflex as rx

from engine.services import audiences as service
from engine.services.audience_import import ImportJob, ImportStatus, remove_file
from engine.services.consent import CHANNELS as CONSENT_CHANNELS
from engine.settings import get_settings
from engine.shared.customers import PROFILE_FIELDS
from marketing_app.states.auth import AuthState
from marketing_app.states.service import _SignedOut, call_as

MAX_BYTES = 200 * 1024 * 1024
TARGETS: list[tuple[str, str]] = [("qaid", "QAID (required)"), *[(f, f"Profile: {f}") for f in PROFILE_FIELDS],
                                  *[(f"optout:{t}", f"Opt-out: {label}") for t, label in CONSENT_CHANNELS.items()]]


def _upload_dir() -> Path:
    """Next to the SQLite database (data/imports), or the system's temporary directory for a server database."""
    url = get_settings().database_url
    base = Path(url.split("///", 1)[-1]).parent if url.startswith("sqlite:///") else Path(tempfile.gettempdir())
    folder = base / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _keep(data: bytes) -> tuple[list[str], int, str]:
    """The header, the number of data lines, and the file written to the upload folder (UnicodeDecodeError
    when it is not UTF-8)."""
    text = data.decode("utf-8-sig")
    header = service.csv_header(text[:65536])
    lines = max(0, text.count("\n") + (0 if text.endswith("\n") else 1) - 1)
    handle, path = tempfile.mkstemp(suffix=".csv", dir=_upload_dir())
    with os.fdopen(handle, "wb") as out:
        out.write(data)
    return header, lines, path


def _progress(status: ImportStatus) -> tuple[str, int]:
    """The bar: reading the file is the first 40 %, writing the rest."""
    if status.phase == "saving":
        return (f"Saving customers and members: {status.done:,} of {status.total:,} rows written…",
                40 + int(59 * status.done / status.total))
    if status.phase == "reading":
        return f"Checking line {status.done:,} of {status.total:,}…", min(40, int(40 * status.done / status.total))
    return "Starting…", 0


class AudienceImportState(rx.State):
    step: str = "upload"  # upload / map / running / done / failed
    name: str = ""
    file_name: str = ""
    columns: list[dict[str, str]] = []  # index, header, target, tag (tag:<header>), attr (attr:<header>)
    lines: int = 0
    phase: str = ""
    progress: int = 0
    message: str = ""  # the refusal in words
    rejected: list[list[str]] = []  # [line, reason]
    rejected_total: int = 0
    summary: str = ""
    audience_id: str = ""
    ready: bool = False  # set by `load`: the drop zone shows only after the reset, so a file never races it
    _path: str = ""  # the uploaded file on the server

    @rx.event
    def load(self):
        if self._path:
            remove_file(self._path)
        self.reset()
        self.ready = True

    @rx.event
    def set_name(self, value: str):
        self.name = value

    @rx.event
    async def handle_upload(self, files: list[rx.UploadFile]):
        if not files:
            return None
        upload = files[0]
        data = await upload.read()
        if len(data) > MAX_BYTES:
            return rx.toast.error(f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB.")
        try:
            header, lines, path = await asyncio.to_thread(_keep, data)  # off the event loop: 65 MB take a while
        except UnicodeDecodeError:
            return rx.toast.error("The CSV must be UTF-8 text.")
        if not header:
            remove_file(path)
            return rx.toast.error("The file is empty: the first line must name the columns.")
        if self._path:
            remove_file(self._path)
        self._path, self.file_name, self.lines = path, upload.name or "upload.csv", lines
        if not self.name:
            self.name = self.file_name.rsplit(".", 1)[0][:60]
        self.columns = [{"index": str(i), "header": h, "target": service.suggested_column(h),
                         "tag": f"tag:{h.strip()}", "attr": f"attr:{h.strip()}"}
                        for i, h in enumerate(header)]
        self.step, self.message, self.rejected, self.rejected_total = "map", "", [], 0
        return None

    @rx.event
    def set_target(self, index: str, value: str):
        self.columns = [{**c, "target": value} if c["index"] == index else c for c in self.columns]

    @rx.event
    def start_over(self):
        if self._path:
            remove_file(self._path)
        self.reset()
        self.ready = True

    @rx.event(background=True)
    async def start_import(self):
        async with self:
            if self.step not in ("map", "failed") or not self._path:
                return
            token = (await self.get_state(AuthState)).session_token
            path, name = self._path, self.name
            columns = [c["target"] or service.SKIP for c in self.columns]
            self.step, self.progress, self.phase, self.message = "running", 0, "Starting…", ""
            self.rejected, self.rejected_total = [], 0
        try:
            user_id = await asyncio.to_thread(call_as, token, lambda s, u: u.id)
        except _SignedOut:
            async with self:
                self.step = "map"
            yield rx.redirect("/login", replace=True)
            return
        job = await asyncio.to_thread(ImportJob, user_id=int(user_id or 0), name=name, path=path, columns=columns)
        status = job.poll()
        while status.state == "running":
            await asyncio.sleep(0.25)
            status = job.poll()
            phase, percent = _progress(status)
            async with self:
                self.phase, self.progress = phase, percent
        async with self:
            if status.state == "refused":
                self.step, self.message = "failed", status.message
                self.rejected = [[str(line), problem] for line, problem in status.errors]
                self.rejected_total = len(status.errors)
                return
            if status.state == "failed":  # a name already taken, a manager, the database failed, ...
                self.step, self.message = "failed", status.message
                return
            remove_file(path)
            self._path = ""
            self.step, self.progress, self.audience_id = "done", 100, str(status.audience_id)
            self.summary = (f"“{status.audience_name}”: {status.members:,} members from {status.rows:,} rows; "
                            f"{status.customers_created:,} customers created, {status.customers_updated:,} updated."
                            + (" " + " ".join(status.warnings) if status.warnings else ""))
