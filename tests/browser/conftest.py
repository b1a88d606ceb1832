"""The running app for browser tests, started exactly as scripts/run.sh does (tests/browser/harness.py), once
per test file.

Migrate + demo data go into a fresh SQLite file under the test's tmp dir. A worker's first app is `reflex run
--env prod` on a free port; the next ones serve that build on the same port with the app's backend alone
(harness.py `_serve`, serve_built.py): ~10 s instead of ~35 s a file on a busy machine. The frontend is built in
tmp/browser-web-<xdist worker> (kept between runs; bun hard-links its packages from .tools/bun-cache, so a copy
costs little). scripts/test.sh uses `--dist loadfile`, so the tests of one file run on one worker and share
one app; a file's tests may change the data, no other file sees it. (`--dist loadgroup` would be the tool for
more, but pytest 9.2 + xdist 3.8 silently ignore xdist_group: pytest-xdist issue #1386.)
"""

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.browser.harness import ROOT, RunningApp, launch_chromium, running_app
from tests.browser.settle import TRACK_DELAYS

#: BROWSER_WEB_DIR lets two pytest runs side by side keep separate frontend builds
WEB_DIR = Path(os.environ.get("BROWSER_WEB_DIR")
               or ROOT / "tmp" / f"browser-web-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}").resolve()
OUTPUT_DIR = ROOT / "test-output"
UI_TIMEOUT_MS = 15_000

__all__ = ["RunningApp", "Shot"]


@pytest.fixture(scope="module")
def app_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    """One app per test file, over a fresh copy of the demo data: a file's tests may change what they like."""
    work = tmp_path_factory.mktemp("app")
    with running_app(f"sqlite:///{work / 'app.db'}", work, WEB_DIR) as app:
        yield app


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as pw:
        b = launch_chromium(pw)
        yield b
        b.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[pytest.TestReport]:
    report = yield
    if report.when == "call":
        item.stash[_FAILED] = report.failed
    return report


_FAILED = pytest.StashKey[bool]()


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A new browser context per test: no cookie (session) carries over between tests.
    A failing test leaves failure.png (what the browser showed) in test-output/<test>/."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    context.add_init_script(TRACK_DELAYS)  # the canvas's pending moves, for tests/browser/settle.py
    context.set_default_timeout(UI_TIMEOUT_MS)
    expect.set_options(timeout=UI_TIMEOUT_MS)
    pg = context.new_page()
    yield pg
    if request.node.stash.get(_FAILED, False):
        dest = OUTPUT_DIR / request.node.name
        dest.mkdir(parents=True, exist_ok=True)
        pg.screenshot(path=str(dest / "failure.png"), full_page=True)
        (dest / "failure-url.txt").write_text(pg.url + "\n")
    context.close()


Shot = Callable[..., Path]


@pytest.fixture
def shot(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Shot]:
    """shot(page, "name") saves name.png (what the 1440×900 window shows; full=True: the whole page) in the test's
    tmp dir; at the end they are copied to test-output/."""
    taken: list[Path] = []

    def take(pg: Page, name: str, *, full: bool = False) -> Path:
        path = tmp_path / f"{len(taken) + 1:02d}-{name}.png"
        pg.screenshot(path=str(path), full_page=full)
        taken.append(path)
        return path

    yield take
    dest = OUTPUT_DIR / request.node.name
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True, exist_ok=True)
    for path in taken:
        shutil.copy2(path, dest / path.name)
