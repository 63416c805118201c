// Seed 000 ("SSE Events and Trades - Final Architecture", ../shared/spec/000_e39d06d1e005e6b6.txt):
// its client code ("UI Implementation", "Flow Diagram Resolution", "Handling Missing Events",
// "Error Handling") transcribed from TypeScript to JavaScript for tests/conformance/test_seed_clients.py.
//
// Transcription only (no protocol change): types dropped; React's useState becomes a module variable
// (setX(prev => f(prev)) assigns f(x)), so a handler reads the cache as it is now, which is what the
// seed's text means ("Look up flow IDs from cached events"); the handlers are registered by connect(),
// which makes the EventSource the seed assumes; the functions the seed calls but leaves to the UI
// (renderFlowDiagram, updatePnLSummary, reconnectSSE) are the test page's (ui.js).
//
// Changes the spec README requires (listed again in test_seed_clients.py):
// - README rules 1, 2 and 3: the seed leaves decompressAndParse undefined and shows the node_events
//   data as the bare map {exec_id: event}. On the wire every event is an envelope with session_id
//   (rule 1), node executions are the new events_history entries inside that envelope's diagnostics
//   (rule 2, seed 004's envelope) and trade_update's {trade, summary} is its trades field, both gzip +
//   base64 (rule 3). decompressAndParse below reads those fields with seed 004's decompressGzip, so
//   the handlers get exactly what the seed's handlers expect.
// - README rule 8: the seed names no stream URL; this client opens the user's stream of seed 004.
import {renderFlowDiagram, updatePnLSummary, reconnectSSE} from "./ui.js";
import {decompressGzip} from "./seed004.js";

// Store events in memory as they arrive
export let eventsHistory = {};
export let trades = [];
export const warnings = [];  // what console.warn said, for the test (console.warn is also called)
let eventSource = null;
let sessionId = null;

const setEventsHistory = (next) => { eventsHistory = typeof next === "function" ? next(eventsHistory) : next; };
const setTrades = (next) => { trades = typeof next === "function" ? next(trades) : next; };
const warn = (message) => { warnings.push(message); console.warn(message); };

function decompressAndParse(raw) {
  const envelope = JSON.parse(raw);
  if (envelope.diagnostics !== undefined) return decompressGzip(envelope.diagnostics).events_history;
  return decompressGzip(envelope.trades);
}

export function getState() {
  return {eventsHistory, trades, warnings, open: eventSource && eventSource.readyState};
}

export function connect(url, forSession) {
  sessionId = forSession;
  eventSource = new EventSource(url);

  // SSE Event Handlers
  eventSource.addEventListener('node_events', (event) => {
    const data = decompressAndParse(event.data);

    // Merge new events into cache
    setEventsHistory(prev => ({
      ...prev,
      ...data  // data is {exec_id: event_data, ...}
    }));
  });

  eventSource.addEventListener('trade_update', (event) => {
    const { trade, summary } = decompressAndParse(event.data);

    // Resolve flow IDs from cached events
    const entryFlow = trade.entry_flow_ids.map(id => eventsHistory[id]);
    const exitFlow = trade.exit_flow_ids.map(id => eventsHistory[id]);

    // Update UI
    setTrades(prev => [...prev, trade]);
    updatePnLSummary(summary);
    renderFlowDiagram(entryFlow, exitFlow);

    handleMissingEvents(trade);
  });

  // SSE Reconnection
  eventSource.addEventListener('error', async () => {
    // Reconnect to SSE
    reconnectSSE();

    // Fetch diagnostics file to rebuild cache
    const diagnostics = await fetch(`/api/session/${sessionId}/diagnostics`);
    setEventsHistory(diagnostics.events_history);
  });
  return eventSource;
}

// Flow Diagram Resolution
export function getFlowNodes(flowIds, eventsHistory) {
  return flowIds
    .map(id => eventsHistory[id])
    .filter(event => event !== undefined)  // Handle missing events gracefully
    .map(event => ({
      id: event.execution_id,
      name: event.node_name,
      type: event.node_type,
      timestamp: event.timestamp,
      details: event.evaluated_conditions || event.order_details
    }));
}

// Handling Missing Events, then Error Handling's "Missing Events in Cache"
export function handleMissingEvents(trade) {
  // Check if all flow IDs are resolved
  const missingEntryIds = trade.entry_flow_ids.filter(id => !eventsHistory[id]);

  if (missingEntryIds.length > 0) {
    warn(`⚠️ Missing events: ${missingEntryIds.join(', ')}`);
  }

  // Check for missing events
  const allFlowIds = [...trade.entry_flow_ids, ...trade.exit_flow_ids];
  const missingIds = allFlowIds.filter(id => !eventsHistory[id]);

  if (missingIds.length > 0) {
    // Wait briefly for events to arrive
    setTimeout(() => {
      // Retry flow resolution
      const resolved = getFlowNodes(allFlowIds, eventsHistory);
      if (resolved.length === allFlowIds.length) {
        renderFlowDiagram(resolved);
      } else {
        warn('Some events still missing');
      }
    }, 1000);
  }
}
