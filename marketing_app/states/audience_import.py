"""CSV import (`/audiences/import`): upload, map the columns, import in a worker thread with progress, and the
report of rejected rows.

The file is read into the server-side state (never sent back to the browser); the mapping step shows the
header with a target per column (a profile field, a tag or attribute named after the column, or left out),
suggested by the engine (`suggested_column`). The import runs as a background event: the engine's
`import_csv` in a worker thread (`asyncio.to_thread`), one write transaction, so the page keeps answering
while 100k rows are checked and written, and a refused file leaves nothing behind. The engine reports
progress through a callback; the background event copies the latest figures into the state a few times a
second while the thread runs.
"""

import asyncio
import threading

import reflex as rx

from engine.errors import ServiceError
from engine.services import audiences as service
from engine.services.audiences import CsvImportError, ImportResult
from engine.shared.customers import PROFILE_FIELDS
from marketing_app.states.auth import AuthState
from marketing_app.states.service import _SignedOut, call_as

MAX_BYTES = 200 * 1024 * 1024
TARGETS: list[tuple[str, str]] = [("qaid", "QAID (required)"), *[(f, f"Profile: {f}") for f in PROFILE_FIELDS]]


class _Progress:
    """The engine's progress callback, read by the event loop (a lock: two threads)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.phase, self.done, self.total = "reading", 0, 1

    def __call__(self, phase: str, done: int, total: int) -> None:
        with self.lock:
            self.phase, self.done, self.total = phase, done, max(total, 1)

    def percent(self) -> tuple[str, int]:
        with self.lock:
            if self.phase == "saving":
                return "Saving customers and members…", 60
            return f"Checking line {self.done:,} of {self.total:,}…", min(55, int(55 * self.done / self.total))


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
    _text: str = ""

    @rx.event
    def load(self):
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
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            return rx.toast.error("The CSV must be UTF-8 text.")
        header = service.csv_header(text)
        if not header:
            return rx.toast.error("The file is empty: the first line must name the columns.")
        self._text, self.file_name = text, upload.name or "upload.csv"
        self.lines = max(0, text.count("\n") + (0 if text.endswith("\n") else 1) - 1)
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
        self.reset()
        self.ready = True

    @rx.event(background=True)
    async def start_import(self):
        async with self:
            if self.step not in ("map", "failed"):
                return
            token = (await self.get_state(AuthState)).session_token
            text, name = self._text, self.name
            columns = [c["target"] or service.SKIP for c in self.columns]
            self.step, self.progress, self.phase, self.message = "running", 0, "Starting…", ""
            self.rejected, self.rejected_total = [], 0
        progress = _Progress()

        def work() -> ImportResult:
            return call_as(token, lambda s, u: service.import_csv(session=s, actor=u, name=name, csv_text=text,
                                                                  columns=columns, progress=progress), write=True)

        task = asyncio.ensure_future(asyncio.to_thread(work))
        while not task.done():
            await asyncio.wait([task], timeout=0.25)
            phase, percent = progress.percent()
            async with self:
                self.phase, self.progress = phase, percent
        async with self:
            try:
                result = task.result()
            except _SignedOut:
                self.step = "map"
                yield rx.redirect("/login", replace=True)
                return
            except CsvImportError as err:
                self.step, self.message = "failed", err.message
                self.rejected = [[str(line), problem] for line, problem in err.errors]
                self.rejected_total = len(err.errors)
                return
            except ServiceError as err:  # a name already taken, a manager, ...
                self.step, self.message = "failed", err.message
                return
            self.step, self.progress, self.audience_id = "done", 100, str(result.audience.id)
            self.summary = (f"“{result.audience.name}”: {result.members:,} members from {result.rows:,} rows; "
                            f"{result.customers_created:,} customers created, {result.customers_updated:,} updated."
                            + (" " + " ".join(result.warnings) if result.warnings else ""))
