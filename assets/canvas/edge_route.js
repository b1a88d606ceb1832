// Lines that go around the cards instead of under them.
//
// A line drawn by hand from a component to one further down the chain would run straight under the cards in
// between, with its "+" / scissors hidden under one of them. `route` picks the shortest orthogonal path that
// crosses no card: the usual step path when it is clear, else one that leaves the source, runs along a lane
// above or below the cards in the way and comes back into the target. `toolsAt` is where the line's buttons go:
// the middle of its longest horizontal run, which is never under a card.

const GAP = 22;     // a lane's distance from the cards it passes
const STUB = 10;    // how far a line runs straight out of its handle before it turns: close to the handle, clear
                    // of the buttons of the next line from the same handle (in the middle of the gap)
const BEND = 24;    // a bend costs as much as this many pixels of length: fewer bends win a near tie

const crosses = ([x1, y1], [x2, y2], b) => {
  if (y1 === y2) return y1 > b.y1 && y1 < b.y2 && Math.max(x1, x2) > b.x1 && Math.min(x1, x2) < b.x2;
  return x1 > b.x1 && x1 < b.x2 && Math.max(y1, y2) > b.y1 && Math.min(y1, y2) < b.y2;
};

const clear = (pts, boxes) => {
  for (let i = 1; i < pts.length; i++) {
    for (const b of boxes) if (crosses(pts[i - 1], pts[i], b)) return false;
  }
  return true;
};

const cost = (pts) => {
  let len = 0;
  for (let i = 1; i < pts.length; i++) len += Math.abs(pts[i][0] - pts[i - 1][0]) + Math.abs(pts[i][1] - pts[i - 1][1]);
  return len + (pts.length - 2) * BEND;
};

// source (sx, sy) leaves to the right, target (tx, ty) is entered from the left; boxes: [{x1, y1, x2, y2}] of the
// other cards. Returns the polyline's points, or null when the usual step path is clear (draw that one).
export function route(sx, sy, tx, ty, boxes) {
  const a = sx + STUB, b = tx - STUB;
  const forward = b >= a;
  const mid = (sx + tx) / 2;
  const plain = forward ? [[sx, sy], [mid, sy], [mid, ty], [tx, ty]]
                        : [[sx, sy], [a, sy], [a, (sy + ty) / 2], [b, (sy + ty) / 2], [b, ty], [tx, ty]];
  if (clear(plain, boxes)) return null;
  const candidates = [];
  if (forward) {
    for (const x of [a, b]) candidates.push([[sx, sy], [x, sy], [x, ty], [tx, ty]]);
    for (const bx of boxes) {  // turn down / up in a gap between cards
      for (const x of [bx.x1 - GAP, bx.x2 + GAP]) if (x > a && x < b) candidates.push([[sx, sy], [x, sy], [x, ty], [tx, ty]]);
    }
  }
  const lanes = new Set([sy, ty, (sy + ty) / 2]);
  for (const bx of boxes) lanes.add(bx.y2 + GAP);  // below first: a card's own tools and numbers sit above it
  for (const bx of boxes) lanes.add(bx.y1 - GAP);
  for (const y of lanes) candidates.push([[sx, sy], [a, sy], [a, y], [b, y], [b, ty], [tx, ty]]);
  let best = null, bestCost = Infinity;
  for (const pts of candidates) {
    const c = cost(pts);
    if (c < bestCost && clear(pts, boxes)) { best = pts; bestCost = c; }
  }
  return best && simplify(best);
}

// drop zero-length runs and points in the middle of a straight run
function simplify(pts) {
  const out = [pts[0]];
  for (let i = 1; i < pts.length; i++) {
    const p = pts[i], q = out[out.length - 1];
    if (p[0] === q[0] && p[1] === q[1]) continue;
    if (out.length >= 2) {
      const r = out[out.length - 2];
      if ((r[0] === q[0] && q[0] === p[0]) || (r[1] === q[1] && q[1] === p[1])) out.pop();
    }
    out.push(p);
  }
  return out;
}

// an SVG path through the points with rounded corners (radius r, smaller where a run is short)
export function pathOf(pts, r = 10) {
  let d = `M ${pts[0][0]} ${pts[0][1]}`;
  for (let i = 1; i < pts.length - 1; i++) {
    const [px, py] = pts[i - 1], [x, y] = pts[i], [nx, ny] = pts[i + 1];
    const k = Math.min(r, Math.hypot(x - px, y - py) / 2, Math.hypot(nx - x, ny - y) / 2);
    const ax = x - Math.sign(x - px) * k, ay = y - Math.sign(y - py) * k;
    const bx = x + Math.sign(nx - x) * k, by = y + Math.sign(ny - y) * k;
    d += ` L ${ax} ${ay} Q ${x} ${y} ${bx} ${by}`;
  }
  const [lx, ly] = pts[pts.length - 1];
  return d + ` L ${lx} ${ly}`;
}

// where the line's buttons sit: the middle of its longest horizontal run
export function toolsAt(pts) {
  let best = [(pts[0][0] + pts[pts.length - 1][0]) / 2, (pts[0][1] + pts[pts.length - 1][1]) / 2], len = -1;
  for (let i = 1; i < pts.length; i++) {
    const [x1, y1] = pts[i - 1], [x2, y2] = pts[i];
    if (y1 === y2 && Math.abs(x2 - x1) > len) { len = Math.abs(x2 - x1); best = [(x1 + x2) / 2, y1]; }
  }
  return best;
}

// the cards that could be in a line's way (not its own two), as a string: a line re-renders only when it changes
export function obstacleKey(nodeLookup, source, target, sx, sy, tx, ty) {
  const x1 = Math.min(sx, tx) - 40, x2 = Math.max(sx, tx) + 40;
  const y1 = Math.min(sy, ty) - 240, y2 = Math.max(sy, ty) + 240;
  const parts = [];
  for (const n of nodeLookup.values()) {
    if (n.type !== "step" || n.id === source || n.id === target || !n.measured || !n.measured.width) continue;
    const p = n.internals.positionAbsolute;
    const w = n.measured.width, h = n.measured.height;
    if (p.x > x2 || p.x + w < x1 || p.y > y2 || p.y + h < y1) continue;
    parts.push(`${Math.round(p.x)},${Math.round(p.y)},${Math.round(p.x + w)},${Math.round(p.y + h)}`);
  }
  return parts.join(";");
}

export function parseBoxes(key, pad = 6) {
  if (!key) return [];
  return key.split(";").map((s) => {
    const [x1, y1, x2, y2] = s.split(",").map(Number);
    return { x1: x1 - pad, y1: y1 - pad, x2: x2 + pad, y2: y2 + pad };
  });
}
