// The session page's Report tab (an ended session's): equity and drawdown curves, P&L per trading day (a
// session of several days), the statistics, trades by exit reason, P&L per leg and per day, from the report the server embeds (session_report) or, when the session ends
// while the page is open, from GET /api/sessions/<id>/report: the same dict. Each figure is defined in
// docs/reports.md; this module only shows them. Printing shows the report alone (session-report.css), its
// charts as images of themselves so they fit the paper whatever the screen's width.
import {
  BaselineSeries, createChart,
} from "/static/vendor/lightweight-charts/lightweight-charts.standalone.production.mjs";
import {dayBars} from "/static/livesim/daily-pnl.js";
import {api} from "/static/livesim/fetch.js";
import {NSE, chartTime, count, exchangeDate, exchangeTime, money, moneyPlaces, pnlClass} from "/static/livesim/format.js";
import {exitReason} from "/static/livesim/session-tables.js";

const $ = (id) => document.getElementById(id);

/** "6 h 10 min", "5 min 20 s", "45 s" from seconds. */
export function span(seconds) {
  const s = Number(seconds) || 0;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  if (h) return m ? `${h} h ${m} min` : `${h} h`;
  if (m) return rest ? `${m} min ${rest} s` : `${m} min`;
  return `${rest} s`;
}

const plain = (text) => ({text});

/** The statistics table's rows: [key, label, cell] in the order a trader reads them; money in ``market``'s
 *  currency (format.js). */
function statisticRows(s, when, market) {
  const pnl = (v) => ({text: money(v, market), pnl: v});
  const cash = (v) => plain(money(v, market));
  const drawdownNote = s.max_drawdown_from === null ? "" : s.max_drawdown_recovered
    ? ` (from ${when(s.max_drawdown_from)}, back by ${when(s.max_drawdown_to)})`
    : ` (from ${when(s.max_drawdown_from)}, not recovered)`;
  return [
    ["net_pnl", "Net P&L", pnl(s.net_pnl)],
    ["gross_pnl", "Gross P&L", pnl(s.gross_pnl)],
    ["charges", "Charges", cash(s.charges)],
    ["trades", "Trades", plain(`${count(s.trades, market)} (won ${count(s.winning_trades, market)}, lost ${count(s.losing_trades, market)})`)],
    ["win_rate", "Win rate", plain(`${s.win_rate}%`)],
    ["average_win", "Average win", pnl(s.average_win)],
    ["average_loss", "Average loss", pnl(s.average_loss)],
    ["largest_win", "Largest win", pnl(s.largest_win)],
    ["largest_loss", "Largest loss", pnl(s.largest_loss)],
    // No profit factor: nothing was lost, or (no trade at all) nothing was won either.
    ["profit_factor", "Profit factor", plain(s.profit_factor ?? (s.trades ? "— (no losses)" : "—"))],
    ["expectancy", "Expectancy per trade", pnl(s.expectancy)],
    ["max_consecutive_losses", "Max consecutive losses", plain(count(s.max_consecutive_losses, market))],
    ["max_drawdown", "Max drawdown", cash(s.max_drawdown)],
    ["max_drawdown_seconds", "Drawdown duration", plain(`${span(s.max_drawdown_seconds)}${drawdownNote}`)],
    ["time_in_market", "Time in market", plain(`${s.time_in_market}% (${span(s.seconds_in_market)} of ${span(s.trading_seconds)})`)],
  ];
}

function td(text, {num = false, pnl = null} = {}) {
  const cell = document.createElement("td");
  cell.textContent = text;
  if (num) cell.className = "num money";
  if (pnl !== null && pnlClass(pnl)) cell.classList.add(pnlClass(pnl));
  return cell;
}

function th(text) {
  const cell = document.createElement("th");
  cell.scope = "row";
  cell.textContent = text;
  return cell;
}

function renderTables(report, when, market) {
  $("report-stats").tBodies[0].replaceChildren(...statisticRows(report.statistics, when, market).map(([key, label, c]) => {
    const tr = document.createElement("tr");
    tr.dataset.stat = key;
    tr.append(th(label), td(c.text, {num: true, pnl: c.pnl ?? null}));
    return tr;
  }));
  $("report-reasons").tBodies[0].replaceChildren(...report.by_exit_reason.map((g) => {
    const tr = document.createElement("tr");
    tr.dataset.reason = g.exit_reason;
    tr.append(th(exitReason(g.exit_reason)), td(count(g.trades, market), {num: true}),
      td(count(g.winning_trades, market), {num: true}), td(money(g.charges, market), {num: true}),
      td(money(g.net_pnl, market), {num: true, pnl: g.net_pnl}));
    return tr;
  }));
  $("report-legs").tBodies[0].replaceChildren(...report.by_leg.map((g) => {
    const tr = document.createElement("tr");
    tr.dataset.leg = g.entry_node_id;
    tr.append(th(g.name || g.entry_node_id), td(count(g.trades, market), {num: true}),
      td(count(g.winning_trades, market), {num: true}), td(money(g.gross_pnl, market), {num: true, pnl: g.gross_pnl}),
      td(money(g.charges, market), {num: true}), td(money(g.net_pnl, market), {num: true, pnl: g.net_pnl}));
    return tr;
  }));
  // Per trading day: the trades closed that day, and the day marked to market (positions held overnight
  // count on the days their prices moved).
  $("report-days").tBodies[0].replaceChildren(...report.daily.map((d) => {
    const tr = document.createElement("tr");
    tr.dataset.day = d.date;
    tr.append(th(exchangeDate(d.date, market)), td(count(d.trades, market), {num: true}),
      td(money(d.net_pnl, market), {num: true, pnl: d.net_pnl}), td(money(d.mtm_pnl, market), {num: true, pnl: d.mtm_pnl}));
    return tr;
  }));
  for (const id of ["report-reasons", "report-legs", "report-days"]) {
    // Each figure named by its column: on a phone a row is a card (session-report.css)
    const heads = [...$(id).tHead.rows[0].cells].map((c) => c.textContent);
    for (const row of $(id).tBodies[0].rows) [...row.cells].forEach((c, i) => { c.dataset.label = heads[i]; });
    if (!$(id).tBodies[0].rows.length) {
      const tr = document.createElement("tr");
      const cell = td("No trades.");
      cell.colSpan = $(id).tHead.rows[0].cells.length;
      tr.append(cell);
      $(id).tBodies[0].append(tr);
    }
  }
}

function chartOptions(el) {
  return {
    autoSize: true,
    layout: {background: {color: "#ffffff"}, textColor: "#15202b", attributionLogo: false},
    grid: {vertLines: {color: "#eef1f5"}, horzLines: {color: "#eef1f5"}},
    // A session of several days has a point a minute: at the default least spacing (0.5 px) a week would
    // not fit the chart, which would then show its last days only.
    timeScale: {timeVisible: true, secondsVisible: false, borderColor: "#d5dbe3", minBarSpacing: 0.01},
    rightPriceScale: {borderColor: "#d5dbe3"},
    localization: {locale: "en-IN"},
    height: el.clientHeight || 260,
    handleScroll: false, handleScale: false,
  };
}

/** The curve's points for a chart: times shifted to read as the market's clock, one per time (the last wins). */
function line(points, field, zone) {
  const byTime = new Map();
  for (const p of points) byTime.set(chartTime(p.time, zone), Number(p[field]));
  return [...byTime].sort((a, b) => a[0] - b[0]).map(([time, value]) => ({time, value}));
}

/** A money line on ``chart`` filled towards 0: ``above`` and ``below`` 0 are each [line, fill at the line,
 *  fill at 0] colours; its scale at the currency's minor units (``places``). */
function baseline(chart, data, places, [topLineColor, topFillColor1, topFillColor2],
                  [bottomLineColor, bottomFillColor1, bottomFillColor2]) {
  chart.addSeries(BaselineSeries, {
    baseValue: {type: "price", price: 0}, topLineColor, topFillColor1, topFillColor2,
    bottomLineColor, bottomFillColor1, bottomFillColor2,
    priceFormat: {type: "price", precision: places, minMove: 10 ** -places},
  }).setData(data);
}

function drawCharts(report, market) {
  const equityEl = $("report-equity-chart");
  const drawdownEl = $("report-drawdown-chart");
  const zone = market.time_zone;
  const places = moneyPlaces(market.currency);
  const equity = createChart(equityEl, chartOptions(equityEl));
  baseline(equity, line(report.equity_curve, "equity", zone), places,
           ["#0a6b2f", "rgba(10,107,47,0.18)", "rgba(10,107,47,0.02)"], ["#b3261e", "rgba(179,38,30,0.02)", "rgba(179,38,30,0.18)"]);
  const drawdown = createChart(drawdownEl, chartOptions(drawdownEl));
  // Filled from 0 down to the curve: how far below its peak the equity stood.
  baseline(drawdown, line(report.equity_curve, "drawdown", zone), places, ["#b3261e", "rgba(0,0,0,0)", "rgba(0,0,0,0)"],
           ["#b3261e", "rgba(179,38,30,0.12)", "rgba(179,38,30,0.35)"]);
  for (const c of [equity, drawdown]) c.timeScale().fitContent();
  const drawn = [[equity, $("report-equity-image")], [drawdown, $("report-drawdown-image")]];
  // A session of several days: each day's P&L marked to market at its close (`daily[].mtm_pnl`) as bars.
  if (!$("report-daily").hidden) {
    daily = dayBars($("report-daily-chart"), market);
    daily.set(report.daily.map((d) => ({date: d.date, pnl: d.mtm_pnl})));
    drawn.push([daily.chart, $("report-daily-image")]);
  }
  return drawn;
}

let daily = null;  // the per-day bars, once drawn

/**
 * The Report tab. `report` is the embedded report or null (a session not ended when the page loaded);
 * `sessionId` names the session for the API; `time` formats an instant (the session page's clock) and
 * `market` (format.js) says what its money is in. Returns {show(report), ended(), state()}.
 */
export function reportTab({report = null, sessionId, time = exchangeTime, market = NSE}) {
  const when = time;
  const tabs = [$("tab-report"), $("tab-live")];
  const panels = {"tab-report": $("panel-report"), "tab-live": $("panel-live")};
  let charts = null;
  let shown = null;
  let loading = null;

  function select(tab, focus = false) {
    tab.classList.remove("tab-new");
    for (const t of tabs) {
      const on = t === tab;
      t.setAttribute("aria-selected", String(on));
      t.tabIndex = on ? 0 : -1;
      panels[t.id].hidden = !on;
    }
    if (focus) tab.focus();
    if (tab.id === "tab-report" && shown && !charts) {
      charts = drawCharts(shown, market);
      // The whole curve in view at any width (a phone turned, a window resized), and its print image anew.
      new ResizeObserver(() => requestAnimationFrame(() => {
        for (const [chart] of charts) chart.timeScale().fitContent();
        requestAnimationFrame(snapshotCharts);
      })).observe($("report-equity-chart"));
    }
    // The live charts were sized while hidden, perhaps: they follow their box (autoSize) once shown.
  }

  /** Each chart as an image, for print: a canvas keeps its screen width, an image scales to the paper. */
  function snapshotCharts() {
    for (const [chart, img] of charts || []) {
      // A hidden tab's chart has no size: its last image stands.
      if (chart.chartElement().clientWidth) img.src = chart.takeScreenshot().toDataURL("image/png");
    }
  }

  tabs.forEach((tab, i) => {
    tab.addEventListener("click", () => select(tab));
    tab.addEventListener("keydown", (e) => {
      const next = {ArrowRight: 1, ArrowLeft: -1}[e.key];
      if (next) { e.preventDefault(); select(tabs[(i + next + tabs.length) % tabs.length], true); }
    });
  });
  $("print-report").addEventListener("click", () => {
    select(tabs[0]);
    snapshotCharts();
    window.print();
  });
  window.addEventListener("beforeprint", () => {
    if (!shown) return;
    // Print the report whichever tab is open.
    panels["tab-report"].hidden = false;
    if (!charts) charts = drawCharts(shown, market);
    snapshotCharts();
  });
  window.addEventListener("afterprint", () => {
    panels["tab-report"].hidden = tabs[0].getAttribute("aria-selected") !== "true";
  });

  /** Show ``data`` in the Report tab and the tabs; select it unless ``quiet`` (another view is in use). */
  function show(data, {quiet = false} = {}) {
    shown = data;
    renderTables(data, when, market);
    $("session-tabs").hidden = false;
    document.body.classList.add("has-report");
    const live = $("panel-live");
    live.setAttribute("role", "tabpanel");
    live.setAttribute("aria-labelledby", "tab-live");
    if (!quiet) select(tabs[0]);
    else $("tab-report").classList.add("tab-new");
  }

  if (report) show(report);

  return {
    show,
    /** The session has ended while the page was open: fetch its report and show it first (once), unless
     *  the trader is reading a trade's flow, which it leaves open (the tab is marked instead). */
    ended() {
      if (shown || loading) return loading;
      loading = api("GET", `/api/sessions/${encodeURIComponent(sessionId)}/report`).then((data) => {
        if (data.final) show(data, {quiet: Boolean(document.querySelector("dialog[open]"))});
        else loading = null;  // its end not committed yet: the next status event asks again
      }, () => { loading = null; });
      return loading;
    },
    state() {
      return {shown: Boolean(shown), charts: Boolean(charts),
        images: (charts || []).every(([, img]) => img.src.startsWith("data:image/png")),
        dailyBars: daily ? daily.state() : []};
    },
  };
}
