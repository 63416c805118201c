// A trade's flow (seeds 000 and 004): the chain of node executions from the strategy controller through
// the entry to the exit, resolved from the node events the page holds (ids it lacks are fetched from the
// diagnostics endpoint; any still missing are shown as missing, never dropped), listed step by step and
// drawn on the strategy's graph (elkjs layout, SVG built with createElementNS, text via textContent).
import {istTime, rupees} from "/static/livesim/format.js";

const SVG = "http://www.w3.org/2000/svg";
const NODE_W = 170;
const NODE_H = 46;

function svg(name, attrs = {}, parent = null) {
  const el = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (parent) parent.appendChild(el);
  return el;
}

function el(name, attrs = {}, text = null) {
  const e = document.createElement(name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== null) e.textContent = text;
  return e;
}

/** The ids of a trade's (or an open position's) flow, controller first: the exit flow holds the entry's. */
export function flowIds(item) {
  return (item.exit_flow_ids && item.exit_flow_ids.length) ? item.exit_flow_ids : (item.entry_flow_ids || []);
}

/** One line saying what an execution decided: condition values or order details. */
export function stepDetail(ex) {
  const parts = [];
  const order = ex.order_details;
  if (order) {
    parts.push(`${String(order.side || "").toUpperCase()} ${order.symbol} ${order.quantity} @ ${order.price ?? order.ltp}`
      + ` (${order.order_type || "order"} ${order.status || ""})`.replace(/ \)$/, ")"));
    if (order.charges && order.charges.total) parts.push(`charges ${rupees(order.charges.total)}`);
  }
  const conditions = ex.evaluated_conditions && ex.evaluated_conditions.condition_results;
  if (conditions) {
    for (const c of conditions) {
      parts.push(`${c.condition_type}: ${c.current_value} ${c.operator} ${c.threshold} → ${c.result ? "true" : "false"}`);
    }
  }
  if (ex.exit_reason) parts.push(`exit reason ${ex.exit_reason}`);
  if (ex.ltp != null && !order) parts.push(`LTP ${ex.ltp}`);
  if (ex.levels) {
    const levels = Object.entries(ex.levels).filter(([, v]) => v != null).map(([k, v]) => `${k} ${v}`);
    if (levels.length) parts.push(levels.join(", "));
  }
  for (const p of ex.positions || []) {
    const side = p.side ? `${String(p.side).toUpperCase()} ` : "";
    parts.push(`closed ${side}${p.symbol || p.position_id} ${p.quantity ?? ""} @ ${p.price ?? p.exit_price ?? "?"}`
      + (p.status ? ` (${p.status})` : ""));
  }
  if (ex.reason) parts.push(`reason ${ex.reason}`);
  if (ex.trigger) parts.push(`trigger ${ex.trigger}`);
  if (ex.re_entry) {
    const r = ex.re_entry;
    parts.push(`re-entry ${r.re_entry_num} of ${r.position_id} after ${r.after}`
      + (r.re_entries_left != null ? ` (${r.re_entries_left} left)` : ""));
  }
  if (ex.deactivated_nodes && ex.deactivated_nodes.length) parts.push(`closed to entries: ${ex.deactivated_nodes.join(", ")}`);
  if (ex.strategy) parts.push(`start ${ex.strategy.start_time}, square-off ${ex.strategy.square_off_time}`);
  if (ex.position && ex.position.stop_loss != null) parts.push(`stop ${ex.position.effective_stop ?? ex.position.stop_loss}`);
  if (ex.position && ex.position.target != null) parts.push(`target ${ex.position.target}`);
  return parts.join("; ");
}

/**
 * Resolve ``ids`` against ``history`` (execution id -> execution); fetch the diagnostics once if some are
 * missing (``fetchDiagnostics()`` resolves to its events_history). Returns [{id, execution|null}] in order.
 */
export async function resolve(ids, history, fetchDiagnostics) {
  if (ids.some((id) => !history[id])) {
    try {
      const more = await fetchDiagnostics();
      for (const [id, ex] of Object.entries(more || {})) if (!history[id]) history[id] = ex;
    } catch { /* shown as missing below */ }
  }
  return ids.map((id) => ({id, execution: history[id] || null}));
}

/** Fill the dialog's step list and graph for ``steps`` on ``graph`` ({nodes, edges}); ``time`` formats a step's time. */
export async function render({steps, graph, list, graphBox, time = istTime}) {
  list.replaceChildren();
  steps.forEach(({id, execution}, i) => {
    const li = el("li", {"data-execution-id": id, class: execution ? "flow-step" : "flow-step missing"});
    if (!execution) {
      li.append(el("strong", {}, "Missing execution"), el("code", {}, id));
    } else {
      const head = el("div", {class: "flow-step-head"});
      head.append(el("span", {class: "flow-step-num"}, String(i + 1)), el("strong", {}, execution.node_name || execution.node_id),
        el("span", {class: "badge"}, execution.node_type || ""), el("span", {class: "muted"}, time(execution.timestamp)),
        el("span", {class: "muted"}, execution.event_type || ""));
      li.append(head);
      const detail = stepDetail(execution);
      if (detail) li.append(el("p", {class: "flow-detail"}, detail));
    }
    list.append(li);
  });
  await drawGraph(graphBox, graph, steps);
}

async function drawGraph(box, graph, steps) {
  box.replaceChildren();
  if (!graph || !graph.nodes || !graph.nodes.length) return;
  const ELK = await loadElk();
  const order = steps.map((s) => s.execution && s.execution.node_id).filter(Boolean);
  const passed = new Set(order);
  const passedEdges = new Set();
  for (let i = 1; i < order.length; i += 1) passedEdges.add(`${order[i - 1]}>${order[i]}`);
  const known = new Set(graph.nodes.map((n) => n.id));
  const edges = graph.edges.filter((e) => known.has(e.from) && known.has(e.to));
  const elk = new ELK();
  const layout = await elk.layout({
    id: "root",
    layoutOptions: {"elk.algorithm": "layered", "elk.direction": "DOWN", "elk.spacing.nodeNode": "24",
      "elk.layered.spacing.nodeNodeBetweenLayers": "36", "elk.edgeRouting": "POLYLINE"},
    children: graph.nodes.map((n) => ({id: n.id, width: NODE_W, height: NODE_H})),
    edges: edges.map((e, i) => ({id: `e${i}`, sources: [e.from], targets: [e.to]})),
  });
  const width = Math.ceil(layout.width || 400) + 8;
  const height = Math.ceil(layout.height || 200) + 8;
  const root = svg("svg", {viewBox: `-4 -4 ${width} ${height}`, width, height, role: "img", class: "flow-svg",
    "aria-label": "Strategy graph; the nodes and edges this trade passed through are highlighted"});
  const defs = svg("defs", {}, root);
  for (const [name, colour] of [["arrow", "#8795a6"], ["arrow-hot", "#0b3d91"]]) {
    const marker = svg("marker", {id: `flow-${name}`, viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7,
      markerHeight: 7, orient: "auto-start-reverse"}, defs);
    svg("path", {d: "M0,0 L10,5 L0,10 z", fill: colour}, marker);
  }
  layout.edges.forEach((e, i) => {
    const source = edges[i];
    const hot = passedEdges.has(`${source.from}>${source.to}`);
    for (const section of e.sections || []) {
      const pts = [section.startPoint, ...(section.bendPoints || []), section.endPoint];
      svg("polyline", {points: pts.map((p) => `${p.x},${p.y}`).join(" "), fill: "none",
        stroke: hot ? "#0b3d91" : "#8795a6", "stroke-width": hot ? 3 : 1.2,
        "marker-end": `url(#flow-${hot ? "arrow-hot" : "arrow"})`, "data-edge": `${source.from}>${source.to}`,
        class: hot ? "flow-edge passed" : "flow-edge"}, root);
    }
  });
  const byId = Object.fromEntries(graph.nodes.map((n) => [n.id, n]));
  for (const c of layout.children) {
    const node = byId[c.id];
    const hot = passed.has(c.id);
    const g = svg("g", {transform: `translate(${c.x},${c.y})`, "data-node": c.id,
      class: hot ? "flow-node passed" : "flow-node"}, root);
    svg("rect", {width: NODE_W, height: NODE_H, rx: 6, fill: hot ? "#e3ecfb" : "#ffffff",
      stroke: hot ? "#0b3d91" : "#8795a6", "stroke-width": hot ? 2.5 : 1}, g);
    const name = svg("text", {x: 8, y: 19, "font-size": 13, "font-weight": 600, fill: "#15202b"}, g);
    name.textContent = clip(node.name || node.id, 22);
    const type = svg("text", {x: 8, y: 36, "font-size": 11, fill: "#4a5868"}, g);
    const steps = order.map((id, i) => (id === c.id ? i + 1 : null)).filter(Boolean);
    type.textContent = clip(`${node.type}${steps.length ? ` · step ${steps.join(", ")}` : ""}`, 28);
    const title = svg("title", {}, g);
    title.textContent = `${node.name || node.id} (${node.type})`;
  }
  box.append(root);
  // On a narrow screen the graph scrolls inside its box: start with the trade's path in view.
  const hot = layout.children.filter((c) => passed.has(c.id));
  if (hot.length && box.clientWidth < width) {
    const left = Math.min(...hot.map((c) => c.x));
    const right = Math.max(...hot.map((c) => c.x + NODE_W));
    box.scrollLeft = Math.max(0, (left + right) / 2 - box.clientWidth / 2);
  }
}

let elkLoading = null;
/** elkjs (1.5 MB) is loaded the first time a flow is drawn, not with the page. */
function loadElk() {
  if (window.ELK) return Promise.resolve(window.ELK);
  elkLoading ??= new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = "/static/vendor/elkjs/elk.bundled.js";
    script.onload = () => resolve(window.ELK);
    script.onerror = () => { elkLoading = null; reject(new Error("elkjs did not load")); };
    document.head.append(script);
  });
  return elkLoading;
}

const clip = (text, n) => (text.length > n ? `${text.slice(0, n - 1)}…` : text);
