// The dashboard (/): a card per session of the logged-in user, kept live by the user stream.
//
// The server renders the first view from snapshots.dashboard (the same function as
// GET /api/live-trading/dashboard/{user_id}) and embeds that JSON; this module formats it (format.js),
// then follows the user's stream with the reference client (stream-client.js, cookie auth) and updates
// each card's text nodes in place. A session it has no card for (started in another tab or through the
// API) gets one, built from GET /api/live-trading/session/{id}. After the connection comes back, the
// page reads the dashboard again, because ticks are not replayed: a session that was paused or ended
// while we were away shows the figures the server has, not the last tick we saw.
import {connect} from "./stream-client.js";
import {count, exchangeDate, exchangeTime, marketOf, money, pnlClass, price} from "./format.js";
import {api, apiError, connectionBanner} from "./fetch.js";
import {chargesPaid} from "./figures.js";

const boot = JSON.parse(document.getElementById("dashboard-data").textContent);
const userId = boot.user_id;
const list = document.getElementById("session-cards");
const template = document.getElementById("session-card-template");
const emptyState = document.getElementById("empty-state");
const stopAll = document.getElementById("stop-all");
const message = document.getElementById("dash-message");
const ACTIVE = new Set(["created", "running", "paused"]);
const STATUS_TEXT = {created: "Starting", running: "Running", paused: "Paused", completed: "Completed",
  stopped: "Stopped", failed: "Failed", interrupted: "Interrupted"};
const MODE_TEXT = {live_simulation: "live simulation", backtest: "backtest"};

const cards = new Map();  // session_id -> {el, fields, model, meta}
const pending = new Map();  // session_id -> the fetch of its card, while one is under way

// -- the view model: what a card shows, from a REST card or from the stream client's state ----------------

function fromRest(card) {
  const data = card.data || {};
  const gps = data.gps_data || {};
  return {status: card.status, progress: card.progress, speed: card.speed_multiplier, timestamp: data.timestamp,
    pnl: gps.pnl, summary: data.summary, positions: gps.positions || []};
}

function fromStream(s, previous) {
  return {status: s.status, progress: s.progress || previous.progress,
    speed: s.speedMultiplier ?? previous.speed, timestamp: s.timestamp || previous.timestamp,
    pnl: s.pnl || previous.pnl, summary: s.summary || previous.summary, positions: Object.values(s.positions)};
}

const ticks = (model) => model.progress?.ticks_processed ?? -1;
const positionKey = (p) => `${p.position_id}#${p.re_entry_num}`;

function speedText(speed) {
  return speed === "max" || Number(speed) === 0 ? "max" : `${Number(speed)}×`;
}

function speedKey(speed) {
  return speed === "max" || Number(speed) === 0 ? "max" : String(Number(speed));
}

/** "24500 CE 31 Oct" from "NIFTY:2024-10-31:OPT:24500:CE" (the underlying is in the card's header line);
 *  any other symbol as it is. The full symbol is the cell's title. */
function symbolText(symbol) {
  const [, expiry, kind, strike, right] = String(symbol).split(":");
  if (kind !== "OPT") return String(symbol);
  return `${strike} ${right} ${exchangeDate(expiry).slice(0, 6)}`;
}

// -- the DOM: a card's fields, updated in place ---------------------------------------------------------

function setText(el, text) {
  if (el.firstChild && el.firstChild.nodeType === Node.TEXT_NODE && !el.firstChild.nextSibling) {
    if (el.firstChild.nodeValue !== text) el.firstChild.nodeValue = text;
  } else if (el.textContent !== text) {
    el.textContent = text;
  }
}

/** Money of ``market`` (the card's session's currency, format.js ``money``), coloured by its sign. */
function setMoney(el, value, market, {colour = true, sign = false} = {}) {
  setText(el, money(value, market, {sign}));
  if (colour) {
    const cls = pnlClass(value);
    el.classList.toggle("profit", cls === "profit");
    el.classList.toggle("loss", cls === "loss");
  }
}

function fieldsOf(el) {
  const fields = {};
  for (const node of el.querySelectorAll("[data-field]")) fields[node.dataset.field] = node;
  return fields;
}

function adopt(el, meta) {
  const id = el.dataset.sessionId || meta.session_id;  // a card cloned from the template has no id yet
  const entry = {el, fields: fieldsOf(el), meta, model: null};
  el.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-action]");
    if (button) control(id, button);
  });
  cards.set(id, entry);
  return entry;
}

function describe(entry, card) {
  // What does not change while a session runs: name, link, underlying, dates, broker, mode.
  const {fields} = entry;
  const id = card.session_id;
  entry.el.dataset.sessionId = id;
  fields["title-id"].id = `title-${id}`;
  fields.article.setAttribute("aria-labelledby", `title-${id}`);
  fields.controls.setAttribute("aria-labelledby", `title-${id}`);
  fields.link.href = `/sessions/${encodeURIComponent(id)}`;
  setText(fields.link, card.strategy_name || id);
  setText(fields.underlying, card.underlying || "");
  const dates = card.start_date === card.end_date ? exchangeDate(card.start_date)
    : `${exchangeDate(card.start_date)} to ${exchangeDate(card.end_date)}`;
  setText(fields.dates, dates);
  setText(fields.broker, card.broker_info ? `${card.broker_info.broker_type} · ${card.broker_info.account_id}`
    : "no broker connection");
  setText(fields.mode, MODE_TEXT[card.mode] || card.mode || "");
  fields["progress-line"].id = `progress-${id}`;
  fields["progress-bar"].setAttribute("aria-describedby", `progress-${id}`);
  fields["progress-bar"].removeAttribute("aria-labelledby");
  fields["progress-bar"].setAttribute("aria-label", `Progress of ${card.strategy_name || id}`);
  entry.multiDay = card.start_date !== card.end_date;
  // What its figures are in: the instrument's currency and places, the market's clock (the session card's).
  entry.market = marketOf(card);
}

function render(entry, model) {
  const {fields, el, market} = entry;
  const previous = entry.model;
  entry.model = model;
  const status = model.status;
  if (!previous || previous.status !== status) {
    el.dataset.status = status;
    setText(fields.status, STATUS_TEXT[status] || status);
    fields.status.className = `badge sc-status status-${status}`;
    const active = ACTIVE.has(status);
    const resumable = status === "interrupted";  // its server stopped or died: Resume goes on where it stopped
    fields.controls.hidden = !active && !resumable;
    el.querySelector('[data-action="pause"]').hidden = status !== "running";
    el.querySelector('[data-action="resume"]').hidden = status !== "paused" && !resumable;
    el.querySelector(".sc-speeds").hidden = !active;
    el.querySelector('[data-action="stop"]').hidden = !active;
    updateSummary();
  }
  const pct = Number(model.progress?.progress_percentage ?? 0);
  if (fields["progress-bar"].value !== pct) fields["progress-bar"].value = pct;
  const p = model.progress || {};
  setText(fields.progress,
    `${pct.toFixed(2)}% · ${count(p.ticks_processed ?? 0, market)} of ${count(p.total_ticks ?? 0, market)} ticks`);
  setText(fields.time, model.timestamp
    ? (entry.multiDay ? `${exchangeDate(model.timestamp, market)} ${exchangeTime(model.timestamp, market)}`
      : exchangeTime(model.timestamp, market))
    : ticks(model) > 0 ? "exchange time not recorded" : "not started");  // a process that died leaves none
  setText(fields.speed, speedText(model.speed));
  if (!previous || speedKey(previous.speed) !== speedKey(model.speed)) {
    for (const b of el.querySelectorAll('[data-action="speed"]')) {
      b.setAttribute("aria-pressed", String(b.dataset.speed === speedKey(model.speed)));
    }
  }
  const pnl = model.pnl || {};
  setMoney(fields.net, pnl.total_pnl ?? "0", market, {sign: true});
  setMoney(fields.realized, pnl.realized_pnl ?? "0", market);
  setMoney(fields.unrealized, pnl.unrealized_pnl ?? "0", market);
  const summary = model.summary || {};
  setMoney(fields.charges, chargesPaid(summary, model.positions, market.price_decimals), market, {colour: false});
  setText(fields.trades, count(summary.total_trades ?? 0, market));
  setText(fields["win-rate"], `${summary.win_rate ?? "0.00"}%`);
  renderPositions(entry, model.positions);
}

function renderPositions(entry, positions) {
  const body = entry.fields.positions;
  const rows = new Map([...body.rows].map((row) => [row.dataset.position, row]));
  const seen = new Set();
  for (const pos of positions) {
    const key = positionKey(pos);
    seen.add(key);
    let row = rows.get(key);
    if (!row) {
      row = body.insertRow();
      row.dataset.position = key;
      for (let i = 0; i < 4; i += 1) row.insertCell();
      for (const i of [1, 2, 3]) row.cells[i].className = "num money";
    }
    const [symbol, qty, ltp, unrealized] = row.cells;
    setText(symbol, symbolText(pos.symbol));
    symbol.title = `${pos.side === "sell" ? "Sold" : "Bought"} ${pos.symbol}`;
    const held = count(pos.quantity_remaining ?? pos.quantity, entry.market);  // units; a short position is negative
    setText(qty, pos.side === "sell" ? `−${held}` : held);
    setText(ltp, price(pos.current_price, entry.market));
    setMoney(unrealized, pos.unrealized_pnl, entry.market, {sign: true});
  }
  for (const [key, row] of rows) if (!seen.has(key)) row.remove();
  entry.fields["positions-wrap"].hidden = positions.length === 0;
  entry.fields["no-positions"].hidden = positions.length !== 0;
}

function updateSummary() {
  const active = [...cards.values()].filter((c) => ACTIVE.has(c.model?.status ?? c.el.dataset.status)).length;
  const summary = document.getElementById("dash-summary");
  setText(summary.querySelector('[data-field="active"]'), count(active));
  stopAll.disabled = active === 0;
  emptyState.hidden = cards.size > 0;
}

/** A card for a session the page has not shown yet, built from its REST state; newest first. */
function addCard(card) {
  const el = template.content.firstElementChild.cloneNode(true);
  const entry = adopt(el, card);
  describe(entry, card);
  render(entry, fromRest(card));
  list.prepend(el);
  updateSummary();
  return entry;
}

async function cardFor(sessionId) {
  if (cards.has(sessionId)) return cards.get(sessionId);
  if (!pending.has(sessionId)) {
    pending.set(sessionId, api("GET", `/api/live-trading/session/${encodeURIComponent(sessionId)}`)
      .then((card) => cards.get(sessionId) || addCard(card))
      .finally(() => pending.delete(sessionId)));
  }
  return pending.get(sessionId);
}

// -- the stream ----------------------------------------------------------------------------------------

async function onChange(sessionId, kind) {
  const entry = cards.get(sessionId) || await cardFor(sessionId);
  // The stream's state of this session now (it may have moved on while the card was fetched).
  render(entry, fromStream(client.sessions.get(sessionId), entry.model));
  // Ticks go out at most 4 a second, so the last one can be up to 250 ms behind the tick a session
  // paused or ended at; its card (same shape as the dashboard's) has the exact figures.
  const s = client.sessions.get(sessionId);
  if (kind === "session_complete" || (kind === "session_status" && s.status !== "running")) {
    refresh(sessionId);
  }
}

/** Put the server's ``card`` on the page unless the stream has already brought something newer. */
function take(card) {
  const entry = cards.get(card.session_id) || addCard(card);
  const rest = fromRest(card);
  if (ticks(rest) < ticks(entry.model)) return;
  const s = client.sessions.get(card.session_id);
  if (s && card.last_event_id !== null && s.lastEventNumber > card.last_event_id) {
    // The stream has stored events the card does not include (a resume, a speed change): theirs stand.
    Object.assign(rest, {status: s.status, speed: s.speedMultiplier ?? entry.model.speed});
  }
  if (s) {
    Object.assign(s, {status: rest.status, progress: rest.progress, pnl: rest.pnl, summary: rest.summary,
      timestamp: rest.timestamp, speedMultiplier: rest.speed,
      positions: Object.fromEntries(rest.positions.map((p) => [positionKey(p), p]))});
  }
  render(entry, rest);
}

async function refresh(sessionId) {
  if (!navigator.onLine) return;  // the resync when the browser is back online brings it
  try {
    take(await api("GET", `/api/live-trading/session/${encodeURIComponent(sessionId)}`));
  } catch (error) {
    // offline: the resync after the reconnection brings it
  }
}

/** After a reconnection: the server's dashboard, for what the stream does not replay (ticks). */
async function resync() {
  if (!navigator.onLine) return;
  let state;
  try {
    state = await api("GET", `/api/live-trading/dashboard/${encodeURIComponent(userId)}`);
  } catch (error) {
    return;  // offline again; the next reconnection tries again
  }
  for (const card of Object.values(state.sessions).reverse()) take(card);
  setText(document.querySelector('#dash-summary [data-field="total"]'), count(state.total_sessions));
}

let opened = 0;
const banner = connectionBanner();
// The stream client with the login cookie: a stream the browser gave up on (a 5xx while the server
// restarts, a 401 once the login has ended) is opened again from the last id seen while GET /api/me
// answers; after a logout it answers 401, and retrying cannot help.
const client = await connect({
  userId,
  onChange: (id, session, kind) => onChange(id, kind).catch((error) => console.warn("card update", id, error)),
  onOpen: () => {
    opened += 1;
    banner.connected();
    if (opened > 1) resync();
  },
  onDisconnect: () => banner.reconnecting(),
  onError: (error, kind, event) => {
    if (kind === "reopen" && error.status === 401) {
      client.close();
      banner.loggedOut();
    } else if (kind !== "reopen") {
      console.error("stream event", kind, error, event);
    }
  },
});
banner.onOnline(() => resync());

// -- controls ------------------------------------------------------------------------------------------

async function control(sessionId, button) {
  const entry = cards.get(sessionId);
  const action = button.dataset.action;
  const path = action === "speed" ? `/api/v2/live/speed/${sessionId}` : `/api/v2/live/${action}/${sessionId}`;
  const body = action === "speed"
    ? {speed_multiplier: button.dataset.speed === "max" ? "max" : Number(button.dataset.speed)} : {};
  const buttons = entry.el.querySelectorAll(".sc-controls button");
  for (const b of buttons) b.disabled = true;
  setText(entry.fields.message, "");
  try {
    const row = await api("POST", path, body);
    const s = client.sessions.get(sessionId);
    const model = {...entry.model, status: row.status, speed: row.speed_multiplier ?? entry.model.speed};
    if (s) Object.assign(s, {status: row.status, speedMultiplier: model.speed});
    render(entry, model);
    const said = {pause: "Paused.", resume: "Resumed.", speed: `Speed ${speedText(model.speed)}.`, stop: "Stopped."};
    setText(entry.fields.message, said[action]);
  } catch (error) {
    setText(entry.fields.message, apiError(error));
  } finally {
    for (const b of buttons) b.disabled = false;
  }
}

const dialog = document.getElementById("stop-all-dialog");
stopAll.addEventListener("click", () => dialog.showModal());
dialog.addEventListener("close", async () => {
  if (dialog.returnValue !== "confirm") return;
  stopAll.disabled = true;
  try {
    const answer = await api("POST", `/api/v2/live/stop/user/${encodeURIComponent(userId)}`, {});
    setText(message, `Stopped ${count(answer.sessions_stopped)} session(s).`);
  } catch (error) {
    setText(message, apiError(error));
  } finally {
    updateSummary();
  }
});

// -- the first view: the server's cards, formatted --------------------------------------------------------

for (const el of list.querySelectorAll(".session-card")) {
  const card = boot.sessions[el.dataset.sessionId];
  const entry = adopt(el, card);
  describe(entry, card);
  render(entry, fromRest(card));
}
updateSummary();

// For tests and the benchmark: the stream client (its sessions Map) and how many cards are live.
window.livesimDashboard = {client, cards};
