// A trade's flow (seeds 000 and 004): the chain of node executions from the strategy controller through
// the entry to the exit, resolved by the stream client (stream-client.js: flowIds, resolveFlow; ids the
// page lacks are fetched from the diagnostics endpoint, any still missing are shown as missing, never
// dropped), listed step by step here and drawn on the strategy's graph (elkjs layout, SVG built with
// createElementNS, text via textContent).
import {NSE, exchangeTime, money} from "/static/livesim/format.js";
import {drawGraph} from "/static/livesim/graph-drawing.js";
import {exitReason} from "/static/livesim/session-tables.js";

function el(name, attrs = {}, text = null) {
  const e = document.createElement(name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== null) e.textContent = text;
  return e;
}

/** One line saying what an execution decided: condition values or order details (charges as ``market``'s money). */
export function stepDetail(ex, market = NSE) {
  const parts = [];
  const order = ex.order_details;
  if (order) {
    parts.push(`${String(order.side || "").toUpperCase()} ${order.symbol} ${order.quantity} @ ${order.price ?? order.ltp}`
      + ` (${order.order_type || "order"} ${order.status || ""})`.replace(/ \)$/, ")"));
    if (order.charges && order.charges.total) parts.push(`charges ${money(order.charges.total, market)}`);
  }
  const conditions = ex.evaluated_conditions && ex.evaluated_conditions.condition_results;
  if (conditions) {
    for (const c of conditions) {
      parts.push(`${c.condition_type}: ${c.current_value} ${c.operator} ${c.threshold} → ${c.result ? "true" : "false"}`);
    }
  }
  if (ex.exit_reason) parts.push(`exit reason: ${exitReason(ex.exit_reason)}`);
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

/** Fill the dialog's step list and graph for ``steps`` on ``graph`` ({nodes, edges}); ``time`` formats a step's
 *  time, ``market`` (format.js) its money. */
export async function render({steps, graph, list, graphBox, time = exchangeTime, market = NSE}) {
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
      const detail = stepDetail(execution, market);
      if (detail) li.append(el("p", {class: "flow-detail"}, detail));
    }
    list.append(li);
  });
  const path = steps.map((s) => s.execution && s.execution.node_id).filter(Boolean);
  await drawGraph(graphBox, graph, {path,
    label: "Strategy graph; the nodes and edges this trade passed through are highlighted"});
}
