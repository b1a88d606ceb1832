"""Waiting for the canvas to come to rest by what the browser itself knows, never a guessed pause.

The canvas moves its view after short deliberate delays (a selection scrolls into view once the panel has
opened, a new version is fitted to the screen: setTimeout of 60-120 ms) and then animates it (d3 transitions
on animation frames). `TRACK_DELAYS` (added to every test page before the app's code) counts the deliberate
timers still pending; `settle` resolves once none is pending and the view's transform has stayed the same
for a few consecutive animation frames, i.e. every queued move has started and its animation has ended."""

from playwright.sync_api import Locator, Page

#: timers of 40-600 ms are the app's deliberate delays (React's own are 0 ms, toasts' seconds)
TRACK_DELAYS = """
(() => {
  const pending = new Set();
  const set = window.setTimeout.bind(window), clear = window.clearTimeout.bind(window);
  window.setTimeout = (fn, ms, ...args) => {
    const id = set((...a) => { pending.delete(id); if (typeof fn === "function") fn(...a); }, ms, ...args);
    if (typeof ms === "number" && ms >= 40 && ms <= 600) pending.add(id);
    return id;
  };
  window.clearTimeout = (id) => { pending.delete(id); clear(id); };
  window.__pendingDelays = () => pending.size;
})();
"""

_AT_REST = """
([still_frames, timeout_ms]) => new Promise((resolve, reject) => {
  const deadline = performance.now() + timeout_ms;
  const transform = () => {
    const vp = document.querySelector(".react-flow__viewport");
    return vp ? vp.style.transform : "";
  };
  let last = transform(), still = 0;
  const step = () => {
    const now = transform();
    const idle = now === last && (window.__pendingDelays ? window.__pendingDelays() : 0) === 0;
    still = idle ? still + 1 : 0;
    last = now;
    if (still >= still_frames) resolve(now);
    else if (performance.now() > deadline) reject(new Error("the canvas never came to rest"));
    else requestAnimationFrame(step);
  };
  requestAnimationFrame(step);
})
"""


TIMEOUT_MS = 20_000  # a canvas that never rests fails the test (with its message) instead of hanging it


def settle(page: Page, still_frames: int = 5) -> str:
    """Wait until no deliberate move is pending and the view has not changed for `still_frames` animation
    frames; returns the view's transform at rest."""
    return str(page.evaluate(_AT_REST, [still_frames, TIMEOUT_MS]))

_QUIET = """
([selector, still_frames, timeout_ms]) => new Promise((resolve, reject) => {
  const deadline = performance.now() + timeout_ms;
  const root = document.querySelector(selector);
  let changed = false, still = 0;
  const watch = new MutationObserver(() => { changed = true; });
  if (root) watch.observe(root, {subtree: true, childList: true, attributes: true, characterData: true});
  const step = () => {
    still = changed ? 0 : still + 1;
    changed = false;
    if (still >= still_frames) { watch.disconnect(); resolve(true); }
    else if (performance.now() > deadline) { watch.disconnect(); reject(new Error(selector + " never went quiet")); }
    else requestAnimationFrame(step);
  };
  requestAnimationFrame(step);
})
"""


def quiet(page: Page, selector: str, still_frames: int = 5) -> None:
    """Wait until the element's DOM (children, attributes, text) has not changed for `still_frames` animation
    frames: a re-render in answer to the server has been applied."""
    page.evaluate(_QUIET, [selector, still_frames, TIMEOUT_MS])


#: every finite animation inside the element has ended (or was cancelled: a live re-render may replace an
#: animated node, and its `finished` then rejects with an AbortError — that is an end too); the live dot's
#: infinite pulse is left out
_ANIMATIONS_DONE = """el => Promise.all(el.getAnimations({subtree: true})
  .filter(a => a.effect.getComputedTiming().iterations !== Infinity)
  .map(a => a.finished.catch(() => null)))"""


def animations_done(found: Locator) -> None:
    """Let a drawer's, panel's or dialog's opening animations end, so a screenshot shows it as a user sees it."""
    found.evaluate(_ANIMATIONS_DONE)
