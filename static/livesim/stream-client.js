// The stream's reference client (docs/protocol.md, "Following sessions"): one EventSource, the state of
// every session it carries, and every event applied strictly in the order it arrived.
//
// Why strictly in order: initial_state, node_events, trade_update and session_complete carry gzip fields
// that decompress asynchronously. A handler that awaits decompression lets the next event's handler run
// first, so a node_events could be applied before the initial_state it follows had set the session up
// (a TypeError, the event lost) or be overwritten by it. Here every event waits for the one before it
// on one promise chain, so the client sees exactly what the server sent, in that order.
//
// Usage (a browser, or any runtime with EventSource and DecompressionStream):
//   import {follow} from "/static/livesim/stream-client.js";
//   const client = follow(`/api/live-trading/stream/${userId}?token=${token}`, {
//     onChange: (sessionId, session, kind) => render(sessionId, session),
//   });
//   client.sessions  // Map: session_id -> {status, progress, pnl, summary, eventsHistory, currentState,
//                    //                     trades, positions, activeNodes, lastEventNumber,
//                    //                     timestamp (the last tick's exchange time), speedMultiplier
//                    //                     (after a speed_changed; 0 is "max")}
//   client.close();

/** The kinds of event the stream sends (docs/protocol.md, "Events"). */
export const KINDS = ["initial_state", "node_events", "position_event", "trade_update", "candle_update",
  "tick_update", "session_status", "session_complete", "heartbeat"];

const STATUS_AFTER = {started: "running", resumed: "running", paused: "paused"};

/** Decode a compressed field: base64 of gzip of JSON (a plain value, with ?compress=0, is returned as is). */
export async function field(value) {
  if (typeof value !== "string") return value;
  const bytes = Uint8Array.from(atob(value), (c) => c.charCodeAt(0));
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
  return JSON.parse(await new Response(stream).text());
}

/** The number of ``sessionId``'s last event an SSE id says the client has, or null. */
export function eventNumber(lastEventId, sessionId) {
  for (const part of (lastEventId || "").split(",")) {
    const i = part.lastIndexOf(":");
    if (decodeURIComponent(part.slice(0, i)) === `session-${sessionId}`) return Number(part.slice(i + 1));
  }
  return null;
}

const positionKey = (p) => `${p.position_id}#${p.re_entry_num}`;

function emptySession(status = "running") {
  return {status, progress: null, pnl: null, summary: null, eventsHistory: {}, currentState: {}, trades: {},
    positions: {}, activeNodes: [], lastEventNumber: 0};
}

/** Apply one event (its parsed data, decompressed) to ``sessions``; return the session it touched. */
export function apply(sessions, kind, data, number) {
  const id = data.session_id;
  if (kind === "initial_state") {
    const s = emptySession(data.status);
    Object.assign(s, {progress: data.progress, pnl: data.pnl, summary: data.summary,
      eventsHistory: {...data.diagnostics.events_history}, currentState: {...data.diagnostics.current_state},
      trades: Object.fromEntries(data.trades.map((t) => [t.trade_id, t])),
      positions: Object.fromEntries(data.positions.map((p) => [positionKey(p), p])),
      lastEventNumber: data.last_event_id, strategyName: data.strategy_name, underlying: data.underlying});
    sessions.set(id, s);
    return s;
  }
  let s = sessions.get(id);
  if (!s) {  // a session that started while we listened: its first event is number 1
    s = emptySession();
    sessions.set(id, s);
  }
  if (number !== null) s.lastEventNumber = number;
  switch (kind) {
    case "node_events":
      Object.assign(s.eventsHistory, data.diagnostics.events_history);
      Object.assign(s.currentState, data.diagnostics.current_state);
      break;
    case "position_event": {
      const p = data.position;
      if (p.status === "CLOSED") delete s.positions[positionKey(p)];  // closed positions live on as trades
      else s.positions[positionKey(p)] = p;
      break;
    }
    case "trade_update":
      s.trades[data.trades.trade.trade_id] = data.trades.trade;
      s.summary = data.trades.summary;
      break;
    case "tick_update":
      applyTick(s, data);
      break;
    case "session_status":
      s.status = STATUS_AFTER[data.status] || (data.status === "speed_changed" ? s.status : data.status);
      if (data.status === "speed_changed") s.speedMultiplier = data.speed_multiplier;
      break;
    case "session_complete":
      Object.assign(s, {status: data.status, summary: data.summary, progress: data.progress || s.progress,
        eventsHistory: {...data.diagnostics.events_history}, currentState: {...data.diagnostics.current_state},
        trades: Object.fromEntries(data.trades.map((t) => [t.trade_id, t])),
        positions: Object.fromEntries(data.positions.map((p) => [positionKey(p), p]))});
      break;
  }
  return s;
}

function applyTick(s, data) {
  // open_positions: {position_id: [current_price, unrealized_pnl]} (compact) or a list of objects.
  const live = Array.isArray(data.open_positions)
    ? Object.fromEntries(data.open_positions.map((p) => [p.position_id, [p.current_price, p.unrealized_pnl]]))
    : data.open_positions || {};
  for (const p of Object.values(s.positions)) {
    const now = live[p.position_id];
    if (now) [p.current_price, p.unrealized_pnl] = now;
  }
  Object.assign(s, {progress: data.progress, pnl: data.pnl_summary, activeNodes: data.active_nodes,
    timestamp: data.timestamp});
}

const COMPRESSED = {initial_state: ["diagnostics", "trades", "positions"],
  session_complete: ["diagnostics", "trades", "positions"], node_events: ["diagnostics"], trade_update: ["trades"]};

/**
 * Follow a stream URL (a user's or a session's). The browser reconnects by itself and sends the last
 * id it saw; the server then sends exactly what this client lacks.
 * options:
 *   onChange(sessionId, session, kind, data) after each applied event (data: the event's payload,
 *     decompressed; a page needs it for what the client does not keep, such as candles);
 *   onError(error, kind, event) if one cannot be applied (the chain goes on);
 *   onOpen() each time a connection opens;
 *   onDisconnect(readyState) each time the connection breaks (0: the browser is reconnecting by
 *     itself; 2: it gave up, and reopen, if given, takes over);
 *   reopen: async () => url, for URLs that stop working (a ?token= that expired): when the browser
 *     gives up (readyState CLOSED, e.g. a 401), it is asked for a new URL, which is opened with
 *     ?lastEventId= set to the last id seen, after 1 s, then 2, 4 ... up to 30 s while it fails;
 *   eventSource: a constructor (default: EventSource).
 */
export function follow(url, {onChange = () => {}, onError = console.error, onOpen = () => {}, reopen = null,
  onDisconnect = () => {}, eventSource = EventSource} = {}) {
  const sessions = new Map();
  let chain = Promise.resolve();
  let lastId = "";
  let closed = false;
  let delay = 1000;
  const client = {sessions, source: null, reopened: 0, settled: () => chain,
    close() { closed = true; client.source.close(); },
    /** Drop the connection (the browser went offline); ``reconnect()`` resumes from the last id seen. */
    disconnect() { client.source.close(); },
    /** Open a new connection at once, resuming from the last id seen (e.g. when the browser is back online). */
    async reconnect() {
      if (closed) return;
      client.source.close();
      const next = new URL(reopen ? await reopen() : url, globalThis.location?.href);
      if (lastId) next.searchParams.set("lastEventId", lastId);
      client.reopened += 1;
      open(next.href);
    }};

  function open(target) {
    const source = new eventSource(target);
    client.source = source;
    source.addEventListener("open", () => { delay = 1000; onOpen(); });
    source.addEventListener("error", () => {
      if (!closed) onDisconnect(source.readyState);
      if (!closed && reopen && source.readyState === 2) setTimeout(openAgain, delay);
    });
    for (const kind of KINDS) {
      source.addEventListener(kind, (event) => {
        if (event.lastEventId) lastId = event.lastEventId;
        chain = chain.then(async () => {
          if (kind === "heartbeat") return;
          const data = JSON.parse(event.data);
          for (const name of COMPRESSED[kind] || []) data[name] = await field(data[name]);
          const stored = kind !== "tick_update" && kind !== "initial_state";
          const s = apply(sessions, kind, data, stored ? eventNumber(event.lastEventId, data.session_id) : null);
          onChange(data.session_id, s, kind, data);
        }).catch((error) => onError(error, kind, event));
      });
    }
  }

  async function openAgain() {
    if (closed) return;
    delay = Math.min(delay * 2, 30000);
    try {
      const next = new URL(await reopen(), globalThis.location?.href);
      if (lastId) next.searchParams.set("lastEventId", lastId);
      client.reopened += 1;
      open(next.href);
    } catch (error) {
      onError(error, "reopen");
      setTimeout(openAgain, delay);
    }
  }

  open(url);
  return client;
}
