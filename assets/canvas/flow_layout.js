// Where the cards go: a layered layout of the flow by ELK (elkjs, the Eclipse Layout Kernel).
//
// Left to right, one layer per step, the branches of a split side by side in their handle order (ports in a fixed
// order), long chains wrapped into rows so the flow keeps the canvas's shape (`aspect`: width / height) and a
// 10-component chain fits the screen at a readable zoom. elkjs is ~1.5 MB: it is imported on first use (Tidy up,
// or a flow opened without saved positions), so the canvas page does not load it.

let elkPromise = null;
const elk = () => {
  if (!elkPromise) elkPromise = import("elkjs/lib/elk.bundled.js").then((m) => new (m.default || m)());
  return elkPromise;
};

// the card sizes when a card has not been measured yet (assets/canvas/flow_canvas.css)
export const CARD_W = 196, END_W = 112, HEAD_H = 56, BRANCH_H = 24, END_H = 40;
const STUB = 28;  // the "+" at an open link's end: the layout keeps room for it

export function estimatedSize(node) {
  if (node.end) return { width: END_W, height: END_H };
  const rows = node.branches.length > 1 || node.branches.some((b) => b.label) ? node.branches.length : 0;
  return { width: CARD_W, height: HEAD_H + rows * BRANCH_H + (rows ? 8 : 0) };
}

// One ELK run; `aspect` (width / height) > 0 wraps long chains into rows of about that shape.
async function run(children, links, aspect) {
  const options = {
    "elk.algorithm": "layered",
    "elk.direction": "RIGHT",
    "elk.edgeRouting": "ORTHOGONAL",
    "elk.spacing.nodeNode": "36",
    "elk.layered.spacing.nodeNodeBetweenLayers": "56",
    "elk.spacing.edgeNode": "20",
    "elk.layered.nodePlacement.strategy": "BRANDES_KOEPF",
    "elk.layered.considerModelOrder.strategy": "NODES_AND_EDGES",
    "elk.padding": "[top=0,left=0,bottom=0,right=0]",
  };
  if (aspect) {
    options["elk.layered.wrapping.strategy"] = "MULTI_EDGE";
    options["elk.aspectRatio"] = String(aspect);
  }
  // ELK writes into the graph it is given: each run gets its own copy
  return (await elk()).layout(JSON.parse(JSON.stringify({ id: "flow", layoutOptions: options, children, edges: links })));
}

// the zoom "Fit to screen" would give a `w` x `h` drawing on a `width` x `height` canvas (capped at 100 %)
export const fitZoom = (w, h, width, height, padding = 0.2) =>
  Math.min(1, width / (w * (1 + padding)), height / (h * (1 + padding)));

// nodes: the canvas's node props ({id, end, branches: [{key, open}]}); edges: [{source, branch, target}];
// sizes: id -> {width, height} measured on screen; width / height: the canvas's size on screen.
// One row (no wrapping) unless wrapping into rows lets "Fit to screen" show the flow larger: the few shapes ELK
// is asked for are compared by that zoom. Resolves to id -> {x, y} (rounded, top-left corners).
export async function layoutFlow(nodes, edges, { sizes = {}, width = 1200, height = 800 } = {}) {
  const ids = new Set(nodes.map((n) => n.id));
  const children = [];
  const links = [];
  for (const n of nodes) {
    const size = sizes[n.id] || estimatedSize(n);
    const ports = [{ id: `${n.id}:in`, layoutOptions: { "elk.port.side": "WEST", "elk.port.index": "0" } }];
    n.branches.forEach((b, i) => ports.push({
      id: `${n.id}:${b.key}`, layoutOptions: { "elk.port.side": "EAST", "elk.port.index": String(i) },
    }));
    children.push({ id: n.id, width: Math.round(size.width), height: Math.round(size.height), ports,
                    layoutOptions: { "elk.portConstraints": "FIXED_ORDER" } });
    if (n.end) continue;
    for (const b of n.branches) {
      if (!b.open) continue;
      const stub = `plus|${n.id}|${b.key}`;
      children.push({ id: stub, width: STUB, height: STUB });
      links.push({ id: `open|${n.id}|${b.key}`, sources: [`${n.id}:${b.key}`], targets: [stub] });
    }
  }
  for (const e of edges) {
    if (!ids.has(e.source) || !ids.has(e.target)) continue;
    links.push({ id: `${e.source}|${e.branch}|${e.target}`, sources: [`${e.source}:${e.branch}`],
                 targets: [`${e.target}:in`] });
  }
  const ratio = width / Math.max(1, height);
  let best = await run(children, links, 0);
  let bestZoom = fitZoom(best.width, best.height, width, height);
  // ELK's rows come out narrower than the ratio asked for: ask for wider ones
  for (const k of [2, 3, 4.5]) {
    if (bestZoom >= 0.999) break;
    const out = await run(children, links, ratio * k);
    const z = fitZoom(out.width, out.height, width, height);
    if (z > bestZoom + 0.02) { best = out; bestZoom = z; }
  }
  const pos = {};
  for (const c of best.children || []) {
    if (ids.has(c.id)) pos[c.id] = { x: Math.round(c.x), y: Math.round(c.y) };
  }
  return pos;
}
