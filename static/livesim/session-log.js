// The node-event log: every execution the page holds, filterable by node and event type, newest or
// oldest first. A whole day can hold thousands; the table shows at most CAP rows (the filters and the
// order pick which), and renders at most once a frame however fast events arrive.
import {NSE, exchangeTime} from "/static/livesim/format.js";
import {stepDetail} from "/static/livesim/session-flow.js";

export const CAP = 300;

export function nodeLog({table, nodeSelect, typeSelect, orderSelect, countLine, graph, time = exchangeTime, market = NSE}) {
  let events = [];
  const nodes = new Map((graph.nodes || []).map((n) => [n.id, n.name || n.id]));
  const types = new Set();
  let pending = false;

  function addOption(select, value, label) {
    const option = document.createElement("option");
    option.value = value;
    option.textContent = label;
    select.append(option);
  }
  for (const [id, name] of nodes) addOption(nodeSelect, id, name);

  function note(ex) {
    if (!nodes.has(ex.node_id)) { nodes.set(ex.node_id, ex.node_name || ex.node_id); addOption(nodeSelect, ex.node_id, ex.node_name || ex.node_id); }
    if (!types.has(ex.event_type)) { types.add(ex.event_type); addOption(typeSelect, ex.event_type, ex.event_type); }
  }

  function draw() {
    pending = false;
    const node = nodeSelect.value;
    const type = typeSelect.value;
    const matching = events.filter((ex) => (!node || ex.node_id === node) && (!type || ex.event_type === type));
    const shown = orderSelect.value === "oldest" ? matching.slice(0, CAP) : matching.slice(-CAP).reverse();
    const body = table.tBodies[0];
    body.replaceChildren(...shown.map((ex) => {
      const tr = document.createElement("tr");
      tr.dataset.executionId = ex.execution_id;
      const cells = [["Time", time(ex.timestamp)], ["Node", ex.node_name || ex.node_id], ["Type", ex.node_type || ""],
        ["Event", ex.event_type || ""], ["Details", stepDetail(ex, market)]];
      for (const [label, text] of cells) {
        const td = document.createElement("td");
        td.dataset.label = label;  // the narrow screen's card shows it before the value
        td.textContent = text;
        tr.append(td);
      }
      tr.lastChild.className = "log-detail";
      return tr;
    }));
    countLine.textContent = matching.length > shown.length
      ? `Showing ${shown.length} of ${matching.length} matching events (${events.length} in all).`
      : `${matching.length} matching events (${events.length} in all).`;
  }

  function schedule() {
    if (!pending) { pending = true; requestAnimationFrame(draw); }
  }
  for (const select of [nodeSelect, typeSelect, orderSelect]) select.addEventListener("change", draw);

  return {
    /** Replace everything with ``history`` (execution id -> execution, in execution order). */
    reset(history) { events = Object.values(history); events.forEach(note); schedule(); },
    /** Append new executions (a node_events event's events_history). */
    add(history) {
      for (const ex of Object.values(history)) { events.push(ex); note(ex); }
      schedule();
    },
    count: () => events.length,
  };
}
