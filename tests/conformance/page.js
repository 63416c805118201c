// The conformance page: runs the three seed clients side by side against the server that serves it.
import * as seed000 from "./seed000.js";
import * as lateSeed000 from "./seed000.js?late";  // a second instance of seed 000, with its own cache
import {useBacktestSSE} from "./seed003.js";
import {loadDashboard} from "./seed004.js";
import {formatCurrency, seen} from "./ui.js";

let seed003 = null;
let seed004 = null;

window.conformance = {
  start000: (userId) => seed000.connect(`/api/live-trading/stream/${userId}`, null),
  start000late: (sessionId) => lateSeed000.connect(`/api/v2/live/stream/${sessionId}`, sessionId),
  start003: (sessionId) => { seed003 = useBacktestSSE(sessionId); },
  start004: async (userId) => { seed004 = await loadDashboard(userId); },
  formatCurrency,
  state: () => ({
    seed000: seed000.getState(),
    lateSeed000: lateSeed000.getState(),
    seed003: seed003 && {...seed003.getState(), open: seed003.eventSource.readyState},
    seed004: {open: seed004 && seed004.readyState},
    ui: seen,
  }),
};
