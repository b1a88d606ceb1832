"""The campaign canvas in Chromium: time from a drop, a connect or an insert to the saved graph shown, the cold
open of a 60-component canvas, and what a drag or a zoom costs on it.

    python bench/canvas_bench.py            # starts the app on a fresh demo database, measures, prints

The app is started exactly as the browser tests start it (tests/browser/harness.py: migrations, the demo data,
`reflex run --env prod` on a free port, frontend built in tmp/bench-canvas-web). A 60-component flow is created
through the engine's service; every measurement runs on that canvas, zoomed in as a marketer would work on it:

- drop: an End dragged from the palette onto the "+" at the end of a link;
- connect: a line dragged from a component's right handle onto a component of another branch;
- insert: a line's "+" → a Text SMS in the menu (the card is selected and its panel opens).

Each is timed IN THE PAGE, from the canvas's action (performance.now() when the JSX hands the action to Reflex:
at the drop, at the release of the line, at the click in the menu) to the second animation frame after the
server's new graph was rendered with every card measured and visible and every line drawn — the full round trip:
websocket event, the engine's flow operation on the state's graph, the state delta, React Flow's render, the
paint. Each is undone (Ctrl+Z) before the next, so every measurement sees the same 60 components.

Cold open: a new browser context with the signed-in cookie, from navigation to the 60 cards on screen.
Drag / zoom: frame intervals while a card is dragged across the canvas (and how many events reach the server
meanwhile: none until the drop), and while the canvas is zoomed with the mouse wheel.
"""

import argparse
import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import Locator, Page, WebSocket, sync_playwright  # noqa: E402

from tests.browser.canvas_ui import card, fit, line_tools, new_activity, plus, settle, zoom  # noqa: E402
from tests.browser.harness import launch_chromium, running_app  # noqa: E402

VIEWPORT = {"width": 1440, "height": 900}
CHAIN = [("text_sms", {"content": "Hi {name}, new arrivals"}), ("wait_until", {"mode": "period", "hours": 2}),
         ("email", {"subject": "For you", "body": "Hello {name}"}), ("tag", {"tag": "level", "value": "VIP"}),
         ("app_push", {"title": "Back in stock", "body": "{name}, it is back"}),
         ("webhook", {"url": "https://crm.example.com/hook"})]

#: resolves with the ms from the canvas's last action to the 2nd frame after the new graph is on screen
_ARM = """
() => {
  const root = document.querySelector('.fc-root');
  const rev0 = root.dataset.rev;
  window.__wait = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no new graph within 10 s')), 10000);
    const seen = new MutationObserver(() => {
      if (root.dataset.rev === rev0) return;
      seen.disconnect();
      const shown = () => {  // every card measured and visible, every line drawn
        const hidden = [...document.querySelectorAll('.react-flow__node')]
          .some((n) => getComputedStyle(n).visibility === 'hidden');
        const lines = document.querySelectorAll('.react-flow__edge').length;
        if (hidden || lines !== Number(root.dataset.lines)) { requestAnimationFrame(shown); return; }
        requestAnimationFrame(() => requestAnimationFrame(() => {
          clearTimeout(timer);
          resolve([performance.now() - window.__fc.t0, (window.__fc.committed || 0) - window.__fc.t0]);
        }));
      };
      shown();
    });
    seen.observe(root, {attributes: true, attributeFilter: ['data-rev']});
  });
}
"""
_FRAMES = """
(ms) => new Promise((resolve) => {
  const out = []; let last = performance.now(); const end = last + ms;
  const tick = (t) => { out.push(t - last); last = t; if (t < end) requestAnimationFrame(tick); else resolve(out); };
  requestAnimationFrame(tick);
})
"""


def sixty() -> dict[str, Any]:
    """A trigger, a 3-way random grouping and three branches of 19 / 19 / 20 components (60 in all); the first
    two branches end in an End, the third is left open (its "+" is the drop target)."""
    def node(nid: str, type_: str, x: float, y: float, config: dict[str, Any]) -> dict[str, Any]:
        return {"id": nid, "type": type_, "config": config, "position": {"x": x, "y": y}}

    nodes = [node("n1", "target_audience", 0, 280, {"audience_id": 1}),
             node("n2", "random_grouping", 260, 280, {"groups": [{"ratio": 30}, {"ratio": 30}, {"ratio": 40}]})]
    edges = [{"source": "n1", "branch": "out", "target": "n2"}]
    k = 3
    for branch, (length, y) in enumerate(((19, 0), (19, 280), (20, 560))):
        prev, prev_branch = "n2", f"group_{branch + 1}"
        for i in range(length):
            nid = f"n{k}"
            last = i == length - 1 and branch < 2
            t, config = ("end", {}) if last else CHAIN[i % len(CHAIN)]
            nodes.append(node(nid, t, 520 + i * 260, y, dict(config)))
            edges.append({"source": prev, "branch": prev_branch, "target": nid})
            prev, prev_branch, k = nid, "out", k + 1
    assert len(nodes) == 60
    return {"nodes": nodes, "edges": edges}


def cpu_model() -> str:
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
        return next(line.split(":", 1)[1].strip() for line in lines if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or "unknown CPU"


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]


def report(name: str, values: list[float], target: float | None) -> str:
    p50, p95 = statistics.median(values), percentile(values, 95)
    verdict = "" if target is None else f"  (target p95 <= {target:.0f} ms: {'ok' if p95 <= target else 'OVER'})"
    return f"{name:<14} n={len(values):<3} p50={p50:7.1f} ms  p95={p95:7.1f} ms  max={max(values):7.1f} ms{verdict}"


def sign_in(page: Page, url: str) -> None:
    page.goto(f"{url}/login")
    page.fill("#login-username", "marketer")
    page.fill("#login-password", "marketer123")
    page.click("#login-submit")
    page.wait_for_selector(".activity-row", timeout=60_000)


def shown(page: Page, count: int) -> None:
    page.wait_for_function("""(n) => { const cards = document.querySelectorAll('.react-flow__node-step');
        return cards.length === n && [...cards].every((c) => getComputedStyle(c).visibility !== 'hidden'); }""",
                           arg=count, timeout=60_000)


def zoom_near(page: Page, target: Locator, level: int = 90) -> None:
    """Wheel-zoom towards an element of the canvas until it shows at about `level` %."""
    for _ in range(30):
        box = target.bounding_box()
        assert box is not None
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        if zoom(page) >= level:
            break
        page.mouse.wheel(0, -120)
        page.wait_for_timeout(60)
    settle(page)


#: per action: ms from the action to the new graph in the DOM (round trip + React commit), the rest is paint
COMMITTED: dict[str, list[float]] = {}


def timed(page: Page, action, name: str = "") -> float:
    page.evaluate(_ARM)
    action()
    total, committed = page.evaluate("window.__wait")
    COMMITTED.setdefault(name, []).append(float(committed))
    return float(total)


def undo(page: Page) -> None:
    page.evaluate(_ARM)
    page.keyboard.press("Control+z")
    page.evaluate("window.__wait")
    page.wait_for_timeout(80)


def drops(page: Page, runs: int) -> list[float]:
    out = []
    for _ in range(runs + 1):
        target = plus(page, "n60")
        out.append(timed(page, lambda t=target: page.locator('[data-palette="end"]').drag_to(t), "drop"))
        undo(page)
    return out[1:]  # the first one warms up


def connects(page: Page, runs: int) -> list[float]:
    out = []
    for _ in range(runs + 1):
        handle = card(page, "n8").locator(".fc-out").first.bounding_box()
        target = card(page, "n28").bounding_box()
        assert handle is not None and target is not None

        def drag(h=handle, t=target) -> None:
            page.mouse.move(h["x"] + h["width"] / 2, h["y"] + h["height"] / 2)
            page.mouse.down()
            page.mouse.move(t["x"] + t["width"] / 2, t["y"] + t["height"] / 2, steps=6)
            page.mouse.up()

        out.append(timed(page, drag, "connect"))
        undo(page)
    return out[1:]


def inserts(page: Page, runs: int) -> list[float]:
    out = []
    for _ in range(runs + 1):
        tools = line_tools(page, "n47", "n48")
        box = tools.bounding_box()
        assert box is not None
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, steps=2)
        tools.locator('[data-tool="insert"]').click()
        item = page.locator('.fc-menu [data-menu-type="text_sms"]')
        out.append(timed(page, item.click, "insert"))
        undo(page)
        page.mouse.move(5, 5)
    return out[1:]


def frames_while(page: Page, ms: int, action) -> list[float]:
    handle = page.evaluate_handle(_FRAMES, ms)
    action()
    values = handle.json_value()
    return [float(v) for v in values][1:]


@contextmanager
def _app(url: str | None, database_url: str | None) -> Iterator[tuple[str, str]]:
    if url and database_url:
        yield url, database_url
        return
    work = ROOT / "tmp" / "bench" / "canvas"
    work.mkdir(parents=True, exist_ok=True)
    db_file = work / "canvas.db"
    db_file.unlink(missing_ok=True)
    database_url = f"sqlite:///{db_file}"
    with running_app(database_url, work / "app", ROOT / "tmp" / "bench-canvas-web") as app:
        yield app.url, database_url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=30, help="measurements per action")
    parser.add_argument("--cold-runs", type=int, default=8)
    parser.add_argument("--app-url", help="measure an app already running (with --database-url, its database)")
    parser.add_argument("--database-url")
    args = parser.parse_args()

    with _app(args.app_url, args.database_url) as (app_url, database_url), sync_playwright() as pw:
        activity = new_activity(database_url, "Sixty components", flow=sixty())
        canvas_url = f"{app_url}/activities/{activity}/canvas?mode=edit"
        browser = launch_chromium(pw)
        context = browser.new_context(viewport=VIEWPORT)
        page = context.new_page()
        sent: list[str] = []

        def watch(ws: WebSocket) -> None:
            ws.on("framesent", lambda p: sent.append(str(p)) if str(p).startswith("42") else None)

        page.on("websocket", watch)
        sign_in(page, app_url)
        state = context.storage_state()

        # cold open of the 60-component canvas (fresh context, empty cache, signed-in cookie)
        cold = []
        for _ in range(args.cold_runs):
            ctx = browser.new_context(viewport=VIEWPORT, storage_state=state)
            p = ctx.new_page()
            started = time.perf_counter()
            p.goto(canvas_url)
            shown(p, 60)
            cold.append((time.perf_counter() - started) * 1000)
            ctx.close()

        page.goto(canvas_url)
        shown(page, 60)
        settle(page)

        # drag and zoom on the whole flow: frames while it moves, events sent meanwhile
        fit(page)
        box = card(page, "n30").bounding_box()
        assert box is not None
        before = len(sent)

        def drag_card() -> None:
            page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            page.mouse.down()
            for i in range(1, 41):
                page.mouse.move(box["x"] + box["width"] / 2 + i * 5, box["y"] + box["height"] / 2 + i * 3)
            page.wait_for_timeout(50)

        drag_frames = frames_while(page, 1500, drag_card)
        during_drag = len(sent) - before
        page.mouse.up()
        page.wait_for_timeout(400)
        after_drop = len(sent) - before - during_drag

        def wheel() -> None:
            page.mouse.move(800, 450)
            for _ in range(12):
                page.mouse.wheel(0, -100)
                page.wait_for_timeout(40)

        zoom_frames = frames_while(page, 1200, wheel)

        # the three actions, zoomed in where they happen
        fit(page)
        zoom_near(page, plus(page, "n60"))
        results = {"drop": drops(page, args.runs)}
        fit(page)
        zoom_near(page, card(page, "n28"), 70)
        results["connect"] = connects(page, args.runs)
        fit(page)
        zoom_near(page, line_tools(page, "n47", "n48"))
        results["insert"] = inserts(page, args.runs)
        browser.close()

    print("Canvas benchmark — 60 components, Reflex prod mode, Chromium")
    print(f"machine: {cpu_model()} × {os.cpu_count()} · {platform.system()} {platform.machine()} · "
          f"Python {platform.python_version()} · {time.strftime('%Y-%m-%d %H:%M')} · "
          f"load average {os.getloadavg()[0]:.1f} (other work on the machine slows the figures)")
    for name, values in results.items():
        print(report(name, values, 80))
        print(report("  in the DOM", COMMITTED[name][1:], None) + "  (event, server, delta, React commit)")
    print(report("cold open", cold, 2000))
    print(report("drag frames", drag_frames, None) + f"  · events sent while dragging: {during_drag}, "
          f"at the drop: {after_drop}")
    print(report("zoom frames", zoom_frames, None))


if __name__ == "__main__":
    main()
