// Seed 004 ("Live Trading UI Integration Guide", ../shared/spec/004_6aa663b2f12291ac.txt): its
// frontend code ("Frontend Implementation" 1-4: loadDashboard, connectToSSE, decompressGzip,
// updateStrategyCard) transcribed from TypeScript to JavaScript for tests/conformance/test_seed_clients.py.
//
// Transcription only (no protocol change): types dropped; `import pako from 'pako'` is pako 1.0.11's
// browser build, loaded by the test page as the global `pako`; the functions the seed calls but leaves
// to the UI (renderStrategyCards, updateNodeStatus, updateTrades, formatCurrency) are the test page's
// (ui.js); the functions are exported for the page to call.
//
// Changes the spec README requires (listed again in test_seed_clients.py):
// - README rule 5 (ticks follow 002 over 003): a tick's fields are at the top of its data, as seed 003
//   shows them, not under `tick_state`; the LTPs that changed are `ltp_updates` (not a whole
//   `ltp_store`) and there are no `candle_data` (candles are `candle_update` events).
import {renderStrategyCards, updateNodeStatus, updateTrades, formatCurrency} from "./ui.js";

export async function loadDashboard(userId) {
  // Step 1: Get current state via HTTP
  const response = await fetch(`/api/live-trading/dashboard/${userId}`);
  const dashboard = await response.json();

  // Step 2: Render all strategy cards
  renderStrategyCards(dashboard.sessions);

  // Step 3: Connect to SSE for live updates
  return connectToSSE(userId);
}

export function connectToSSE(userId) {
  const eventSource = new EventSource(`/api/live-trading/stream/${userId}`);

  // Handle initial state (sent once per session on connect)
  eventSource.addEventListener('initial_state', (event) => {
    const data = JSON.parse(event.data);
    const sessionId = data.session_id;

    // Decompress diagnostics and trades if needed
    const diagnostics = decompressGzip(data.diagnostics);
    const trades = decompressGzip(data.trades);

    console.log(`Initial state received for ${sessionId}`);
  });

  // Handle node events (position opened, exit triggered, etc.)
  eventSource.addEventListener('node_events', (event) => {
    const data = JSON.parse(event.data);
    const sessionId = data.session_id;
    const diagnostics = decompressGzip(data.diagnostics);

    // Update UI with node execution status
    updateNodeStatus(sessionId, diagnostics);
  });

  // Handle trade updates (position closed)
  eventSource.addEventListener('trade_update', (event) => {
    const data = JSON.parse(event.data);
    const sessionId = data.session_id;
    const trades = decompressGzip(data.trades);

    // Update UI with completed trades
    updateTrades(sessionId, trades);
  });

  // Handle tick updates (P&L, positions, LTP)
  eventSource.addEventListener('tick_update', (event) => {
    const data = JSON.parse(event.data);
    const sessionId = data.session_id;
    const tickState = data;

    // Update strategy card with live data
    updateStrategyCard(sessionId, {
      positions: tickState.open_positions,
      pnl: tickState.pnl_summary,
      ltp: tickState.ltp_updates,
      candles: tickState.candle_data,
      progress: tickState.progress
    });
  });

  // Handle heartbeat (keep-alive)
  eventSource.addEventListener('heartbeat', (event) => {
    console.log('Heartbeat received:', event.data);
  });

  // Handle errors
  eventSource.onerror = (error) => {
    console.error('SSE error:', error);
    eventSource.close();

    // Reconnect after 5 seconds
    setTimeout(() => {
      connectToSSE(userId);
    }, 5000);
  };

  return eventSource;
}

export function decompressGzip(base64String) {
  try {
    // Decode base64
    const binaryString = atob(base64String);
    const bytes = new Uint8Array(binaryString.length);
    for (let i = 0; i < binaryString.length; i++) {
      bytes[i] = binaryString.charCodeAt(i);
    }

    // Decompress gzip
    const decompressed = pako.inflate(bytes, { to: 'string' });

    // Parse JSON
    return JSON.parse(decompressed);
  } catch (error) {
    console.error('Decompression error:', error);
    return null;
  }
}

export function updateStrategyCard(sessionId, data) {
  const card = document.querySelector(`[data-session-id="${sessionId}"]`);
  if (!card) return;

  // Update P&L
  card.querySelector('.total-pnl').textContent =
    formatCurrency(data.pnl.total_pnl);

  card.querySelector('.realized-pnl').textContent =
    formatCurrency(data.pnl.realized_pnl);

  card.querySelector('.unrealized-pnl').textContent =
    formatCurrency(data.pnl.unrealized_pnl);

  // Update positions count
  card.querySelector('.open-positions').textContent =
    data.positions.length;

  // Update progress bar (if applicable)
  if (data.progress) {
    card.querySelector('.progress-bar').style.width =
      `${data.progress.progress_percentage}%`;
  }

  // Update position details
  const positionsList = card.querySelector('.positions-list');
  positionsList.innerHTML = data.positions.map(pos => `
    <div class="position">
      <span class="symbol">${pos.symbol}</span>
      <span class="qty">${pos.quantity}</span>
      <span class="pnl ${pos.unrealized_pnl >= 0 ? 'positive' : 'negative'}">
        ${formatCurrency(pos.unrealized_pnl)}
      </span>
    </div>
  `).join('');
}
