// The stream's reference client (docs/protocol.md, "Following sessions"): one EventSource, the state of
// every session it carries, and every event applied strictly in the order it arrived. No dependencies;
// the pages use it, and so may any frontend (it is served at /static/livesim/stream-client.js).
//
// Why strictly in order: initial_state, node_events, trade_update and session_complete carry gzip fields
// that decompress asynchronously. A handler that awaits decompression lets the next event's handler run
// first, so a node_events could be applied before the initial_state it follows had set the session up
// (a TypeError, the event lost) or be overwritten by it. Here every event waits for the one before it
// on one promise chain, so the client sees exactly what the server sent, in that order.
//
// Usage (a browser, or any runtime with EventSource, fetch and DecompressionStream):
//   import {connect} from "/static/livesim/stream-client.js";
//   const client = await connect({apiToken, onChange: (sessionId, session, kind, data) => render(sessionId, session)});
//   client.sessions  // Map: session_id -> SessionState (below)
//   await client.flow(sessionId, trade)  // [{id, execution}]: the trade's node executions, controller first
//   client.close();
// connect() finds the stream, authenticates (an API token, or the page's session cookie) and renews a
// stream token when a reconnection needs one; follow(url, options) is the same client on a URL you built.
//
// Types: static/livesim/livesim.d.ts (generated from the server's definitions, docs/protocol.md).
/**
 * @typedef {import("./livesim").StreamEventKind} StreamEventKind
 * @typedef {import("./livesim").StreamEventsPlain} StreamEventsPlain
 * @typedef {import("./livesim").NodeExecution} NodeExecution
 * @typedef {import("./livesim").TradeData} TradeData
 * @typedef {import("./livesim").PositionData} PositionData
 * @typedef {{status: string, progress: import("./livesim").Progress | null,
 *   pnl: import("./livesim").PnlSummaryTick | null, summary: import("./livesim").SummaryData | null,
 *   eventsHistory: Record<string, NodeExecution>, currentState: Record<string, NodeExecution>,
 *   trades: Record<string, TradeData>, positions: Record<string, PositionData>, activeNodes: string[],
 *   lastEventNumber: number, timestamp?: string, speedMultiplier?: number, strategyName?: string,
 *   underlying?: string}} SessionState
 *   One session as the client keeps it: trades by trade_id, open positions by `${position_id}#${re_entry_num}`,
 *   node executions by execution_id, lastEventNumber the number of the last stored event applied.
 * @typedef {{id: string, execution: NodeExecution | null}} FlowStep
 */

/**
 * The kinds of event the stream sends (docs/protocol.md, "Events").
 * @type {StreamEventKind[]}
 */
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

/**
 * The execution ids of a trade's (or an open position's) flow, controller first (seed 000): its
 * exit_flow_ids, which begin with the entry's, or its entry_flow_ids while it has no exit.
 * @param {{entry_flow_ids?: string[], exit_flow_ids?: string[] | null}} item
 * @returns {string[]}
 */
export function flowIds(item) {
  return (item.exit_flow_ids && item.exit_flow_ids.length) ? item.exit_flow_ids : (item.entry_flow_ids || []);
}

/**
 * The chain of executions that led to ``executionId``, root (the strategy controller) first, by the
 * parent_execution_id links of ``history``; it stops at the first one ``history`` lacks.
 * @param {Record<string, NodeExecution>} history
 * @param {string} executionId
 * @returns {string[]}
 */
export function ancestry(history, executionId) {
  const chain = [];
  for (let id = executionId; id && history[id] && !chain.includes(id); id = history[id].parent_execution_id) {
    chain.unshift(id);
  }
  return chain;
}

/**
 * Resolve flow ``ids`` against ``history`` (execution id -> execution), in order (seed 000's flow
 * resolution). When some are missing (the client joined after them), ``fetchDiagnostics()``, if given,
 * is called once (it resolves to the diagnostics endpoint's events_history) and what it brings is added
 * to ``history``; ids still missing come back with ``execution: null`` (shown as missing, never dropped).
 * @param {string[]} ids
 * @param {Record<string, NodeExecution>} history
 * @param {(() => Promise<Record<string, NodeExecution>>) | null} [fetchDiagnostics]
 * @returns {Promise<FlowStep[]>}
 */
export async function resolveFlow(ids, history, fetchDiagnostics = null) {
  if (fetchDiagnostics && ids.some((id) => !history[id])) {
    try {
      const more = await fetchDiagnostics();
      for (const [id, ex] of Object.entries(more || {})) if (!history[id]) history[id] = ex;
    } catch { /* shown as missing below */ }
  }
  return ids.map((id) => ({id, execution: history[id] || null}));
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
      trades: Object.fromEntries(data.trades.trades.map((t) => [t.trade_id, t])),
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
        trades: Object.fromEntries(data.trades.trades.map((t) => [t.trade_id, t])),
        positions: Object.fromEntries(data.positions.map((p) => [positionKey(p), p]))});
      break;
  }
  return s;
}

function applyTick(s, data) {
  // open_positions: the seeds' list of objects (the default), or with ?ticks=compact
  // {position_id: [current_price, unrealized_pnl]}, where at most one re-entry of an id is open.
  const listed = Array.isArray(data.open_positions);
  const live = listed
    ? Object.fromEntries(data.open_positions.map((p) => [positionKey(p), [p.current_price, p.unrealized_pnl]]))
    : data.open_positions || {};
  for (const p of Object.values(s.positions)) {
    const now = live[listed ? positionKey(p) : p.position_id];
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
 *   eventSource: a constructor (default: EventSource); withCredentials: send cookies to another origin;
 *   fetchDiagnostics: async (sessionId) => events_history, for flow() (default: GET
 *     /api/session/{id}/diagnostics on the stream's origin, with the page's cookies).
 * Returns the client: sessions (Map of SessionState), flow(sessionId, item), settled(), close(),
 * disconnect(), reconnect(), reopened (how many times a new URL was opened), source (the EventSource).
 * @param {string} url
 * @param {{onChange?: (sessionId: string, session: SessionState, kind: StreamEventKind, data: any) => void,
 *   onError?: (error: any, kind: string, event?: any) => void, onOpen?: () => void,
 *   onDisconnect?: (readyState: number) => void, reopen?: (() => Promise<string>) | null,
 *   eventSource?: typeof EventSource, withCredentials?: boolean, fetchDiagnostics?: (sessionId: string) => Promise<Record<string, NodeExecution>>}} [options]
 */
export function follow(url, {onChange = () => {}, onError = console.error, onOpen = () => {}, reopen = null,
  onDisconnect = () => {}, eventSource = EventSource, fetchDiagnostics = null, withCredentials = false} = {}) {
  const sessions = new Map();
  let chain = Promise.resolve();
  let lastId = "";
  let closed = false;
  let delay = 1000;
  const diagnostics = fetchDiagnostics || (async (sessionId) => {
    const response = await fetch(new URL(`/api/session/${encodeURIComponent(sessionId)}/diagnostics`,
      new URL(url, globalThis.location?.href)), {credentials: "include", headers: {Accept: "application/json"}});
    if (!response.ok) throw new Error(`diagnostics: the server answered ${response.status}`);
    return (await response.json()).events_history;
  });
  const client = {sessions, source: null, reopened: 0, settled: () => chain,
    /**
     * The node executions of a trade's or position's flow, controller first, resolved from the session's
     * events history (missing ones fetched once from the diagnostics endpoint; any still missing: null).
     * @param {string} sessionId
     * @param {{entry_flow_ids?: string[], exit_flow_ids?: string[] | null}} item
     * @returns {Promise<FlowStep[]>}
     */
    flow(sessionId, item) {
      const s = sessions.get(sessionId);
      return resolveFlow(flowIds(item), s ? s.eventsHistory : {}, () => diagnostics(sessionId));
    },
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
    const source = new eventSource(target, {withCredentials});
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

/**
 * Connect to a stream with the credentials a frontend has, and stay connected (resolves to follow()'s
 * client once the first connection is under way):
 * - ``apiToken`` (from POST /api/auth/token): every connection gets a fresh stream token
 *   (POST /api/live-trading/stream-token) for its ?token=, so a reconnection after the token expired
 *   works, resuming from the last id seen; ``userId`` defaults to the token's user;
 * - without it, the page's session cookie (a logged-in page of this site, or another origin listed in
 *   STREAM_ALLOW_ORIGINS); a reconnection the browser gave up on is retried while GET /api/me answers,
 *   and after a logout onError(error, "reopen") gets an error with status 401.
 * ``base``: the server's origin ("" for this page's); ``sessionId``: follow that session only (its
 * /api/v2/live/stream/{id}), else every session of the user; ``query``: stream options such as
 * {compress: 0, ticks: "compact"}; the other options are follow()'s.
 * @param {{apiToken?: string | null, base?: string, userId?: string | null, sessionId?: string | null,
 *   query?: Record<string, string | number>} & Parameters<typeof follow>[1]} [options]
 */
export async function connect({apiToken = null, base = "", userId = null, sessionId = null, query = {},
  ...options} = {}) {
  async function call(method, path) {
    const headers = {Accept: "application/json"};
    if (apiToken) headers.Authorization = `Bearer ${apiToken}`;
    const response = await fetch(`${base}${path}`, {method, headers, credentials: apiToken ? "omit" : "include"});
    const body = await response.json().catch(() => ({}));
    if (!response.ok) {
      throw Object.assign(new Error(body.detail || `${path}: the server answered ${response.status}`),
        {status: response.status, body});
    }
    return body;
  }
  let user = userId;
  let opened = false;
  async function streamUrl() {
    const params = new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)]));
    if (apiToken) {
      const issued = await call("POST", "/api/live-trading/stream-token");
      params.set("token", issued.token);
      user = user || issued.user_id;
    } else if (opened || !(user || sessionId)) {
      // Reopening after the browser gave up: a 401 here says the login has ended, and retrying cannot help.
      const me = await call("GET", "/api/me");
      user = user || me.user_id;
    }
    opened = true;
    const path = sessionId ? `/api/v2/live/stream/${encodeURIComponent(sessionId)}`
      : `/api/live-trading/stream/${encodeURIComponent(user)}`;
    const search = params.toString();
    return new URL(`${base}${path}${search ? `?${search}` : ""}`, globalThis.location?.href).href;
  }
  const fetchDiagnostics = async (id) =>
    (await call("GET", `/api/session/${encodeURIComponent(id)}/diagnostics`)).events_history;
  return follow(await streamUrl(), {fetchDiagnostics, reopen: streamUrl, withCredentials: !apiToken && base !== "",
    ...options});
}
