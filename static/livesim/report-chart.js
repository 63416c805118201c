// The equity charts of the reports (lightweight-charts v5, as the session page's): a strategy's cumulative
// equity with its drawdown, or two sessions' equity curves on one chart. The data is the report's
// equity_curve ({time, timestamp, equity, drawdown}; money as decimal strings), embedded by the view as
// #report-chart-data: {align, market, curves: [{label, time_zone, points}]}, ``market`` what the money is
// in (format.js) and each curve's ``time_zone`` its session's market clock.
//   align "time": exchange time. A strategy's sessions can share a day (two runs of 29 Oct), and a chart
//     needs ascending times, so a point that is not after the one before is drawn one second after it;
//     the axis and the crosshair still show each point's own exchange time.
//   align "elapsed": time of the exchange day (on each session's market clock), so sessions of different
//     days overlay; a session's second day continues as "day 2".
import {AreaSeries, BaselineSeries, LineSeries, createChart} from "/static/vendor/lightweight-charts/lightweight-charts.standalone.production.mjs";
import {chartTime, marketOf, money, moneyPlaces} from "./format.js";

const COLOURS = ["#0b3d91", "#b45309"];  // A (the pages' primary) and B (amber); both 3:1 and more on white
const el = document.getElementById("report-chart");
const data = JSON.parse(document.getElementById("report-chart-data").textContent);
const real = new Map();  // chart time -> the point's own exchange label

const pad = (n) => String(n).padStart(2, "0");
function clock(secondsOfDay) {
  return `${pad(Math.floor(secondsOfDay / 3600) % 24)}:${pad(Math.floor(secondsOfDay / 60) % 60)}`;
}
const dayFormat = new Intl.DateTimeFormat("en-IN", {timeZone: "UTC", day: "2-digit", month: "short"});

/** The curve's points at chart times (on ``zone``'s clock), each remembered with the label it is shown with. */
function place(points, zone) {
  const out = [];
  if (data.align === "elapsed") {
    const days = [];
    for (const p of points) {
      const local = chartTime(p.time, zone);
      const day = Math.floor(local / 86400);
      if (!days.includes(day)) days.push(day);
      const index = days.indexOf(day);
      const t = index * 86400 + (local % 86400);
      if (out.length && t <= out[out.length - 1].time) continue;
      real.set(t, `${index ? `day ${index + 1} ` : ""}${clock(local % 86400)}`);
      out.push({time: t, point: p});
    }
  } else {
    for (const p of points) {
      const local = chartTime(p.time, zone);
      const last = out.length ? out[out.length - 1].time : -Infinity;
      const t = Math.max(local, last + 1);
      real.set(t, `${dayFormat.format(new Date(local * 1000))} ${clock(local % 86400)}`);
      out.push({time: t, point: p});
    }
  }
  return out;
}

const market = marketOf(data.market);
const places = moneyPlaces(market.currency);
const label = (t) => real.get(t) ?? clock(((t % 86400) + 86400) % 86400);
const chart = createChart(el, {
  autoSize: true,
  height: el.clientHeight || 320,
  layout: {background: {color: "#ffffff"}, textColor: "#15202b", attributionLogo: false},
  grid: {vertLines: {color: "#eef1f5"}, horzLines: {color: "#eef1f5"}},
  rightPriceScale: {borderColor: "#d5dbe3"},
  // A phone turned, a window resized: the same span stays in view (the whole run, once fitted).
  timeScale: {borderColor: "#d5dbe3", timeVisible: true, secondsVisible: false, tickMarkFormatter: label,
    lockVisibleTimeRangeOnResize: true, minBarSpacing: 0.01},  // a long run fits a phone's width
  localization: {locale: "en-IN", timeFormatter: label, priceFormatter: (v) => money(v.toFixed(places), market)},
});

const drawn = [];
data.curves.forEach((curve, i) => {
  const placed = place(curve.points, curve.time_zone || market.time_zone);
  const options = {priceFormat: {type: "price", precision: places, minMove: 10 ** -places},
    title: data.curves.length > 1 ? "AB"[i] : ""};
  const series = data.curves.length > 1
    ? chart.addSeries(LineSeries, {...options, color: COLOURS[i], lineWidth: 2})
    : chart.addSeries(BaselineSeries, {
      ...options, baseValue: {type: "price", price: 0}, topLineColor: "#0a6b2f", bottomLineColor: "#b3261e",
      topFillColor1: "rgba(10,107,47,0.18)", topFillColor2: "rgba(10,107,47,0.02)",
      bottomFillColor1: "rgba(179,38,30,0.02)", bottomFillColor2: "rgba(179,38,30,0.18)",
    });
  series.setData(placed.map(({time, point}) => ({time, value: Number(point.equity)})));
  if (data.curves.length === 1) {  // the drawdown in a pane of its own under the equity
    const drawdown = chart.addSeries(AreaSeries, {
      lineColor: "#b3261e", topColor: "rgba(179,38,30,0.05)", bottomColor: "rgba(179,38,30,0.35)", lineWidth: 1,
      priceFormat: options.priceFormat, priceLineVisible: false, title: "drawdown",
    }, 1);
    drawdown.setData(placed.map(({time, point}) => ({time, value: Number(point.drawdown)})));
    chart.panes()[1].setStretchFactor(0.35);
  }
  const last = placed[placed.length - 1];
  drawn.push({label: curve.label, points: placed.length, last: last ? last.point.equity : null});
});
chart.timeScale().fitContent();

// For tests and tools: what each curve drew (points and the last equity, as the report gave it).
window.reportChart = {curves: drawn};
