// The positions and trades tables. Rows are keyed (data-key / data-trade-id) so a tick changes only the
// LTP and unrealized cells of the open positions, never re-rendering a table.
import {fromMinorUnits, minorUnits} from "/static/livesim/figures.js";
import {NSE, count, exchangeTime, money, pnlClass, price} from "/static/livesim/format.js";

// Prices (entry, exit, LTP) are shown at the instrument's places and money (P&L, charges) at the currency's
// minor units, in the session's currency (``market``: format.js).

export const positionKey = (p) => `${p.position_id}#${p.re_entry_num}`;

/** Why a trade closed, in words (its `exit_reason`, docs/protocol.md); an unknown reason as it came. */
const EXIT_REASONS = {
  stop_loss: "Stop loss", target: "Target", trailing_stop: "Trailing stop", exit_condition_met: "Exit condition",
  square_off: "Square-off", max_loss: "Strategy max loss", max_profit: "Strategy max profit",
  session_end: "Session end", settled: "Settled at expiry", expired: "Expired worthless", "": "Other",
};
export const exitReason = (reason) => EXIT_REASONS[reason ?? ""] ?? reason;

function cell(tr, text, {num = false, pnl = null, name = null} = {}) {
  const td = document.createElement("td");
  td.textContent = text;
  if (num) td.className = "num money";
  if (pnl !== null) td.classList.add(...[pnlClass(pnl)].filter(Boolean));
  if (name) td.dataset.cell = name;
  tr.append(td);
  return td;
}

function flowButton(tr, key, kind, label) {
  const td = document.createElement("td");
  const b = document.createElement("button");
  b.type = "button";
  b.className = "button button-small";
  b.textContent = "Flow";
  b.dataset.flow = kind;
  b.dataset.key = key;
  b.setAttribute("aria-label", `Flow of ${label}`);
  td.append(b);
  tr.append(td);
}

export function duration(minutes) {
  if (minutes === null || minutes === undefined) return "—";
  const m = Number(minutes);
  const h = Math.floor(m / 60);
  const rest = Math.round(m - h * 60);
  return h ? `${h} h ${rest} min` : `${m < 10 ? m.toFixed(1) : Math.round(m)} min`;
}

/** Closed positions, from their trades (a position closed in parts has a trade per part): what the
 *  position table shows for them. Sums are exact, in minor units of ``places`` places. */
export function closedPositions(positions, trades, places = 2) {
  const units = (v) => minorUnits(v, places);
  const out = new Map();
  for (const t of Object.values(trades)) {
    const key = positionKey(t);
    if (positions[key]) continue;  // still partly open: the open row has it
    const c = out.get(key) || {position_id: t.position_id, re_entry_num: t.re_entry_num, symbol: t.symbol, side: t.side,
      status: "CLOSED", quantity_remaining: 0, quantity_total: 0, entry_price: t.entry_price, entry_time: t.entry_time,
      current_price: null, realized: 0, charges: 0, entry_flow_ids: t.entry_flow_ids, exit_flow_ids: t.exit_flow_ids,
      exit_time: t.exit_time, exit_price: t.exit_price, exit_reason: t.exit_reason};
    c.quantity_total += t.quantity;
    c.realized += units(t.net_pnl);
    c.charges += units(t.charges);
    if (t.exit_time >= c.exit_time) {
      Object.assign(c, {exit_time: t.exit_time, exit_flow_ids: t.exit_flow_ids, exit_price: t.exit_price,
        exit_reason: t.exit_reason});
    }
    out.set(key, c);
  }
  return [...out.values()].map((c) => ({...c, realized_pnl: fromMinorUnits(c.realized, places),
    unrealized_pnl: fromMinorUnits(0, places), charges: fromMinorUnits(c.charges, places)}));
}

/** Rebuild the positions table: the open and partly closed positions ({key: position}), then the closed
 *  ones (from ``trades``); ``time`` formats the entry time in the Flow buttons' names. */
export function renderPositions(table, empty, positions, trades = {}, time = exchangeTime, market = NSE) {
  const rows = [...Object.values(positions), ...closedPositions(positions, trades, market.price_decimals)]
    .sort((a, b) => (a.status === "CLOSED") - (b.status === "CLOSED") || a.entry_time.localeCompare(b.entry_time));
  table.tBodies[0].replaceChildren(...rows.map((p) => {
    const tr = document.createElement("tr");
    const key = positionKey(p);
    tr.dataset.key = key;
    tr.dataset.status = p.status;
    cell(tr, p.symbol);
    cell(tr, p.side.toUpperCase());
    cell(tr, String(p.re_entry_num));
    cell(tr, p.status, {name: "status"});
    cell(tr, count(p.quantity_remaining, market), {num: true, name: "quantity_remaining"});
    cell(tr, count(p.quantity_total ?? p.quantity, market), {num: true});
    cell(tr, price(p.entry_price, market), {num: true});
    cell(tr, price(p.current_price, market), {num: true, name: "current_price"});
    cell(tr, money(p.realized_pnl, market), {num: true, pnl: p.realized_pnl, name: "realized_pnl"});
    cell(tr, money(p.unrealized_pnl, market), {num: true, pnl: p.unrealized_pnl, name: "unrealized_pnl"});
    cell(tr, money(p.charges, market), {num: true});
    // Re-entries (and a later day) can trade the same strike again: the entry time tells their buttons apart.
    flowButton(tr, key, p.status === "CLOSED" ? "closed" : "position",
      `${p.symbol} ${p.side} re-entry ${p.re_entry_num} entered ${time(p.entry_time)}`);
    return tr;
  }));
  empty.hidden = rows.length > 0;
}

/** A tick: only the LTP and unrealized cells of the rows whose position it names change. */
export function tickPositions(table, positions, market = NSE) {
  for (const tr of table.tBodies[0].rows) {
    const p = positions[tr.dataset.key];
    if (!p) continue;
    const ltp = tr.querySelector('[data-cell="current_price"]');
    const unreal = tr.querySelector('[data-cell="unrealized_pnl"]');
    ltp.textContent = price(p.current_price, market);
    unreal.textContent = money(p.unrealized_pnl, market);
    unreal.className = `num money ${pnlClass(p.unrealized_pnl)}`.trim();
  }
}

/** Rebuild the trades table from {trade_id: trade}, in closing order; ``time`` formats the exit time
 *  (exchangeTime, or exchangeDateTime for a session of several days). */
export function renderTrades(table, empty, trades, time = exchangeTime, market = NSE) {
  const rows = Object.values(trades).sort((a, b) => a.exit_time.localeCompare(b.exit_time)
    || a.trade_id.localeCompare(b.trade_id));
  table.tBodies[0].replaceChildren(...rows.map((t) => {
    const tr = document.createElement("tr");
    tr.dataset.tradeId = t.trade_id;
    tr.dataset.netPnl = t.net_pnl;
    cell(tr, time(t.exit_time));
    cell(tr, t.symbol);
    cell(tr, t.side.toUpperCase());
    cell(tr, count(t.quantity, market), {num: true});
    cell(tr, price(t.entry_price, market), {num: true});
    cell(tr, price(t.exit_price, market), {num: true});
    cell(tr, money(t.pnl, market), {num: true, pnl: t.pnl});
    cell(tr, money(t.charges, market), {num: true});
    cell(tr, money(t.net_pnl, market), {num: true, pnl: t.net_pnl});
    const minutes = t.duration_minutes ?? (Date.parse(t.exit_time) - Date.parse(t.entry_time)) / 60000;
    cell(tr, duration(minutes), {num: true});
    // At expiry: "Settled at expiry" (at its intrinsic value) or "Expired worthless", never a bare code.
    cell(tr, exitReason(t.exit_reason), {name: "exit_reason"}).dataset.reason = t.exit_reason || "";
    flowButton(tr, t.trade_id, "trade", `${t.symbol} ${t.side} closed ${time(t.exit_time)}`);
    return tr;
  }));
  empty.hidden = rows.length > 0;
}
