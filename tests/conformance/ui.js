// What the seeds' client code calls but leaves to the UI, written for the conformance page: each records
// what it was given, for test_seed_clients.py to compare with the server. Not seed code.
export const seen = {
  flows: [],            // seed 000: renderFlowDiagram's arguments
  summaries: [],        // seed 000: updatePnLSummary's
  reconnects: 0,        // seed 000: reconnectSSE calls (the stream broke)
  nodeStatus: {},       // seed 004: updateNodeStatus's diagnostics, merged per session
  trades: {},           // seed 004: updateTrades's payloads per session
};

export function renderFlowDiagram(entryFlow, exitFlow) {
  seen.flows.push({entry: entryFlow, exit: exitFlow === undefined ? null : exitFlow});
}

export function updatePnLSummary(summary) {
  seen.summaries.push(summary);
}

export function reconnectSSE() {
  seen.reconnects += 1;
}

const RUPEES = new Intl.NumberFormat("en-IN", {style: "currency", currency: "INR"});

export function formatCurrency(value) {
  return RUPEES.format(Number(value));
}

export function renderStrategyCards(sessions) {
  const list = document.getElementById("cards");
  for (const session of Object.values(sessions)) {
    const card = document.createElement("article");
    card.dataset.sessionId = session.session_id;
    const name = document.createElement("h2");
    name.textContent = session.strategy_name;
    card.append(name);
    for (const [cls, label] of [["total-pnl", "Total P&L"], ["realized-pnl", "Realized"],
      ["unrealized-pnl", "Unrealized"], ["open-positions", "Open positions"]]) {
      const row = document.createElement("p");
      row.textContent = `${label}: `;
      const value = document.createElement("span");
      value.className = cls;
      row.append(value);
      card.append(row);
    }
    const track = document.createElement("div");
    track.className = "progress";
    const bar = document.createElement("div");
    bar.className = "progress-bar";
    track.append(bar);
    const positions = document.createElement("div");
    positions.className = "positions-list";
    card.append(track, positions);
    list.append(card);
  }
}

export function updateNodeStatus(sessionId, diagnostics) {
  const mine = seen.nodeStatus[sessionId] ||= {events_history: {}, current_state: {}};
  Object.assign(mine.events_history, diagnostics.events_history);
  Object.assign(mine.current_state, diagnostics.current_state);
}

export function updateTrades(sessionId, trades) {
  (seen.trades[sessionId] ||= []).push(trades);
}
