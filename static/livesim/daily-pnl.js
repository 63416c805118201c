// P&L per trading day: the session page's live panel (a session of several days) and its Report tab's chart.
// A day's P&L is the summary's `daily_pnl` (docs/protocol.md): realized net of charges plus the change in
// unrealized from one close to the next, so the days add up to the net P&L. While a session runs, its
// current day is the net P&L of the latest tick less the days before it, so the panel moves with the head's
// Net P&L between two summaries. Money stays exact: integer minor units at the instrument's places
// (figures.js), never a float; it is shown in the session's currency (format.js `money`).
import {HistogramSeries, createChart} from "/static/vendor/lightweight-charts/lightweight-charts.standalone.production.mjs";
import {fromMinorUnits, minorUnits} from "/static/livesim/figures.js";
import {NSE, chartTime as onClock, exchangeDate, marketOf, money, moneyPlaces, pnlClass} from "/static/livesim/format.js";
import {replaceData} from "/static/livesim/session-chart.js";

const PROFIT = "#0a6b2f";
const LOSS = "#b3261e";
const dayFormat = new Intl.DateTimeFormat("en-IN", {timeZone: "UTC", day: "2-digit", month: "short"});

/** The date "YYYY-MM-DD" of epoch seconds on `zone`'s clock (the market's; IST by default). */
export const exchangeDay = (t, zone = NSE.time_zone) => new Date(onClock(t, zone) * 1000).toISOString().slice(0, 10);

/** The trading day of epoch seconds `t`: the last of `dayOpens` ([[date, first open's epoch seconds], ...]
 *  in order, the page's `day_opens`) opened by then, as the summary counts days (an FX pair's day opens
 *  at 17:00 New York the evening before its date); the date on `zone`'s clock without them. */
export function tradingDay(t, dayOpens = [], zone = NSE.time_zone) {
  let day = null;
  for (const [date, open] of dayOpens) {
    if (open > t) break;
    day = date;
  }
  return day ?? exchangeDay(t, zone);
}

/** Epoch seconds of a date's UTC midnight: its place on a chart (which shows times as UTC). */
const chartTime = (date) => Date.parse(`${date}T00:00:00Z`) / 1000;

/**
 * Bars of P&L per day on `el` (lightweight-charts' histogram, green above 0, red below), one per row
 * ({date: "YYYY-MM-DD", pnl: decimal string with the instrument's places}), its scale in `market`'s money
 * (format.js); trading days sit side by side, without the weekends.
 */
export function dayBars(el, market = NSE) {
  const m = marketOf(market);
  const places = m.price_decimals;
  const shown = moneyPlaces(m.currency);
  const chart = createChart(el, {
    autoSize: true,
    height: el.clientHeight || 220,
    layout: {background: {color: "#ffffff"}, textColor: "#15202b", attributionLogo: false},
    grid: {vertLines: {visible: false}, horzLines: {color: "#eef1f5"}},
    rightPriceScale: {borderColor: "#d5dbe3"},
    timeScale: {borderColor: "#d5dbe3", timeVisible: false, fixLeftEdge: true, fixRightEdge: true, minBarSpacing: 0.01,
      tickMarkFormatter: (t) => dayFormat.format(new Date(t * 1000))},
    localization: {locale: "en-IN", timeFormatter: (t) => exchangeDate(new Date(t * 1000).toISOString().slice(0, 10)),
      priceFormatter: (v) => money(v.toFixed(shown), m)},
    handleScroll: false, handleScale: false,
  });
  const series = chart.addSeries(HistogramSeries, {
    priceFormat: {type: "price", precision: shown, minMove: 10 ** -shown}, priceLineVisible: false, lastValueVisible: false,
    base: 0,
  });
  let drawn = [];
  // Every day in view at any width (a phone turned, the panel shown after being drawn hidden).
  new ResizeObserver(() => requestAnimationFrame(() => chart.timeScale().fitContent())).observe(el);
  return {
    chart,
    set(rows) {
      const data = rows.map((r) => ({time: chartTime(r.date), value: minorUnits(r.pnl, places) / 10 ** places,
        color: minorUnits(r.pnl, places) < 0 ? LOSS : PROFIT}));
      replaceData(series, data);
      if (data.length !== drawn.length) chart.timeScale().fitContent();
      drawn = rows.map((r) => ({date: r.date, pnl: r.pnl}));
    },
    /** What the bars show: [{date, pnl}] (for tests). */
    state: () => drawn,
  };
}

/**
 * The rows of the per-day view: [{date, pnl, cumulative, today}] (money as decimal strings with `places`
 * places: the instrument's `price_decimals`).
 *
 * `final` is a Map of the days known closed (date -> paise): every day of a summary but its last, which
 * is the current day so far (minor units); `summary` the latest summary; `total` the net P&L now (a tick's
 * `pnl_summary.total_pnl`, or the REST answer's) and `at` its exchange time (epoch seconds). `live`: the
 * session still runs (or is paused), so its current day is `total` less the days before it; ended, the
 * summary's days are the figures. `dayOpens`: the session's trading days (`tradingDay`), `zone` its
 * market's clock.
 */
export function dayRows({final, summary, total, at, live, dayOpens = [], places = 2, zone = NSE.time_zone}) {
  const days = new Map(final);
  for (const d of summary?.daily_pnl || []) if (!days.has(d.date)) days.set(d.date, minorUnits(d.pnl, places));
  let today = null;
  if (live && at && total !== null && total !== undefined) {
    const day = tradingDay(at, dayOpens, zone);
    if (![...days.keys()].some((d) => d > day)) {
      const before = [...days].filter(([d]) => d < day).reduce((sum, [, p]) => sum + p, 0);
      days.set(day, minorUnits(total, places) - before);
      today = day;
    }
  }
  let cumulative = 0;
  return [...days].sort(([a], [b]) => a.localeCompare(b)).map(([date, p]) => {
    cumulative += p;
    return {date, pnl: fromMinorUnits(p, places), cumulative: fromMinorUnits(cumulative, places), today: date === today};
  });
}

function cell(tr, text, {num = false, pnl = null, head = false} = {}) {
  const el = document.createElement(head ? "th" : "td");
  if (head) el.scope = "row";
  el.textContent = text;
  if (num) el.className = "num money";
  if (pnl !== null && pnlClass(pnl)) el.classList.add(pnlClass(pnl));
  tr.append(el);
  return el;
}

/**
 * The live panel: `panel` (shown for a session of several days), its bar chart box `chartEl`, `table`
 * (Day, P&L, Running total; a Total row in its foot), `empty` (said while no day has begun),
 * `dayOpens` (the session's trading days, `tradingDay`) and `market` (format.js: the session's currency,
 * places and clock).
 * `update({summary, total, at, live})` after each applied event (at most once a frame); it learns the
 * closed days from every summary it sees. Returns {update, state, newDay}.
 */
export function dailyPanel({panel, chartEl, table, empty, dayOpens = [], market = NSE}) {
  const m = marketOf(market);
  const places = m.price_decimals;
  const zone = m.time_zone;
  const final = new Map();
  let bars = null;
  let rows = [];
  let lastDay = null;
  return {
    /** Whether `at` is on another exchange day than the last update's (then the page asks the server for
     *  the day just closed: the last tick the stream sent of it may be before its close). */
    newDay(at) {
      return Boolean(at) && lastDay !== null && tradingDay(at, dayOpens, zone) !== lastDay;
    },
    learn(summary, ended = false) {
      const days = summary?.daily_pnl || [];
      days.forEach((d, i) => { if (ended || i < days.length - 1) final.set(d.date, minorUnits(d.pnl, places)); });
    },
    update({summary, total, at, live}) {
      this.learn(summary, !live);
      if (at) lastDay = tradingDay(at, dayOpens, zone);
      if (panel.hidden) return;
      rows = dayRows({final, summary, total, at, live, dayOpens, places, zone});
      table.tBodies[0].replaceChildren(...rows.map((r) => {
        const tr = document.createElement("tr");
        tr.dataset.day = r.date;
        tr.dataset.pnl = r.pnl;
        cell(tr, `${exchangeDate(r.date)}${r.today ? " (so far)" : ""}`, {head: true});
        cell(tr, money(r.pnl, m), {num: true, pnl: r.pnl}).dataset.label = "P&L";
        cell(tr, money(r.cumulative, m), {num: true, pnl: r.cumulative}).dataset.label = "Running total";
        return tr;
      }));
      const sum = rows.length ? rows[rows.length - 1].cumulative : null;
      const foot = table.tFoot.rows[0].cells[1];
      foot.textContent = money(sum, m);
      foot.className = `num money ${pnlClass(sum)}`.trim();
      table.dataset.days = String(rows.length);
      empty.hidden = rows.length > 0;
      table.closest(".daily-layout").hidden = rows.length === 0;
      if (rows.length && !bars) bars = dayBars(chartEl, m);
      if (bars) bars.set(rows);
    },
    /** What the panel shows (for tests): its rows and the bars drawn. */
    state: () => ({rows, bars: bars ? bars.state() : []}),
  };
}
