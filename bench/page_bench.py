"""Drive the Automated Marketing page in Chromium over a big database and print p50/p95 round trips.

    python bench/seed_scale.py --database-url sqlite:///tmp/bench/scale.db     # once: 10,000 activities
    python bench/page_bench.py --database-url sqlite:///tmp/bench/scale.db     # starts the app, measures

The app is started exactly as the browser tests start it (tests/browser/harness.py: `reflex run --env prod`,
migrations and the idempotent demo data first), the frontend built in tmp/bench-web. Signed in as `admin`
(who sees every activity; `--user marketer` for the public-or-own list), it measures in the page itself, from
the click to the first frame painted after the table changed (a MutationObserver on the table body, then two
animation frames):

- tabs: clicking the status counts in turn;
- search: a name search submitted with Enter (different words in turn);
- paging: Next, page after page;
- cold load: a new browser context (empty cache) with a signed-in cookie, from navigation to rows on screen.
"""

import argparse
import math
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import Browser, Page, sync_playwright  # noqa: E402

from tests.browser.harness import launch_chromium, running_app  # noqa: E402

VIEWPORT = {"width": 1440, "height": 900}
TABS = ["#status-in_progress", "#status-not_started", "#status-stopped", "#status-finished", "#status-draft",
        "#status-all"]
SEARCHES = ["coupon", "welcome", "birthday", "flash", "VIP", "cart", "points", "holiday", "launch", "renewal"]

#: click (or submit a search), resolve with the ms until the frame after the table body changed was painted
_MEASURE = """
async ([selector, text]) => {
  const body = document.querySelector('#activity-table tbody');
  return await new Promise((resolve, reject) => {
    const t0 = performance.now();
    const timer = setTimeout(() => reject(new Error('no change within 10 s: ' + selector)), 10000);
    const seen = new MutationObserver(() => {
      seen.disconnect();
      const done = () => { clearTimeout(timer); resolve(performance.now() - t0); };
      requestAnimationFrame(() => requestAnimationFrame(done));
    });
    seen.observe(body, {childList: true, subtree: true, characterData: true});
    const target = document.querySelector(selector);
    if (text === null) { target.click(); return; }
    Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set.call(target, text);
    target.form.requestSubmit();
  });
}
"""


def cpu_model() -> str:
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
        return next(line.split(":", 1)[1].strip() for line in lines if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or "unknown CPU"


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]


PASSWORDS = {"admin": "admin123", "marketer": "marketer123", "manager": "manager123"}


def sign_in(page: Page, url: str, user: str = "admin") -> None:
    page.goto(f"{url}/login")
    page.fill("#login-username", user)
    page.fill("#login-password", PASSWORDS[user])
    page.click("#login-submit")
    page.wait_for_selector(".activity-row", timeout=60_000)


def measure(page: Page, selector: str, text: str | None = None) -> float:
    elapsed = float(page.evaluate(_MEASURE, [selector, text]))
    page.wait_for_timeout(60)  # let the rest of the delta land before the next click
    return elapsed


def tabs(page: Page, runs: int) -> list[float]:
    measure(page, TABS[0])  # warm-up
    return [measure(page, TABS[(i + 1) % len(TABS)]) for i in range(runs)]


def searches(page: Page, runs: int) -> list[float]:
    page.click("#status-all")
    page.wait_for_timeout(200)
    measure(page, "#activity-search", SEARCHES[-1])  # warm-up (each search differs from the one before)
    return [measure(page, "#activity-search", SEARCHES[i % len(SEARCHES)]) for i in range(runs)]


def paging(page: Page, runs: int) -> list[float]:
    page.click("#clear-search")
    page.wait_for_timeout(300)
    measure(page, "#next-page")  # warm-up
    return [measure(page, "#next-page") for _ in range(runs)]


def cold_loads(browser: Browser, url: str, state: dict, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        context = browser.new_context(viewport=VIEWPORT, storage_state=state)
        page = context.new_page()
        started = time.perf_counter()
        page.goto(f"{url}/")
        page.wait_for_selector(".activity-row", timeout=60_000)
        out.append((time.perf_counter() - started) * 1000)
        context.close()
    return out


def report(name: str, values: list[float], target: float) -> str:
    p50, p95 = statistics.median(values), percentile(values, 95)
    verdict = "ok" if p95 <= target else "OVER TARGET"
    return f"{name:<10} n={len(values):<3} p50={p50:7.1f} ms  p95={p95:7.1f} ms  max={max(values):7.1f} ms  " \
           f"(target p95 <= {target:.0f} ms: {verdict})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default="sqlite:///tmp/bench/scale.db")
    parser.add_argument("--runs", type=int, default=40, help="measurements per interaction")
    parser.add_argument("--cold-runs", type=int, default=8)
    parser.add_argument("--user", choices=sorted(PASSWORDS), default="admin",
                        help="admin sees every activity; a marketer's list adds the public-or-own filter")
    args = parser.parse_args()

    work = ROOT / "tmp" / "bench" / "app"
    with running_app(args.database_url, work, ROOT / "tmp" / "bench-web") as app, sync_playwright() as pw:
        browser = launch_chromium(pw)
        context = browser.new_context(viewport=VIEWPORT)
        page = context.new_page()
        sign_in(page, app.url, args.user)
        total = page.locator("#status-all .count").text_content()
        results = {
            "tabs": tabs(page, args.runs),
            "search": searches(page, args.runs),
            "paging": paging(page, args.runs),
        }
        state = context.storage_state()
        context.close()
        cold = cold_loads(browser, app.url, state, args.cold_runs)
        browser.close()

    print(f"Automated Marketing page benchmark — {total} activities visible to {args.user}, {args.database_url}")
    print(f"machine: {cpu_model()} × {os.cpu_count()} · {platform.system()} {platform.machine()} · "
          f"Python {platform.python_version()} · {time.strftime('%Y-%m-%d %H:%M')} · "
          f"load average {os.getloadavg()[0]:.1f} (other work on the machine slows the figures)")
    for name, values in results.items():
        print(report(name, values, 200))
    print(report("cold load", cold, 2000))


if __name__ == "__main__":
    main()
