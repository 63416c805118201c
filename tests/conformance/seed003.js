// Seed 003 ("SSE Implementation for Backtest Streaming", ../shared/spec/003_82fd6ae9eb4b1e3d.txt): its
// client, useBacktestSSE ("Client Implementation (React/TypeScript)"), transcribed from TypeScript to
// JavaScript for tests/conformance/test_seed_clients.py.
//
// Transcription only (no protocol change): types dropped; the hook's useState becomes a local variable
// with the same setState(s => ...) updates, and useEffect's body runs at once (its cleanup is the
// returned close()); `import pako from 'pako'` is pako 1.0.11's browser build, loaded by the test page
// as the global `pako`; getState() lets the test read the state the hook would return.
//
// Changes the spec README requires (listed again in test_seed_clients.py):
// - README rule 8: the stream is `/api/v2/live/stream/${sessionId}` (the per-session stream start
//   returns as stream_url) instead of `/api/backtest/${sessionId}/stream`.
// - README rule 4: an event's position is its SSE id (event.lastEventId), not a data.event_id field.
// - README rule 1: node executions come as `node_events`, not `node_event`.
// - README rules 2 and 3: `node_events` carries the new events_history entries (and the changed
//   current_state entries) in a gzip + base64 `diagnostics` field, decoded exactly as initial_state's;
//   the reducer merges them where the seed adds its one `data` under data.execution_id.
// - README rule 3: trade_update's {trade, summary} is its gzip + base64 `trades` field, decoded the same
//   way, instead of plain data.trade and data.summary.

export function useBacktestSSE(sessionId) {
  let state = {
    diagnostics: null,
    trades: null,
    currentTick: null,
    lastEventId: 0
  };
  const setState = (update) => { state = update(state); };

  const eventSource = new EventSource(
    `/api/v2/live/stream/${sessionId}`,
    { headers: { 'Last-Event-ID': state.lastEventId.toString() } }
  );

  // Handle initial_state
  eventSource.addEventListener('initial_state', (e) => {
    const data = JSON.parse(e.data);

    // Decompress diagnostics
    const diagCompressed = atob(data.diagnostics);
    const diagDecompressed = pako.ungzip(diagCompressed, { to: 'string' });
    const diagnostics = JSON.parse(diagDecompressed);

    // Decompress trades
    const tradesCompressed = atob(data.trades);
    const tradesDecompressed = pako.ungzip(tradesCompressed, { to: 'string' });
    const trades = JSON.parse(tradesDecompressed);

    setState(s => ({ ...s, diagnostics, trades, lastEventId: e.lastEventId }));
  });

  // Handle tick_update (no decompression needed)
  eventSource.addEventListener('tick_update', (e) => {
    const data = JSON.parse(e.data);
    setState(s => ({ ...s, currentTick: data, lastEventId: e.lastEventId }));
  });

  // Handle node_events (incremental)
  eventSource.addEventListener('node_events', (e) => {
    const data = JSON.parse(e.data);
    const diagnostics = JSON.parse(pako.ungzip(atob(data.diagnostics), { to: 'string' }));
    // Append to diagnostics
    setState(s => ({
      ...s,
      diagnostics: {
        ...s.diagnostics,
        events_history: {
          ...s.diagnostics.events_history,
          ...diagnostics.events_history
        },
        current_state: {
          ...s.diagnostics.current_state,
          ...diagnostics.current_state
        }
      },
      lastEventId: e.lastEventId
    }));
  });

  // Handle trade_update (incremental)
  eventSource.addEventListener('trade_update', (e) => {
    const data = JSON.parse(pako.ungzip(atob(JSON.parse(e.data).trades), { to: 'string' }));
    // Append trade and update summary
    setState(s => ({
      ...s,
      trades: {
        ...s.trades,
        trades: [...s.trades.trades, data.trade],
        summary: data.summary
      },
      lastEventId: e.lastEventId
    }));
  });

  return {getState: () => state, close: () => eventSource.close(), eventSource};
}
