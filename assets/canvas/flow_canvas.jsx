// The campaign canvas: React Flow (@xyflow/react) drawing the flow that the Reflex state owns.
//
// React Flow owns the live interaction (dragging, panning, zooming, hovering); Python owns the graph. This file
// sends only coarse actions to Python through ONE callback, `onAction({kind, ...})`: select, move (at drag
// stop), add / insert / connect / paste, delete and cut requests (Python asks for confirmation), copy, undo,
// redo, add End to every open link, escape. A drag sends nothing until it stops. Graph updates from the server
// are merged into the local nodes, keeping their measured sizes and the position of a node being dragged.
//
// Props (from marketing_app/components/flow_canvas.py): nodes, edges, palette, selected, rev, readOnly,
// copyMode, canUndo, canRedo, dirty, focus, preview, viewKey (a new value fits the new flow to the screen);
// execution (node id → the round's numbers, drawn above each card; a click calls onExecution(node id)) and
// route (one customer's route: its cards and lines green, the rest dimmed); execution["dry:edges"] (edge id →
// a dry run's count) puts a badge on each line. Both live in their own context,
// so a live refresh of the numbers re-renders the cards only, never the graph.
import React, {
  createContext, memo, useCallback, useContext, useEffect, useLayoutEffect, useMemo, useRef, useState,
} from "react";
import {
  Background,
  BaseEdge,
  EdgeLabelRenderer,
  Handle,
  MiniMap,
  Panel,
  Position,
  ReactFlow,
  ReactFlowProvider,
  applyNodeChanges,
  getSmoothStepPath,
  useReactFlow,
  useStore,
} from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import "./flow_canvas.css";
import { layoutFlow } from "./flow_layout.js";
import { obstacleKey, parseBoxes, pathOf, route, toolsAt } from "./edge_route.js";
import {
  BellRing, Box, CalendarCheck, CheckCheck, ClipboardPaste, Copy, CopyPlus, FileText, FlagTriangleRight,
  Hourglass, Image, Lightbulb, Mail, Maximize, MessageCircle, MessageSquareText, Minus, MousePointerClick,
  Network, Plus, Redo2, Scissors, Server, Shuffle, SlidersHorizontal, Split, Tag, Tags, Trash2, Undo2, UserCheck,
  UserPlus, Users, Webhook, X,
} from "lucide-react";

const MIN_LAYOUT_BOX = 40;  // px: a canvas box smaller than this has not been laid out by the page yet

const ICONS = {
  BellRing, Box, CalendarCheck, CheckCheck, FileText, FlagTriangleRight, Hourglass, Image, Mail, MessageCircle,
  MessageSquareText, MousePointerClick, Server, Shuffle, SlidersHorizontal, Split, Tag, Tags, UserCheck, UserPlus,
  Users, Webhook,
};
const DRAG_TYPE = "application/x-flow-component";
const Ctx = createContext(null);
const HoverCtx = createContext({ hoverEdge: "", hover: () => {} });  // apart, so hovering a line re-renders lines only
const NO_EXEC = { data: {}, open: null, nodes: null, edges: null };
const ExecCtx = createContext(NO_EXEC);  // execution data and the route drawn (apart: a refresh re-renders cards only)
const Icon = ({ name, size = 16 }) => {
  const C = ICONS[name] || Box;
  return <C size={size} strokeWidth={2} aria-hidden="true" />;
};

// ------------------------------------------------------------------------------------------------ nodes

// The round's numbers above a card: the seed's values in order; raw numbers as data attributes.
function ExecBar({ id, d, open }) {
  const attrs = {};
  for (const [k, v] of Object.entries(d.attrs || {})) attrs[`data-${k.replace(/_/g, "-")}`] = v;
  const click = (e) => { e.stopPropagation(); if (open) open(id); };
  return (
    <div id={`exec-${id}`} className={`fc-exec nodrag kind-${d.kind}` + (d.trigger ? " trigger" : "")}
         data-exec-node={id} data-kind={d.kind} {...attrs} title={d.title} role="button" tabIndex={0}
         onClick={click} onKeyDown={(e) => { if (e.key === "Enter" || e.key === " ") click(e); }}>
      {(d.items || []).map((it) => (
        <span key={it.key} className={`fc-exec-item tone-${it.tone}`} data-item={it.key}>
          <b className="fc-exec-value">{it.value}</b><span className="fc-exec-label">{it.label}</span>
        </span>
      ))}
    </div>
  );
}

const StepNode = memo(function StepNode({ data, selected }) {
  const ctx = useContext(Ctx);
  const ex = useContext(ExecCtx);
  const n = data.node;
  const exec = ex.data[n.id];
  const multi = n.branches.length > 1 || n.branches.some((b) => b.label);
  const classes = ["fc-node", `cat-${n.cat}`];
  if (n.end) classes.push("fc-end");
  if (selected) classes.push("selected");
  if (n.problem) classes.push("problem");
  if (!n.configured) classes.push("unconfigured");
  if (ex.nodes) classes.push(ex.nodes.has(n.id) ? "on-route" : "off-route");
  if (exec) classes.push("has-exec");
  const tools = !ctx.readOnly && !ctx.preview;
  return (
    <div className={classes.join(" ")} data-node-id={n.id} data-type={n.type}
         data-configured={n.configured ? "true" : "false"} data-problem={n.problem ? "true" : "false"}
         data-route={ex.nodes ? (ex.nodes.has(n.id) ? "on" : "off") : undefined}>
      {!n.trigger && <Handle type="target" position={Position.Left} className="fc-in" isConnectable={false} />}
      {exec && <ExecBar id={n.id} d={exec} open={ex.open} />}
      {n.hint && selected && !ctx.preview && (
        <div className="fc-hint nodrag" data-hint={n.id}>
          <Lightbulb size={14} aria-hidden="true" />
          <span>{n.hint.text}</span>
          <button type="button" className="fc-hint-action"
                  onClick={(e) => { e.stopPropagation(); ctx.act({ kind: "hint", id: n.id }); }}>
            {n.hint.action}
          </button>
        </div>
      )}
      {tools && (
        <div className="fc-node-tools nodrag" onClick={(e) => e.stopPropagation()}>
          {!n.trigger && (
            <button type="button" title="Copy this component" aria-label="Copy" data-tool="copy"
                    onClick={() => ctx.act({ kind: "copy", id: n.id, subtree: false })}><Copy size={14} /></button>
          )}
          {!n.trigger && !n.end && (
            <button type="button" title="Copy with its subsequent links" aria-label="Copy with subsequent links"
                    data-tool="copy-subtree"
                    onClick={() => ctx.act({ kind: "copy", id: n.id, subtree: true })}><CopyPlus size={14} /></button>
          )}
          <button type="button" title="Delete with its subsequent links" aria-label="Delete" data-tool="delete"
                  className="danger" onClick={() => ctx.act({ kind: "delete", id: n.id })}><Trash2 size={14} /></button>
        </div>
      )}
      <div className="fc-node-head">
        <div className="fc-node-icon"><Icon name={n.icon} size={n.end ? 14 : 16} /></div>
        <div className="fc-node-text">
          <div className="fc-node-label">{n.label}</div>
          {!n.end && <div className="fc-node-summary" title={n.summary}>{n.summary}</div>}
        </div>
        {!n.configured && <span className="fc-dot" title="Not configured" />}
      </div>
      {multi ? (
        <div className="fc-branches">
          {n.branches.map((b) => (
            <div className="fc-branch" key={b.key} data-branch={b.key}>
              <span className="fc-branch-label">{b.label}</span>
              <Handle type="source" position={Position.Right} id={b.key} className="fc-out"
                      isConnectable={!ctx.readOnly}
                      onClick={(e) => ctx.openMenuAt(e, { kind: "add", source: n.id, branch: b.key })} />
            </div>
          ))}
        </div>
      ) : n.branches.map((b) => (
        <Handle key={b.key} type="source" position={Position.Right} id={b.key} className="fc-out"
                isConnectable={!ctx.readOnly}
                onClick={(e) => ctx.openMenuAt(e, { kind: "add", source: n.id, branch: b.key })} />
      ))}
    </div>
  );
});

const PlusNode = memo(function PlusNode({ data }) {
  const ctx = useContext(Ctx);
  const pasting = !!ctx.copyMode;
  return (
    <div className={"fc-plus" + (pasting ? " pasting" : "")} data-drop="plus" data-source={data.source}
         data-branch={data.branch} title={pasting ? "Click to paste" : "Add a component"}
         onClick={(e) => {
           e.stopPropagation();
           if (pasting) ctx.act({ kind: "paste", source: data.source, branch: data.branch });
           else ctx.openMenuAt(e, { kind: "add", source: data.source, branch: data.branch });
         }}>
      <Handle type="target" position={Position.Left} className="fc-in hidden" isConnectable={false} />
      <span className="fc-plus-dot"><Plus size={14} strokeWidth={2.5} /></span>
      {pasting && <span className="fc-paste-pill"><ClipboardPaste size={12} />Click to paste</span>}
    </div>
  );
});

const StartNode = memo(function StartNode() {
  const ctx = useContext(Ctx);
  return (
    <div className="fc-start" data-drop="start" onClick={(e) => { e.stopPropagation(); ctx.openMenuAt(e, { kind: "first" }); }}>
      <span className="fc-plus-dot big"><Plus size={18} strokeWidth={2.5} /></span>
      <div>
        <div className="fc-start-title">Start with a trigger</div>
        <div className="fc-start-sub">Drag Target Audience or Behaviour Event here, or click to choose</div>
      </div>
    </div>
  );
});

const NODE_TYPES = { step: StepNode, plus: PlusNode, start: StartNode };

// ------------------------------------------------------------------------------------------------ edges

const LinkEdge = memo(function LinkEdge(props) {
  const { id, source, target, sourceX, sourceY, targetX, targetY, sourcePosition, targetPosition, data, selected } = props;
  const ctx = useContext(Ctx);
  // the cards in the line's way (a string, so the line re-renders only when they change), and a path around them
  const blockers = useStore(useCallback((s) => obstacleKey(s.nodeLookup, source, target, sourceX, sourceY, targetX, targetY),
                                        [source, target, sourceX, sourceY, targetX, targetY]));
  const routed = useMemo(() => (blockers ? route(sourceX, sourceY, targetX, targetY, parseBoxes(blockers)) : null),
                         [blockers, sourceX, sourceY, targetX, targetY]);
  let path, labelX, labelY;
  if (routed) {
    path = pathOf(routed);
    [labelX, labelY] = toolsAt(routed);
  } else {
    [path, labelX, labelY] = getSmoothStepPath({
      sourceX, sourceY, targetX, targetY, sourcePosition, targetPosition, borderRadius: 10, offset: 16,
    });
  }
  const e = data.edge;
  const ex = useContext(ExecCtx);
  const onRoute = ex.edges ? ex.edges.has(id) : null;
  const cls = "fc-edge" + (e.dashed ? " dashed" : "") + (selected ? " selected" : "")
    + (onRoute === null ? "" : onRoute ? " on-route" : " off-route");
  const { hoverEdge, hover } = useContext(HoverCtx);
  const show = selected || hoverEdge === id;
  const dry = ex.data["dry:edges"];  // a dry run's customers per line (states/canvas_dry_run.py)
  const dryCount = dry ? dry[id] : undefined;
  return (
    <>
      <BaseEdge id={id} path={path} className={cls} interactionWidth={18} />
      {dryCount !== undefined && (
        <EdgeLabelRenderer>
          <div className="fc-dry-edge nodrag nopan" data-dry-edge={id} title="Customers of the dry run on this line"
               style={{ transform: `translate(-50%, -140%) translate(${labelX}px, ${labelY}px)` }}>{dryCount}</div>
        </EdgeLabelRenderer>
      )}
      {!ctx.readOnly && !ctx.preview && (
        <EdgeLabelRenderer>
          <div className={"fc-edge-tools nodrag nopan" + (show ? " show" : "")} data-edge={id}
               data-routed={routed ? "around" : "step"}
               data-drop="link" data-source={e.source} data-branch={e.branch} data-target={e.target}
               onMouseEnter={() => hover(id)} onMouseLeave={() => hover("")}
               style={{ transform: `translate(-50%, -50%) translate(${labelX}px, ${labelY}px)` }}>
            <button type="button" className="fc-edge-btn" data-tool="insert"
                    title={ctx.copyMode === "one" ? "Paste here" : "Insert a component"}
                    onClick={(ev) => {
                      ev.stopPropagation();
                      if (ctx.copyMode === "one") ctx.act({ kind: "paste_link", source: e.source, branch: e.branch, target: e.target });
                      else ctx.openMenuAt(ev, { kind: "insert", source: e.source, branch: e.branch, target: e.target });
                    }}>
              {ctx.copyMode === "one" ? <ClipboardPaste size={12} /> : <Plus size={12} strokeWidth={2.5} />}
            </button>
            <button type="button" className="fc-edge-btn danger" data-tool="cut" title="Cut this line"
                    onClick={(ev) => { ev.stopPropagation(); ctx.act({ kind: "cut", source: e.source, branch: e.branch, target: e.target }); }}>
              <Scissors size={12} />
            </button>
          </div>
        </EdgeLabelRenderer>
      )}
    </>
  );
});

const OpenEdge = memo(function OpenEdge(props) {
  const { id, sourceX, sourceY, targetX, targetY, sourcePosition, targetPosition } = props;
  const [path] = getSmoothStepPath({ sourceX, sourceY, targetX, targetY, sourcePosition, targetPosition, borderRadius: 10 });
  return <BaseEdge id={id} path={path} className="fc-edge open" />;
});

const EDGE_TYPES = { link: LinkEdge, open: OpenEdge };

// ------------------------------------------------------------------------------------------------ building

function stubsFor(step, readOnly) {
  if (readOnly || step.data.node.end) return [];
  return step.data.node.branches.filter((b) => b.open).map((b) => ({
    id: `plus|${step.id}|${b.key}`,
    type: "plus",
    position: { x: step.position.x + b.offset.x, y: step.position.y + b.offset.y + 18 },
    data: { source: step.id, branch: b.key },
    draggable: false,
    selectable: false,
    connectable: false,
  }));
}

// A card React Flow has not measured yet is hidden, and its lines wait, until a ResizeObserver reports its size a
// frame or two after the commit. A new card (a drop, an insert) gets its size and handles estimated from the CSS
// instead (flow_canvas.css: .fc-node, .fc-node-head, .fc-branch), so it and its lines are drawn in the commit that
// adds it; React Flow still measures it and replaces the estimate with the real bounds right after.
const CARD_W = 196, END_W = 112, HEAD_H = 55, END_H = 40, BRANCH_TOP = 5, BRANCH_H = 24, BRANCHES_PAD = 5;
function estimated(n) {
  const w = n.end ? END_W : CARD_W;
  const multi = n.branches.length > 1 || n.branches.some((b) => b.label);
  const head = n.end ? END_H : HEAD_H;
  const h = head + (multi ? BRANCH_TOP + BRANCH_H * n.branches.length + BRANCHES_PAD : 0);
  const handles = [];
  if (!n.trigger) handles.push({ type: "target", position: Position.Left, x: -5, y: h / 2 - 5, width: 10, height: 10 });
  n.branches.forEach((b, i) => {
    const cy = multi ? head + BRANCH_TOP + BRANCH_H * i + BRANCH_H / 2 : h / 2;
    handles.push({ id: b.key, type: "source", position: Position.Right, x: w - 7, y: cy - 7, width: 14, height: 14 });
  });
  return { initialWidth: w, initialHeight: h, handles };
}
function measuredOnly(n) {
  const { handles, initialWidth, initialHeight, ...rest } = n;  // eslint-disable-line no-unused-vars
  return rest;
}
const PLUS_ESTIMATE = {
  initialWidth: 26, initialHeight: 28,
  handles: [{ type: "target", position: Position.Left, x: -5, y: 9, width: 10, height: 10 }],
};

// Server updates replace the whole graph; cards and lines whose content did not change keep their previous
// objects, so React Flow re-renders only what changed (a 60-card flow re-renders one card, not 60).
const same = (a, b) => a === b || JSON.stringify(a) === JSON.stringify(b);

// `auto`: positions laid out here for cards the flow has no saved position for (n.auto), else null
function buildNodes(props, prev, dragging, selected, auto = null) {
  const before = new Map(prev.map((n) => [n.id, n]));
  const draggable = !props.readOnly && !props.preview, connectable = !props.readOnly;
  const out = [];
  for (const n of props.nodes || []) {
    const old = before.get(n.id);
    const isSel = n.id === selected;
    const at = (n.auto && auto && auto[n.id]) || n.position;
    if (old && old.type === "step" && (dragging.has(n.id) || (old.position.x === at.x && old.position.y === at.y))
        && old.selected === isSel && old.draggable === draggable && same(old.data.node, n)) {
      out.push(old);
      continue;
    }
    // a copy: React Flow may update a node's position object in place while it is dragged
    const position = old && dragging.has(n.id) ? old.position : { x: at.x, y: at.y };
    const step = { id: n.id, type: "step", position, data: { node: n }, selected: isSel, draggable, connectable };
    if (old && old.measured) step.measured = old.measured;
    else Object.assign(step, estimated(n));
    out.push(step);
  }
  const stubs = out.flatMap((s) => stubsFor(s, props.readOnly || props.preview)).map((s) => {
    const old = before.get(s.id);
    if (old && old.position.x === s.position.x && old.position.y === s.position.y) return old;
    if (old && old.measured) s.measured = old.measured;
    else Object.assign(s, PLUS_ESTIMATE);
    return s;
  });
  const extra = [];
  if (!out.length && !props.readOnly && !props.preview) {
    extra.push(before.get("start") ||
               { id: "start", type: "start", position: { x: 0, y: 0 }, data: {}, draggable: false, selectable: false });
  }
  return [...out, ...stubs, ...extra];
}

function buildEdges(props, nodes, prev) {
  const before = new Map((prev || []).map((e) => [e.id, e]));
  const selectable = !props.readOnly && !props.preview;
  const edges = (props.edges || []).map((e) => {
    const old = before.get(e.id);
    if (old && old.type === "link" && old.selectable === selectable && same(old.data.edge, e)) return old;
    return { id: e.id, source: e.source, sourceHandle: e.branch, target: e.target, type: "link", data: { edge: e },
             selectable };
  });
  for (const n of nodes) {
    if (n.type === "plus") {
      const id = `open|${n.data.source}|${n.data.branch}`;
      edges.push(before.get(id) || { id, source: n.data.source, sourceHandle: n.data.branch, target: n.id,
                                    type: "open", selectable: false, focusable: false });
    }
  }
  return edges;
}

// ------------------------------------------------------------------------------------------------ pieces

function Palette({ items, empty, notify, onDragging }) {
  const groups = [];
  for (const item of items) {
    let g = groups.find((x) => x.name === item.category);
    if (!g) groups.push((g = { name: item.category, cat: item.cat, items: [] }));
    g.items.push(item);
  }
  return (
    <aside className="fc-palette" aria-label="Components">
      <div className="fc-palette-title">Components</div>
      <div className="fc-palette-sub">Drag one onto a + on the canvas</div>
      {groups.map((g) => (
        <section key={g.name} className="fc-palette-group" data-category={g.name}>
          <div className={`fc-palette-group-title cat-${g.cat}`}>{g.name}</div>
          {g.items.map((it) => (
            <div key={it.type} className={`fc-palette-item cat-${it.cat}`} draggable data-palette={it.type}
                 title={it.blurb}
                 onDragStart={(e) => {
                   e.dataTransfer.setData(DRAG_TYPE, it.type);
                   e.dataTransfer.setData("text/plain", it.type);
                   e.dataTransfer.effectAllowed = "copy";
                   window.__fcDragging = it;
                   onDragging(true);
                 }}
                 onDragEnd={() => { window.__fcDragging = null; onDragging(false); }}
                 onClick={() => notify(empty && !it.trigger ? "The first component must be a trigger: Target Audience or Behaviour Event."
                                                             : "Drag it onto a + on the canvas, or click a + and choose it.")}>
              <span className="fc-palette-icon"><Icon name={it.icon} size={15} /></span>
              <span className="fc-palette-label">{it.label}</span>
            </div>
          ))}
        </section>
      ))}
    </aside>
  );
}

function Menu({ menu, items, onPick, onClose }) {
  const ref = useRef(null);
  useEffect(() => {
    const away = (e) => { if (ref.current && !ref.current.contains(e.target)) onClose(); };
    document.addEventListener("pointerdown", away, true);
    return () => document.removeEventListener("pointerdown", away, true);
  }, [onClose]);
  const triggers = menu.ctx.kind === "first";
  const shown = items.filter((it) => (triggers ? it.trigger : !it.trigger));
  const groups = [];
  for (const it of shown) {
    let g = groups.find((x) => x.name === it.category);
    if (!g) groups.push((g = { name: it.category, items: [] }));
    g.items.push(it);
  }
  const title = { first: "Choose the trigger", add: "Add a component", insert: "Insert on this line",
                  add_at: "Add a component" }[menu.ctx.kind];
  return (
    <div ref={ref} className="fc-menu nodrag nopan nowheel" style={{ left: menu.x, top: menu.y }} role="menu"
         aria-label={title}>
      <div className="fc-menu-title">{title}</div>
      <div className="fc-menu-body">
        {groups.map((g) => (
          <div key={g.name} className="fc-menu-group">
            <div className="fc-menu-group-title">{g.name}</div>
            <div className="fc-menu-grid">
              {g.items.map((it) => (
                <button type="button" key={it.type} role="menuitem" className={`fc-menu-item cat-${it.cat}`}
                        data-menu-type={it.type} onClick={() => onPick(it.type)}>
                  <span className="fc-palette-icon"><Icon name={it.icon} size={14} /></span>{it.label}
                </button>
              ))}
            </div>
          </div>
        ))}
      </div>
    </div>
  );
}

function Toolbar({ act, canUndo, canRedo, readOnly, onView, onTidy, tidying }) {
  const { zoomIn, zoomOut, fitView } = useReactFlow();
  const zoom = useStore((s) => s.transform[2]);
  return (
    <Panel position="top-right" className="fc-toolbar">
      {!readOnly && (
        <>
          <button type="button" className="fc-tool wide" data-tool="add-ends" title="Add an End to every open link"
                  onClick={() => act({ kind: "add_ends" })}><FlagTriangleRight size={15} /><span>End all</span></button>
          <button type="button" className="fc-tool wide" data-tool="tidy" disabled={tidying}
                  title="Tidy up: lay the flow out again, branches side by side (undo with Ctrl+Z)"
                  onClick={onTidy}><Network size={15} /><span>Tidy up</span></button>
          <span className="fc-sep" />
          <button type="button" className="fc-tool" data-tool="undo" title="Undo (Ctrl+Z)" disabled={!canUndo}
                  onClick={() => act({ kind: "undo" })}><Undo2 size={15} /></button>
          <button type="button" className="fc-tool" data-tool="redo" title="Redo (Ctrl+Shift+Z)" disabled={!canRedo}
                  onClick={() => act({ kind: "redo" })}><Redo2 size={15} /></button>
          <span className="fc-sep" />
        </>
      )}
      <button type="button" className="fc-tool" data-tool="fit" title="Fit to screen"
              onClick={() => { onView(); fitView({ padding: 0.2, maxZoom: 1, duration: 200 }); }}><Maximize size={15} /></button>
      <button type="button" className="fc-tool" data-tool="zoom-out" title="Zoom out"
              onClick={() => { onView(); zoomOut({ duration: 150 }); }}><Minus size={15} /></button>
      <span className="fc-zoom" data-zoom={Math.round(zoom * 100)}>{Math.round(zoom * 100)}%</span>
      <button type="button" className="fc-tool" data-tool="zoom-in" title="Zoom in"
              onClick={() => { onView(); zoomIn({ duration: 150 }); }}><Plus size={15} /></button>
    </Panel>
  );
}

// ------------------------------------------------------------------------------------------------ canvas

function Canvas(props) {
  const { onAction, readOnly = false, preview = false, copyMode = "", selected = "", rev = 0 } = props;
  const wrapper = useRef(null);
  const root = useRef(null);
  const dragging = useRef(new Set());
  const [nodes, setNodes] = useState(() => buildNodes(props, [], dragging.current, selected));
  const [localSel, setLocalSel] = useState(selected);
  const [menu, setMenu] = useState(null);
  const [note, setNote] = useState("");
  const [edgeSel, setEdgeSel] = useState("");
  const [hoverEdge, setHoverEdge] = useState("");
  const hoverTimer = useRef(null);
  const hover = useCallback((id) => {
    clearTimeout(hoverTimer.current);
    if (id) setHoverEdge(id);
    else hoverTimer.current = setTimeout(() => setHoverEdge(""), 160);
  }, []);
  const flow = useReactFlow();

  const autoPos = useRef(null);  // where the layout put the cards of a flow opened without saved positions
  const [autoRev, setAutoRev] = useState(0);
  const [tidying, setTidying] = useState(false);
  const fitAfter = useRef(false);  // Tidy up: fit the new layout to the screen once the server's graph is drawn
  // The server's graph (and selection) are taken in DURING the render that receives them (React's "adjust
  // state while rendering" pattern), not in an effect: an effect runs after the paint, so every update cost an
  // extra frame before the new card even reached React Flow (drop -> shown on 60 cards: p50 108 -> see
  // docs/BENCHMARKS.md).
  const [seenSel, setSeenSel] = useState([selected, rev]);
  let sel = localSel;
  if (seenSel[0] !== selected || seenSel[1] !== rev) {
    setSeenSel([selected, rev]);
    setLocalSel(selected);
    sel = selected;
  }
  const [seen, setSeen] = useState([props.nodes, readOnly, preview, localSel, autoRev]);
  const input = [props.nodes, readOnly, preview, sel, autoRev];
  if (input.some((v, i) => v !== seen[i])) {
    setSeen(input);
    setNodes((prev) => buildNodes(props, prev, dragging.current, sel, autoPos.current));
  }
  const prevEdges = useRef([]);
  const edges = useMemo(() => (prevEdges.current = buildEdges(props, nodes, prevEdges.current)),
                        [props.edges, nodes, readOnly, preview]); // eslint-disable-line react-hooks/exhaustive-deps
  // for the benchmark: when the server's graph reached the DOM (window.__fc.t0 is when the action left)
  useLayoutEffect(() => { if (window.__fc) window.__fc.committed = performance.now(); }, [rev]);

  const act = useCallback((payload) => {
    if (!onAction) return;
    window.__fc = { kind: payload.kind, t0: performance.now(), rev };
    onAction(payload);
  }, [onAction, rev]);

  // The look of a palette drag (every line's insert button shown as a drop target) is an attribute set on the DOM,
  // not React state: as state it re-rendered the canvas and the palette when the drag began and again at the drop,
  // in the frames that draw the dropped card; the CSS (.fc-root[data-dragging]) needs no render.
  const dragLook = useCallback((on) => { if (root.current) root.current.toggleAttribute("data-dragging", on); }, []);

  const notify = useCallback((text) => {
    setNote(text);
    clearTimeout(notify.timer);
    notify.timer = setTimeout(() => setNote(""), 2600);
  }, []);

  // ---- layout (assets/canvas/flow_layout.js): Tidy up, and a flow opened without saved positions
  const fitSoon = useCallback(() => setTimeout(() => flow.fitView({ padding: preview ? 0.12 : 0.2, maxZoom: 1 }), 60),
                              [flow, preview]);
  const layout = useCallback(async () => {
    // the rows are chosen for the canvas's shape: on a loaded machine the first effect can run before the page's
    // flex layout has given the canvas its size (a 0-high box makes every wrapped shape look worse than one row),
    // so wait a few frames for a real box, then take what there is (or a typical screen)
    let box = null;
    for (let i = 0; i < 30; i += 1) {
      box = wrapper.current ? wrapper.current.getBoundingClientRect() : null;
      if (box && box.width >= MIN_LAYOUT_BOX && box.height >= MIN_LAYOUT_BOX) break;
      await new Promise((done) => requestAnimationFrame(() => done()));
    }
    if (!box || !box.width || !box.height) box = { width: 1200, height: 800 };
    const sizes = {};
    for (const n of flow.getNodes()) {
      if (n.type === "step" && n.measured && n.measured.width) sizes[n.id] = n.measured;
    }
    return layoutFlow(props.nodes || [], props.edges || [], { sizes, width: box.width, height: box.height });
  }, [flow, props.nodes, props.edges]);
  const tidy = useCallback(async () => {
    if (!(props.nodes || []).length) return;
    setTidying(true);
    try {
      const positions = await layout();
      const moved = (props.nodes || []).some((n) => positions[n.id]
        && (positions[n.id].x !== n.position.x || positions[n.id].y !== n.position.y));
      if (moved) {
        fitAfter.current = true;
        act({ kind: "tidy", positions });  // one step in the undo history
      } else fitSoon();
    } finally {
      setTidying(false);
    }
  }, [layout, act, fitSoon, props.nodes]);
  useEffect(() => {
    if (!fitAfter.current) return undefined;
    fitAfter.current = false;
    const t = fitSoon();
    return () => clearTimeout(t);
  }, [rev]); // eslint-disable-line react-hooks/exhaustive-deps
  const unplaced = (props.nodes || []).some((n) => n.auto);
  useEffect(() => {
    if (!unplaced) { autoPos.current = null; return undefined; }
    let live = true, t = null;
    layout().then((positions) => {
      if (!live) return;
      autoPos.current = positions;
      setAutoRev((r) => r + 1);
      // an editable flow keeps them (not an undo step): moves and saves start from this layout
      if (!readOnly && !preview && onAction) onAction({ kind: "layout", positions });
      t = fitSoon();
    });
    return () => { live = false; clearTimeout(t); };
  }, [unplaced, props.viewKey]); // eslint-disable-line react-hooks/exhaustive-deps

  const openMenuAt = useCallback((e, ctx) => {
    if (readOnly || preview) return;
    e.stopPropagation();
    const box = wrapper.current.getBoundingClientRect();
    const x = Math.min(e.clientX - box.left + 12, box.width - 300);
    const y = Math.min(e.clientY - box.top - 12, box.height - 380);
    setMenu({ x: Math.max(8, x), y: Math.max(8, y), ctx });
  }, [readOnly, preview]);

  const pick = useCallback((type) => {
    const c = menu.ctx;
    setMenu(null);
    if (c.kind === "first") act({ kind: "add_first", type });
    else if (c.kind === "insert") act({ kind: "insert", type, source: c.source, branch: c.branch, target: c.target });
    else act({ kind: "add", type, source: c.source, branch: c.branch, x: c.x, y: c.y });
  }, [menu, act]);

  const onNodesChange = useCallback((changes) => {
    const kept = changes.filter((c) => c.type === "position" || c.type === "dimensions");
    if (!kept.length) return;
    setNodes((nds) => {
      // once measured, a new card drops its estimate: React Flow's measured handle bounds are kept from then on
      const next = applyNodeChanges(kept, nds).map((n) => (n.handles && n.measured && n.measured.width ? measuredOnly(n) : n));
      if (!kept.some((c) => c.type === "position")) return next;
      // the "+" stubs follow their component while it is dragged
      const steps = new Map(next.filter((n) => n.type === "step").map((n) => [n.id, n]));
      return next.map((n) => {
        if (n.type !== "plus") return n;
        const s = steps.get(n.data.source);
        const b = s && s.data.node.branches.find((x) => x.key === n.data.branch);
        return b ? { ...n, position: { x: s.position.x + b.offset.x, y: s.position.y + b.offset.y + 18 } } : n;
      });
    });
  }, []);

  const onNodeDragStart = useCallback((_e, node) => { dragging.current.add(node.id); }, []);
  const onNodeDragStop = useCallback((_e, node) => {
    dragging.current.delete(node.id);
    if (node.type !== "step") return;
    const before = (props.nodes || []).find((n) => n.id === node.id);
    const x = Math.round(node.position.x), y = Math.round(node.position.y);
    if (before && Math.round(before.position.x) === x && Math.round(before.position.y) === y) return;
    act({ kind: "move", id: node.id, x, y });
  }, [act, props.nodes]);

  const onNodeClick = useCallback((_e, node) => {
    if (node.type !== "step") return;
    setLocalSel(node.id);
    act({ kind: "select", id: node.id });
  }, [act]);

  const onPaneClick = useCallback(() => {
    setMenu(null);
    setEdgeSel("");
    if (localSel) { setLocalSel(""); act({ kind: "select", id: "" }); }
  }, [act, localSel]);

  const onConnect = useCallback((c) => {
    if (c.target.startsWith("plus|") || c.target === "start") return;
    act({ kind: "connect", source: c.source, branch: c.sourceHandle || "out", target: c.target });
  }, [act]);

  const onConnectEnd = useCallback((event, state) => {
    if (state.isValid || !state.fromHandle || state.fromHandle.type !== "source") return;
    const pt = "changedTouches" in event ? event.changedTouches[0] : event;
    const under = document.elementFromPoint(pt.clientX, pt.clientY);
    const card = under && under.closest(".react-flow__node-step");
    const source = state.fromHandle.nodeId, branch = state.fromHandle.id || "out";
    if (card) {
      const target = card.getAttribute("data-id");
      if (target && target !== source) act({ kind: "connect", source, branch, target });
      return;
    }
    const pos = flow.screenToFlowPosition({ x: pt.clientX, y: pt.clientY });
    openMenuAt(pt.stopPropagation ? pt : { ...pt, stopPropagation() {} },
               { kind: "add_at", source, branch, x: Math.round(pos.x), y: Math.round(pos.y - 30) });
  }, [act, flow, openMenuAt]);

  // ---- drag from the palette onto a "+", a line, or the start placeholder
  const dropTarget = (e) => (e.target && e.target.closest ? e.target.closest("[data-drop]") : null);
  const clearOver = () => wrapper.current && wrapper.current.querySelectorAll(".drop-over")
    .forEach((el) => el.classList.remove("drop-over"));
  const onDragOver = useCallback((e) => {
    if (readOnly || preview || !window.__fcDragging) return;
    e.preventDefault();
    const t = dropTarget(e);
    clearOver();
    const trig = window.__fcDragging.trigger;
    const ok = t && (t.dataset.drop === "start" ? trig : !trig);
    e.dataTransfer.dropEffect = "copy";  // dropped elsewhere, it says where it can go
    if (ok) t.classList.add("drop-over");
  }, [readOnly, preview]);
  const onDrop = useCallback((e) => {
    e.preventDefault();
    clearOver();
    const type = e.dataTransfer.getData(DRAG_TYPE) || (window.__fcDragging && window.__fcDragging.type);
    dragLook(false);
    const item = (props.palette || []).find((p) => p.type === type);
    window.__fcDragging = null;
    if (!item) return;
    const t = dropTarget(e);
    if (!t) {
      notify(props.nodes && props.nodes.length ? "Drop it on a + at the end of a link, or on a line."
                                               : "Drop the trigger on the start placeholder.");
      return;
    }
    const d = t.dataset;
    if (d.drop === "start") {
      if (!item.trigger) { notify("The first component must be a trigger: Target Audience or Behaviour Event."); return; }
      act({ kind: "add_first", type });
    } else if (item.trigger) {
      notify("A trigger can only be the first component.");
    } else if (d.drop === "plus") {
      act({ kind: "add", type, source: d.source, branch: d.branch });
    } else if (d.drop === "link") {
      act({ kind: "insert", type, source: d.source, branch: d.branch, target: d.target });
    }
  }, [act, notify, dragLook, props.palette, props.nodes]);

  // ---- keyboard: undo / redo, copy / paste, delete, escape
  useEffect(() => {
    if (preview) return undefined;
    const onKey = (e) => {
      const t = e.target;
      if (t && t.closest && t.closest("input, textarea, select, [contenteditable='true'], [role='dialog'], [role='alertdialog'], [role='listbox']")) return;
      if (document.querySelector("[role='alertdialog'][data-state='open'], [role='dialog'][data-state='open']")) return;
      const mod = e.ctrlKey || e.metaKey;
      const k = (e.key || "").toLowerCase();
      if (e.key === "Escape") {
        if (menu) setMenu(null); else act({ kind: "escape" });
        return;
      }
      if (readOnly) return;
      if (mod && k === "z" && !e.shiftKey) { e.preventDefault(); act({ kind: "undo" }); }
      else if (mod && (k === "y" || (k === "z" && e.shiftKey))) { e.preventDefault(); act({ kind: "redo" }); }
      else if (mod && k === "c" && localSel) { e.preventDefault(); act({ kind: "copy", id: localSel, subtree: e.shiftKey }); }
      else if (mod && k === "v") { e.preventDefault(); act({ kind: "paste_selected", id: localSel }); }
      else if (!mod && (e.key === "Delete" || e.key === "Backspace")) {
        const edge = edgeSel && edges.find((x) => x.id === edgeSel);
        if (localSel) { e.preventDefault(); act({ kind: "delete", id: localSel }); }
        else if (edge) { e.preventDefault(); act({ kind: "cut", ...edge.data.edge }); }
      }
    };
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, [act, menu, readOnly, preview, localSel, edges, edgeSel]);

  // ---- leaving with unsaved changes: the browser asks too
  useEffect(() => {
    if (!props.dirty || readOnly) return undefined;
    const ask = (e) => { e.preventDefault(); e.returnValue = ""; };
    window.addEventListener("beforeunload", ask);
    return () => window.removeEventListener("beforeunload", ask);
  }, [props.dirty, readOnly]);

  // ---- centre a component (a publish problem or a template key component was clicked)
  const focusN = props.focus ? props.focus.n : 0;
  useEffect(() => {
    if (!focusN) return undefined;
    // after the configuration panel has opened and the canvas has its new width
    const t = setTimeout(() => {
      const n = flow.getNode(props.focus.id);
      if (!n) return;
      const w = (n.measured && n.measured.width) || 200, h = (n.measured && n.measured.height) || 60;
      flow.setCenter(n.position.x + w / 2, n.position.y + h / 2, { zoom: Math.max(flow.getZoom(), 0.8), duration: 300 });
    }, 120);
    return () => clearTimeout(t);
  }, [focusN]); // eslint-disable-line react-hooks/exhaustive-deps

  // ---- another activity or version in the same mounted canvas: fit it to the screen again
  const viewKey = props.viewKey || "";
  const firstView = useRef(viewKey);
  useEffect(() => {
    if (viewKey === firstView.current) return undefined;
    firstView.current = viewKey;
    const t = setTimeout(() => flow.fitView({ padding: 0.25, maxZoom: 1 }), 60);
    return () => clearTimeout(t);
  }, [viewKey]); // eslint-disable-line react-hooks/exhaustive-deps

  // ---- a component selected by the server (just added, pasted, picked in a list) is scrolled into view
  const autoPan = useRef(null);  // a pending scroll to the selected component; the user's own moves cancel it
  const cancelAutoPan = useCallback(() => { clearTimeout(autoPan.current); autoPan.current = null; }, []);
  useEffect(() => {
    if (!selected || preview || !wrapper.current) return undefined;
    autoPan.current = setTimeout(() => {  // after the configuration panel has opened
      autoPan.current = null;
      const n = flow.getNode(selected);
      if (!n || !wrapper.current) return;
      const box = wrapper.current.getBoundingClientRect();
      const w = (n.measured && n.measured.width) || 196, h = (n.measured && n.measured.height) || 60;
      const a = flow.flowToScreenPosition({ x: n.position.x, y: n.position.y - 40 });
      const b = flow.flowToScreenPosition({ x: n.position.x + w, y: n.position.y + h });
      const m = 24;
      if (a.x < box.left + m || b.x > box.right - m || a.y < box.top + m || b.y > box.bottom - m) {
        flow.setCenter(n.position.x + w / 2, n.position.y + h / 2, { zoom: flow.getZoom(), duration: 250 });
      }
    }, 120);
    return cancelAutoPan;
  }, [selected]); // eslint-disable-line react-hooks/exhaustive-deps

  useEffect(() => setEdgeSel(""), [rev]);
  const shownEdges = useMemo(() => edges.map((e) => (e.id === edgeSel ? { ...e, selected: true } : e)), [edges, edgeSel]);
  const ctx = useMemo(() => ({ act, openMenuAt, readOnly, preview, copyMode }), [act, openMenuAt, readOnly, preview, copyMode]);
  const onExecution = props.onExecution;
  const routeNodes = props.route && props.route.nodes && props.route.nodes.length ? props.route.nodes : null;
  const routeEdges = routeNodes ? props.route.edges || [] : null;
  const execCtx = useMemo(() => ({
    data: props.execution || {},
    open: onExecution ? (id) => onExecution(id) : null,
    nodes: routeNodes ? new Set(routeNodes) : null,
    edges: routeEdges ? new Set(routeEdges) : null,
  }), [props.execution, onExecution, routeNodes, routeEdges]);
  const routeKey = routeNodes ? routeNodes.join(",") : "";
  // a customer's route was drawn: bring all of it into view (after the side panel took its width)
  useEffect(() => {
    if (!routeNodes) return undefined;
    const t = setTimeout(() => flow.fitView({ nodes: routeNodes.map((id) => ({ id })), padding: 0.3, maxZoom: 1,
                                              duration: 250 }), 80);
    return () => clearTimeout(t);
  }, [routeKey]); // eslint-disable-line react-hooks/exhaustive-deps
  const hoverCtx = useMemo(() => ({ hoverEdge, hover }), [hoverEdge, hover]);

  return (
    <Ctx.Provider value={ctx}>
     <HoverCtx.Provider value={hoverCtx}>
     <ExecCtx.Provider value={execCtx}>
      <div className={"fc-root" + (preview ? " preview" : "") + (readOnly ? " read-only" : "") + (copyMode ? " copying" : "")
                      + (routeNodes ? " routing" : "")}
           ref={root} data-rev={rev} data-copy-mode={copyMode} data-lines={shownEdges.length} data-route={routeKey}
           data-layout={unplaced && !autoPos.current ? "pending" : "done"}>
        {!readOnly && !preview && <Palette items={props.palette || []} empty={!(props.nodes || []).length} notify={notify}
                                            onDragging={dragLook} />}
        <div className="fc-flow" ref={wrapper} onDragOver={onDragOver} onDrop={onDrop}
             onDragLeave={(e) => { if (!wrapper.current.contains(e.relatedTarget)) clearOver(); }}>
          <ReactFlow
            nodes={nodes}
            edges={shownEdges}
            nodeTypes={NODE_TYPES}
            edgeTypes={EDGE_TYPES}
            onNodesChange={onNodesChange}
            onNodeDragStart={onNodeDragStart}
            onNodeDragStop={onNodeDragStop}
            onNodeClick={onNodeClick}
            onPaneClick={onPaneClick}
            onEdgeClick={(_e, edge) => { if (edge.type === "link") setEdgeSel(edge.id); }}
            onEdgeMouseEnter={(_e, edge) => { if (edge.type === "link") hover(edge.id); }}
            onEdgeMouseLeave={() => hover("")}
            onConnect={onConnect}
            onConnectEnd={onConnectEnd}
            onMoveStart={(event) => { setMenu(null); if (event) cancelAutoPan(); }}
            nodesDraggable={!readOnly && !preview}
            nodesConnectable={!readOnly && !preview}
            elementsSelectable={!preview}
            panOnDrag={!preview}
            zoomOnScroll={!preview}
            zoomOnDoubleClick={false}
            preventScrolling={!preview}
            deleteKeyCode={null}
            selectionKeyCode={null}
            multiSelectionKeyCode={null}
            nodeDragThreshold={4}
            connectionRadius={28}
            minZoom={0.2}
            maxZoom={2}
            fitView
            fitViewOptions={{ padding: preview ? 0.12 : 0.25, maxZoom: 1 }}
            proOptions={{ hideAttribution: true }}
            defaultEdgeOptions={{ type: "link" }}
          >
            <Background gap={18} size={1.2} color="#cbd2dc" />
            {!preview && (props.nodes || []).length > 0 && <MiniMap pannable zoomable position="bottom-left" className="fc-minimap" style={{ width: 168, height: 112 }}
                                  nodeClassName={(n) => (n.type === "step" ? `mm-${n.data.node.cat}` : "mm-hidden")} />}
            {!preview && <Toolbar act={act} canUndo={props.canUndo} canRedo={props.canRedo} readOnly={readOnly}
                                  onView={cancelAutoPan} onTidy={tidy} tidying={tidying} />}
            {copyMode && !readOnly && (
              <Panel position="top-center" className="fc-banner" data-banner="copy">
                <ClipboardPaste size={14} />
                <span>{copyMode === "subtree" ? "Component and its subsequent links copied: click a + to paste."
                                              : "Component copied: click a + or a line's paste button to paste."}</span>
                <button type="button" onClick={() => act({ kind: "escape" })} title="Leave copy mode (Esc)">
                  <X size={13} />Esc
                </button>
              </Panel>
            )}
          </ReactFlow>
          {menu && <Menu menu={menu} items={props.palette || []} onPick={pick} onClose={() => setMenu(null)} />}
          {note && <div className="fc-note" role="status">{note}</div>}
        </div>
      </div>
     </ExecCtx.Provider>
     </HoverCtx.Provider>
    </Ctx.Provider>
  );
}

export function FlowCanvas(props) {
  return (
    <ReactFlowProvider>
      <Canvas {...props} />
    </ReactFlowProvider>
  );
}
