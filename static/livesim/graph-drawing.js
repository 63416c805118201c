// A strategy graph drawn as SVG: elkjs lays it out (layered, top to bottom), nodes and edges are built
// with createElementNS and their text set with textContent. Used by a trade's flow diagram (the nodes it
// passed highlighted), a strategy's page and the JSON editor's live drawing.

const SVG = "http://www.w3.org/2000/svg";
const NODE_W = 170;
const NODE_H = 46;

function svg(name, attrs = {}, parent = null) {
  const el = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (parent) parent.appendChild(el);
  return el;
}

/**
 * Draw ``graph`` ({nodes: [{id, type, name}], edges: [{from, to}]}) into ``box``, replacing its content.
 * ``path`` is the node ids a trade passed through, in order: those nodes and the edges between
 * consecutive ones are highlighted and numbered. ``label`` is the SVG's accessible name.
 */
export async function drawGraph(box, graph, {path = [], label = "Strategy graph"} = {}) {
  box.replaceChildren();
  if (!graph || !graph.nodes || !graph.nodes.length) return;
  const ELK = await loadElk();
  const order = path;
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
    "aria-label": label});
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
    const stepNums = order.map((id, i) => (id === c.id ? i + 1 : null)).filter(Boolean);
    type.textContent = clip(`${node.type}${stepNums.length ? ` · step ${stepNums.join(", ")}` : ""}`, 28);
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
