// The session page (/sessions/<id>): the first view comes embedded from the server (the REST session
// endpoint's own answer); then one EventSource on the session's stream keeps it live, every event applied
// in arrival order by the shared stream client. An initial_state replaces the session's state; ticks
// change figures and cells, never whole tables.
import {flowIds, follow} from "/static/livesim/stream-client.js";
import {api, apiError, connectionBanner} from "/static/livesim/fetch.js";
import {chargesPaid} from "/static/livesim/figures.js";
import {count, exchangeDateTime, exchangeTime, marketOf, money, pnlClass} from "/static/livesim/format.js";
import {candleChart, epoch, pnlChart} from "/static/livesim/session-chart.js";
import {render as renderFlow} from "/static/livesim/session-flow.js";
import {nodeLog} from "/static/livesim/session-log.js";
import {reportTab} from "/static/livesim/session-report.js";
import {dailyPanel} from "/static/livesim/daily-pnl.js";
import {closedPositions, exitReason, positionKey, renderPositions, renderTrades, tickPositions} from "/static/livesim/session-tables.js";

const $ = (id) => document.getElementById(id);
const initial = JSON.parse($("session-state").textContent);
const page = JSON.parse($("session-page").textContent);
const sessionId = page.session_id;
const ENDED = new Set(["completed", "stopped", "failed", "interrupted"]);
const ENDED_EARLY = new Set(["stopped", "failed", "interrupted"]);
// What its figures are in: the instrument's currency and places, and its market's clock (the session API's
// currency, price_decimals and time_zone). A session of several trading days says which day each time is
// on ("30 Oct 2024 14:13:09 IST").
const market = marketOf(initial);
const when = initial.start_date === initial.end_date ? (v) => exchangeTime(v, market) : (v) => exchangeDateTime(v, market);

// What the page shows; `session` is the stream client's state of this session once it has one.
const view = {
  status: initial.status,
  reason: initial.status_reason,
  speed: initial.speed_multiplier,
  progress: initial.progress,
  pnl: initial.data.gps_data.pnl,
  summary: initial.data.summary,
  exchangeTime: initial.data.timestamp ? epoch(initial.data.timestamp) : null,
  positions: Object.fromEntries(initial.data.gps_data.positions.map((p) => [positionKey(p), p])),
  trades: Object.fromEntries(initial.data.gps_data.trades.map((t) => [t.trade_id, t])),
  history: {},
  disconnects: 0,
  historyLoaded: 0,
  refreshed: 0,
  events: {initial: 0, node: 0, position: 0, trade: 0, candle: 0, tick: 0},
};

const embeddedReport = $("session-report");
const report = reportTab({report: embeddedReport ? JSON.parse(embeddedReport.textContent) : null, sessionId,
  time: when, market});
const candles = candleChart($("candle-chart"), {timeframes: page.timeframes, anchor: page.timeframe_anchor,
  zone: market.time_zone, places: market.price_decimals, tick: page.price_tick, initial: page.timeframe});
$("timeframe-select").value = page.timeframe;
const pnl = pnlChart($("pnl-chart"), {zone: market.time_zone, market});
const daily = dailyPanel({panel: $("daily-panel"), chartEl: $("daily-chart"), table: $("daily-table"),
  empty: $("daily-empty"), dayOpens: page.day_opens, market});
const log = nodeLog({table: $("log-table"), nodeSelect: $("log-node"), typeSelect: $("log-type"),
  orderSelect: $("log-order"), countLine: $("log-count"), graph: page.graph, time: when, market});

// ---------------------------------------------------------------- figures, tables, markers

function renderHead() {
  const status = $("session-status");
  status.textContent = view.status;
  status.dataset.status = view.status;
  // Why a session ended early (failed, interrupted, stopped): the server's words, as text. A completed
  // one has a reason too ("replayed every tick"), which says nothing the status does not.
  $("session-reason").textContent = view.reason || "";
  $("session-reason").hidden = !(view.reason && ENDED_EARLY.has(view.status));
  $("session-reason").dataset.status = view.status;
  $("session-speed").textContent = view.speed === "max" ? "max" : `${view.speed}x`;
  if (view.progress) {
    $("session-progress").value = view.progress.progress_percentage;
    $("session-progress").textContent = `${view.progress.progress_percentage}%`;
    $("session-progress-text").textContent =
      `${count(view.progress.ticks_processed, market)} / ${count(view.progress.total_ticks, market)} ticks (${view.progress.progress_percentage}%)`;
  }
  $("session-clock").textContent = view.exchangeTime ? when(view.exchangeTime) : "—";
  const figures = {
    net: view.pnl?.total_pnl ?? view.summary?.net_pnl, realized: view.pnl?.realized_pnl ?? view.summary?.net_pnl,
    unrealized: view.pnl?.unrealized_pnl ?? "0", charges: chargesPaid(view.summary, Object.values(view.positions), market.price_decimals),
  };
  for (const [name, value] of Object.entries(figures)) {
    const dd = document.querySelector(`[data-figure="${name}"]`);
    dd.textContent = money(value, market);
    dd.className = `money ${pnlClass(name === "charges" ? 0 : value)}`.trim();
  }
  document.querySelector('[data-figure="trades"]').textContent = count(view.summary?.total_trades ?? 0, market);
  document.querySelector('[data-figure="win_rate"]').textContent = `${view.summary?.win_rate ?? "0.00"}%`;
  renderDaily();
  renderControls();
}

/** P&L per trading day (a session of several days): the summary's days, the current one from the Net P&L
 *  the head shows. A new exchange day asks the server for the summary: the day just closed is final there,
 *  where the last tick the stream sent of it may be before its close. */
function renderDaily() {
  const live = !ENDED.has(view.status);
  if (live && daily.newDay(view.exchangeTime)) refreshSummary();
  daily.update({summary: view.summary, total: view.pnl?.total_pnl ?? view.summary?.net_pnl, at: view.exchangeTime, live});
}

/** Markers: one per position event (an entry per position, an exit per closing trade), from the state. */
function markersOf(positions, trades) {
  const entries = new Map();
  const closed = new Map();
  for (const p of Object.values(positions)) {
    entries.set(positionKey(p), {time: p.entry_time, side: p.side, quantity: p.quantity_total ?? p.quantity,
      price: p.entry_price, symbol: p.symbol});
  }
  for (const t of Object.values(trades)) {
    const key = positionKey(t);
    closed.set(key, (closed.get(key) || 0) + t.quantity);
  }
  for (const t of Object.values(trades)) {
    const key = positionKey(t);
    if (!entries.has(key)) {
      entries.set(key, {time: t.entry_time, side: t.side, quantity: closed.get(key), price: t.entry_price, symbol: t.symbol});
    }
  }
  const out = [];
  // On the underlying's own chart the underlying's name goes without saying: "SELL 24500 CE 25 @ 100.40",
  // and the underlying itself traded (an FX pair, the index as futures) "BUY 10000 @ 1.20055".
  const short = (symbol) => {
    const [, , , strike, right] = symbol.split(":");
    return strike ? `${strike} ${right} ` : symbol === initial.underlying ? "" : `${symbol} `;
  };
  for (const [key, e] of entries) {
    out.push({id: `${key}:entry`, key, epoch: epoch(e.time), time: e.time, action: "entry", side: e.side,
      quantity: e.quantity, price: e.price, symbol: e.symbol,
      text: `${e.side.toUpperCase()} ${e.symbol} ${e.quantity} @ ${e.price}`,
      label: `${e.side.toUpperCase()} ${short(e.symbol)}${e.quantity} @ ${e.price}`});
  }
  for (const t of Object.values(trades)) {
    const side = t.side === "sell" ? "buy" : "sell";
    out.push({id: `${t.trade_id}:exit`, key: positionKey(t), epoch: epoch(t.exit_time), time: t.exit_time, action: "exit",
      side, quantity: t.quantity, price: t.exit_price, symbol: t.symbol,
      text: `${side.toUpperCase()} ${t.symbol} ${t.quantity} @ ${t.exit_price} (${exitReason(t.exit_reason)})`,
      label: `${side.toUpperCase()} ${short(t.symbol)}${t.quantity} @ ${t.exit_price}`});
  }
  return out.sort((a, b) => a.epoch - b.epoch || a.id.localeCompare(b.id));
}

function renderMarkers() {
  const markers = markersOf(view.positions, view.trades);
  candles.setMarkers(markers);
  $("marker-count").textContent = String(markers.length);
  $("marker-list").replaceChildren(...markers.map((m) => {
    const li = document.createElement("li");
    li.dataset.markerId = m.id;
    li.dataset.epoch = String(m.epoch);
    li.textContent = `${when(m.epoch)}: ${m.action === "entry" ? "Entry" : "Exit"} ${m.text}`;
    return li;
  }));
}

/** The stop / target of each open position: its entry execution's position details. */
function levelsOf() {
  return Object.values(view.positions).filter((p) => p.status !== "CLOSED").map((p) => {
    const entryId = (p.entry_flow_ids || [])[p.entry_flow_ids.length - 1];
    const risk = (view.history[entryId] || {}).position || {};
    const [, , , strike, right] = p.symbol.split(":");
    const short = strike ? `${strike} ${right}` : p.symbol;
    return {key: positionKey(p), label: short, short, entry: p.entry_price,
      stop: risk.effective_stop ?? risk.stop_loss ?? null, target: risk.target ?? null,
      price: p.current_price, epoch: view.exchangeTime};
  });
}

let tablesPending = false;
function renderTables() {  // at most once a frame, however fast position and trade events come
  if (tablesPending) return;
  tablesPending = true;
  requestAnimationFrame(() => {
    tablesPending = false;
    renderPositions($("positions-table"), $("positions-empty"), view.positions, view.trades, when, market);
    renderTrades($("trades-table"), $("trades-empty"), view.trades, when, market);
    renderMarkers();
    candles.setLevels(levelsOf());
  });
}

let headPending = false;
function renderHeadSoon() {
  if (headPending) return;
  headPending = true;
  requestAnimationFrame(() => { headPending = false; renderHead(); });
}

// ---------------------------------------------------------------- history from the REST API

const getJSON = (url) => api("GET", url);

/** A sample's or candle's time: ``time`` (epoch seconds) or its ISO ``timestamp``. */
const timeOf = (x) => (typeof x.time === "number" ? x.time : epoch(x.timestamp));

/** Candles (1 minute, up to the session's exchange time) and the P&L samples persisted so far. */
async function loadHistory() {
  const [c, e] = await Promise.allSettled([
    getJSON(`/api/sessions/${sessionId}/candles?timeframe=1m`),
    getJSON(`/api/sessions/${sessionId}/equity`),
  ]);
  if (c.status === "fulfilled") {
    // A candle is complete once the session is past its minute; the last may still be forming.
    const upTo = c.value.up_to ? epoch(c.value.up_to) : 0;
    candles.addCandles(c.value.candles.map((x) => ({...x, epoch: timeOf(x), forming: upTo < timeOf(x) + 59})));
    if (c.value.up_to && (!view.exchangeTime || ENDED.has(view.status))) view.exchangeTime = epoch(c.value.up_to);
  }
  if (e.status === "fulfilled") pnl.setPoints(e.value.samples.map((x) => ({epoch: timeOf(x), value: x.net_pnl})));
  view.historyLoaded += 1;
  renderHeadSoon();  // the clock may have moved to the candles' up_to
}

/** The server's figures once a session holds still (paused or ended). Ticks go out at most 4 a second, so
 *  the last one can be up to 250 ms of wall time behind the tick the session paused or ended at (at max
 *  speed, behind the whole end-of-day square-off): its P&L, clock and LTPs would stay stale. The REST
 *  session answer has the exact ones; taken unless the stream has already brought something newer. */
async function refresh() {
  let rest;
  try {
    rest = await getJSON(`/api/live-trading/session/${sessionId}`);
  } catch {
    return;  // offline: the reconnection's initial_state or the next tick brings them
  }
  const ticks = (p) => (p ? p.ticks_processed : -1);
  if (ticks(rest.progress) < ticks(view.progress)) return;
  view.progress = rest.progress;
  view.pnl = rest.data.gps_data.pnl || view.pnl;
  view.summary = rest.data.summary || view.summary;
  view.reason = rest.status_reason || view.reason;
  if (rest.data.timestamp) view.exchangeTime = epoch(rest.data.timestamp);
  const net = view.pnl?.total_pnl ?? view.summary?.net_pnl;  // the curve ends at the Net P&L the head shows
  if (net != null && view.exchangeTime) pnl.add(view.exchangeTime, net);
  for (const p of rest.data.gps_data.positions) {
    const mine = view.positions[positionKey(p)];
    if (mine) Object.assign(mine, {current_price: p.current_price, unrealized_pnl: p.unrealized_pnl});
  }
  tickPositions($("positions-table"), view.positions, market);
  view.refreshed += 1;
  renderHeadSoon();
}

/** The days closed so far, on a new exchange day: a closed day's figure never changes, so the per-day panel
 *  learns them from the server's summary whenever it answers (the head keeps the stream's). */
async function refreshSummary() {
  let rest;
  try {
    rest = await getJSON(`/api/live-trading/session/${sessionId}`);
  } catch {
    return;  // offline: the next summary (or new day) brings them
  }
  daily.learn(rest.data.summary);
  renderHeadSoon();
}

// ---------------------------------------------------------------- the stream

function adopt(session) {
  view.status = session.status;
  view.progress = session.progress || view.progress;
  view.pnl = session.pnl || view.pnl;
  view.summary = session.summary || view.summary;
  view.positions = session.positions;
  view.trades = session.trades;
  view.history = session.eventsHistory;
}

function onChange(id, session, kind, data) {
  if (id !== sessionId) return;
  switch (kind) {
    case "initial_state":
      view.events.initial += 1;
      adopt(session);
      log.reset(session.eventsHistory);
      renderTables();
      loadHistory();
      break;
    case "node_events":
      view.events.node += 1;
      view.history = session.eventsHistory;
      log.add(data.diagnostics.events_history);
      break;
    case "position_event":
    case "trade_update":
      view.events[kind === "trade_update" ? "trade" : "position"] += 1;
      adopt(session);
      if (data.timestamp) view.exchangeTime = Math.max(view.exchangeTime || 0, epoch(data.timestamp));
      renderTables();
      break;
    case "candle_update":
      if (data.timeframe === "1m" && data.symbol === initial.underlying) {
        view.events.candle += 1;
        candles.addCandle(data);
      }
      return;
    case "tick_update":
      view.events.tick += 1;
      adopt(session);
      view.exchangeTime = epoch(data.timestamp);
      if (data.ltp_updates && data.ltp_updates[initial.underlying] !== undefined) {
        candles.addPrice(view.exchangeTime, data.ltp_updates[initial.underlying]);
      }
      tickPositions($("positions-table"), view.positions, market);
      if (data.pnl_summary) pnl.add(view.exchangeTime, data.pnl_summary.total_pnl);
      if (Object.keys(view.positions).length) candles.setLevels(levelsOf());
      break;
    case "session_status":
      adopt(session);
      if (data.reason) view.reason = data.reason;
      if (data.speed_multiplier !== undefined) {
        // Set here, in another tab or through the API: the picker shows the speed the session runs at.
        view.speed = data.speed_multiplier === 0 ? "max" : data.speed_multiplier;
        showSpeed();
      }
      if (session.status !== "running") {
        refresh();
        // The forming candle grew from the ticks the page got (4 a second at most): its open and close
        // are those ticks', not the minute's. Held still, the chart takes the server's.
        if (!ENDED.has(session.status)) loadHistory();
      }
      break;
    case "session_complete":
      adopt(session);
      log.reset(session.eventsHistory);
      renderTables();
      loadHistory();
      refresh();
      break;
  }
  // Ended, however the page learnt it (a status or session_complete, or an initial_state when the session
  // ended before the stream opened or while it was away, which sends neither): the Report tab, first, once.
  if (ENDED.has(session.status)) report.ended();
  renderHeadSoon();
}

const banner = connectionBanner();  // says "Offline" by itself while the browser is offline
function showConnection(state) {
  if (state === "online") banner.connected();
  else banner.reconnecting();
  document.body.dataset.connection = state;
}

const client = follow(page.stream_url, {
  onChange,
  onOpen: () => showConnection("online"),
  onDisconnect: () => { view.disconnects += 1; showConnection(navigator.onLine ? "reconnecting" : "offline"); },
  reopen: async () => page.stream_url,
  onError: (error, kind) => console.warn("stream event not applied", kind, error),
});
// Offline, the connection is dead or soon will be (and a half-open one can hang unnoticed): drop it, and
// open a new one as soon as the browser is back online; it resumes from the last event the page applied.
window.addEventListener("offline", () => { client.disconnect(); showConnection("offline"); });
window.addEventListener("online", () => { showConnection("reconnecting"); client.reconnect(); });

// ---------------------------------------------------------------- controls

function renderControls() {
  const form = $("session-controls");
  if (!form) return;
  const ended = ENDED.has(view.status);
  form.querySelector('[data-action="pause"]').disabled = ended || view.status === "paused";
  // An interrupted session resumes where it stopped (its server stopped or died): same button, same endpoint.
  form.querySelector('[data-action="resume"]').disabled = view.status !== "paused" && view.status !== "interrupted";
  form.querySelector('[data-action="speed"]').disabled = ended;
  form.querySelector('[data-action="stop"]').disabled = ended;
  $("speed-select").disabled = ended;
}

async function control(action) {
  const message = $("control-message");
  const body = action === "speed" ? {speed_multiplier: $("speed-select").value === "max" ? "max" : Number($("speed-select").value)} : {};
  if (action === "stop" && !window.confirm("Stop this session? Open positions are closed at the last tick.")) return;
  message.textContent = "…";
  try {
    const answer = await api("POST", `/api/v2/live/${action}/${sessionId}`, body);
    view.status = answer.status || view.status;
    if (answer.speed_multiplier !== undefined) view.speed = answer.speed_multiplier;
    message.textContent = answer.message || `${action}: ${answer.status}`;
  } catch (error) {
    message.textContent = apiError(error);
  }
  renderHead();
}

const controls = $("session-controls");
if (controls) {
  controls.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-action]");
    if (button) control(button.dataset.action);
  });
  controls.addEventListener("submit", (event) => event.preventDefault());
  showSpeed();
}

/** Put the session's speed in the speed picker. A speed that is no preset (the API takes any) gets an
 *  option of its own, in order, so the picker never shows a speed the session does not run at ("Set speed"
 *  would then change it). */
function showSpeed() {
  const select = $("speed-select");
  if (!select || view.speed === undefined || view.speed === null) return;
  const value = String(view.speed);
  let option = [...select.options].find((o) => o.value === value);
  if (!option) {
    option = new Option(`${value}x`, value);
    const after = [...select.options].find((o) => o.value === "max" || Number(o.value) > Number(value));
    select.insertBefore(option, after || null);
  }
  option.selected = true;
}

// ---------------------------------------------------------------- timeframe, flow dialog

$("timeframe-select").addEventListener("change", (event) => candles.setTimeframe(event.target.value));

const dialog = $("flow-dialog");
async function openFlow(kind, key) {
  const item = kind === "trade" ? view.trades[key]
    : kind === "closed" ? closedPositions(view.positions, view.trades, market.price_decimals).find((c) => positionKey(c) === key)
      : view.positions[key];
  if (!item) return;
  const ids = flowIds(item);
  $("flow-title").textContent = `Flow: ${item.side.toUpperCase()} ${item.symbol}`;
  $("flow-summary").textContent = kind !== "position"
    ? `Entered ${when(item.entry_time)} @ ${item.entry_price}, exited ${when(item.exit_time)} @ ${item.exit_price} (${exitReason(item.exit_reason)}); ${ids.length} steps.`
    : `Entered ${when(item.entry_time)} @ ${item.entry_price}, ${item.status}; ${ids.length} steps.`;
  dialog.dataset.flowIds = ids.join(" ");
  dialog.dataset.ready = "false";
  if (!dialog.open) dialog.showModal();
  const steps = await client.flow(sessionId, item);  // the stream client's flow resolution (seed 000)
  await renderFlow({steps, graph: page.graph, list: $("flow-steps"), graphBox: $("flow-graph"), time: when, market});
  dialog.dataset.ready = "true";
}

document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-flow]");
  if (button) openFlow(button.dataset.flow, button.dataset.key);
});
$("flow-close").addEventListener("click", () => dialog.close());

// ---------------------------------------------------------------- first view, and what tests read

renderHead();
renderTables();

/** What the page shows, for tests and the benchmark (read-only copies). */
window.sessionPage = {
  client,
  view,
  chart: () => ({...candles.state(), exchangeTime: view.exchangeTime}),
  pnl: () => pnl.state(),
  markers: () => markersOf(view.positions, view.trades),
  logCount: () => log.count(),
  report: () => report.state(),
  daily: () => daily.state(),
};
