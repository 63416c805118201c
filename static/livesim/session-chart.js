// The session page's charts (lightweight-charts v5): the underlying's candles with entry/exit markers and
// the open positions' stop/target levels, and the net P&L curve. Times on the charts are the market's
// clock: lightweight-charts shows its timestamps as UTC, so every time is shifted by the market's offset
// at that instant (format.js chartTime: IST's +05:30 on the NSE; New York's -04:00 or -05:00 for FX).
import {
  CandlestickSeries, LineSeries, BaselineSeries, LineStyle, createChart, createSeriesMarkers,
} from "/static/vendor/lightweight-charts/lightweight-charts.standalone.production.mjs";
import {NSE, chartTime, fromChartTime, moneyPlaces} from "/static/livesim/format.js";

const css = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();

/** Epoch seconds of an ISO exchange time ("2024-10-29T09:20:00+05:30"). */
export const epoch = (iso) => Math.floor(Date.parse(iso) / 1000);

/**
 * Give ``series`` all of ``data`` ([{time, ...}] sorted by time, one item a time) as setData does, but
 * never by a setData that repeats the times the series has. lightweight-charts 5.2.1 (its DataLayer's
 * setSeriesData): a setData on the only series with data rebuilds the chart's time points and, when their
 * times are the very ones it had, keeps its old list of them; once a second series shares the time
 * scale (a position's level line), the next setData or removeSeries drops time points still in use, the
 * candles lose their places on the scale, and the next paint throws "Value is null". The same times are
 * therefore updated in place (only the items that changed); other times go through setData.
 */
export function replaceData(series, data) {
  const old = series.data();
  if (old.length !== data.length || old.some((d, i) => d.time !== data[i].time)) {
    series.setData(data);
    return;
  }
  data.forEach((d, i) => {
    if (Object.keys(d).some((k) => d[k] !== old[i][k])) series.update({...d}, true);  // it writes into what it gets
  });
}

/** A candle ({open, high, low, close}) whose prices are all finite numbers: anything else (a null from a
 *  bad feed) would reach the chart as a bar without a price, which it cannot draw. */
const priced = (c) => ["open", "high", "low", "close"].every((k) => Number.isFinite(c[k]));

function baseOptions(el) {
  return {
    autoSize: true,
    layout: {background: {color: "#ffffff"}, textColor: css("--text") || "#15202b", attributionLogo: false},
    grid: {vertLines: {color: "#eef1f5"}, horzLines: {color: "#eef1f5"}},
    // A session of many days (months of hourly bars) fits its box too, however thin its bars.
    timeScale: {timeVisible: true, secondsVisible: false, borderColor: "#d5dbe3", minBarSpacing: 0.05},
    rightPriceScale: {borderColor: "#d5dbe3"},
    localization: {locale: "en-IN"},
    height: el.clientHeight || 320,
  };
}

/**
 * The candle chart. Keeps every 1-minute candle (from the candles endpoint and the stream's
 * candle_update events, merged by opening time) and shows them at the chosen timeframe, aggregated
 * here so a switch costs no request. `state()` says what is drawn (for tests and the benchmark).
 * ``zone`` is the market's clock (IANA), ``places`` and ``tick`` its instrument's price places and tick.
 */
export function candleChart(el, {timeframes, anchor, zone = NSE.time_zone, places = NSE.price_decimals, tick = 0.05,
                                  initial = "1m"}) {
  // The timeframes (name -> seconds) and the grid they are cut on (seconds after the market's midnight:
  // 09:15 on the NSE, 17:00 New York for FX) come from the server (the page's embedded state), the market
  // data's one definition of them.
  const TIMEFRAMES = Object.fromEntries(timeframes.map((tf) => [tf.name, tf.seconds]));
  const chart = createChart(el, {...baseOptions(el), leftPriceScale: {visible: false, borderColor: "#d5dbe3"}});
  const priceFormat = {type: "price", precision: places, minMove: tick};
  // Stops and targets are whole minor units, not always on the tick.
  const levelFormat = {type: "price", precision: places, minMove: 10 ** -places};
  const series = chart.addSeries(CandlestickSeries, {
    upColor: "#0a6b2f", downColor: "#b3261e", wickUpColor: "#0a6b2f", wickDownColor: "#b3261e", borderVisible: false,
    priceFormat,
  });
  const markersPlugin = createSeriesMarkers(series, []);
  const minutes = new Map();  // opening epoch -> candle {time, open, high, low, close}
  let timeframe = initial;
  let lastBar = null;
  let barCount = 0;
  let markers = [];
  const levels = new Map();  // position key -> {series, lines}
  // On a narrow screen a second price axis leaves the candles no room: the levels go on an overlay
  // scale (their labels on the right axis, beside the index's).
  // A chart in a hidden tab (the Replay tab behind an ended session's report) measures 0 wide, which says
  // nothing of the screen: its width is unknown (null) until it is shown, and then it is fitted whatever
  // it is; a tab switch (0 and back) neither refits it nor drops the trader's zoom.
  let narrow = el.clientWidth ? el.clientWidth < 600 : null;
  let levelScale = narrow ? "levels" : "left";
  let lastLevels = [];
  new ResizeObserver(() => {
    if (!el.clientWidth || (el.clientWidth < 600) === narrow) return;
    narrow = el.clientWidth < 600;
    levelScale = narrow ? "levels" : "left";
    // Each line moves to the other scale with the LTPs it has drawn so far.
    const drawnSoFar = new Map([...levels].map(([key, l]) => [key, l.points]));
    for (const l of levels.values()) chart.removeSeries(l.series);
    levels.clear();
    chart.applyOptions({leftPriceScale: {visible: false}});
    api.setLevels(lastLevels, drawnSoFar);
    // A phone turned (or a window narrowed) keeps the bar spacing it had: the first bars and their
    // entry markers would be off the left edge.
    chart.timeScale().fitContent();
    drawMarkers();  // with or without their labels
  }).observe(el);

  // candles.bucket_start on the market's clock: intraday bars from the anchor (on the NSE 09:15: a 1h bar
  // 09:15-10:15, the last 15:15-15:30), a 1d bar a day. The chart time of the bar that holds epoch ``t``.
  const bar = (t) => {
    const local = chartTime(t, zone);
    const size = TIMEFRAMES[timeframe];
    return local - ((((local - anchor) % size) + size) % size);
  };

  function bars() {
    const out = [];
    for (const t of [...minutes.keys()].sort((a, b) => a - b)) {
      const c = minutes.get(t);
      const b = bar(t);
      const last = out[out.length - 1];
      if (last && last.time === b) {
        last.high = Math.max(last.high, c.high); last.low = Math.min(last.low, c.low); last.close = c.close;
      } else out.push({time: b, open: c.open, high: c.high, low: c.low, close: c.close});
    }
    return out;
  }

  /** A level's LTP line at the current timeframe: the last price of each bar's span. */
  function levelData(points) {
    const out = new Map();
    for (const t of [...points.keys()].sort((a, b) => a - b)) out.set(bar(t), points.get(t));
    return [...out].map(([time, value]) => ({time, value}));
  }

  function redraw() {
    const data = bars();
    replaceData(series, data);
    lastBar = data.length ? {...data[data.length - 1]} : null;
    barCount = data.length;
    drawMarkers();
    // The levels' lines share the time scale: left at another timeframe's times they would put their
    // minutes between the bars (a 15-minute chart spaced by the minute, its bars off screen).
    for (const l of levels.values()) {
      const line = levelData(l.points);
      replaceData(l.series, line);
      l.lastTime = line.length ? line[line.length - 1].time : undefined;
    }
  }

  let drawn = 0;
  function drawMarkers() {
    // A marker goes on its candle: one whose candle has not come yet waits for it (lightweight-charts
    // cannot place a marker beyond the last bar). On a phone the labels of nearby trades write over one
    // another and over the candles; there (`narrow`) the arrows stay and "Entries and exits on the chart" says them.
    const labelled = !narrow;
    const shown = markers.filter((m) => lastBar && bar(m.epoch) <= lastBar.time).map((m) => ({
      time: bar(m.epoch), position: m.action === "entry" ? (m.side === "buy" ? "belowBar" : "aboveBar")
        : (m.side === "buy" ? "belowBar" : "aboveBar"),
      shape: m.side === "buy" ? "arrowUp" : "arrowDown", color: m.action === "entry" ? "#0b3d91" : "#8a5300",
      text: labelled ? m.label || m.text : "", id: m.id,
    })).sort((a, b) => a.time - b.time);
    markersPlugin.setMarkers(shown);
    drawn = shown.length;
  }

  /** The bar of bucket ``b`` (chart time) from the minutes it holds. */
  function barAt(b) {
    let out = null;
    const first = fromChartTime(b, zone);
    for (let t = first; t < first + TIMEFRAMES[timeframe]; t += 60) {
      const c = minutes.get(t);
      if (!c || bar(t) !== b) continue;
      if (!out) out = {time: b, open: c.open, high: c.high, low: c.low, close: c.close};
      else Object.assign(out, {high: Math.max(out.high, c.high), low: Math.min(out.low, c.low), close: c.close});
    }
    return out;
  }

  /** Set one minute's candle and update its bar in place (a full redraw only for a bar before the last). */
  function put(t, c) {
    minutes.set(t, c);
    const b = bar(t);
    if (lastBar && b < lastBar.time) { redraw(); return; }
    if (!lastBar || b > lastBar.time) barCount += 1;
    const appended = !lastBar || b > lastBar.time;
    lastBar = barAt(b);
    series.update({...lastBar});
    if (appended && markers.some((m) => bar(m.epoch) === b)) drawMarkers();
  }

  const api = {
    chart,
    /** Merge 1-minute candles ({timestamp | epoch, open, high, low, close, forming?}) and redraw. */
    addCandles(list) {
      for (const c of list) {
        if (!priced(c)) continue;
        const t = c.epoch ?? epoch(c.timestamp);
        const known = minutes.get(t);
        if (!(known && !known.forming && c.forming)) minutes.set(t, c);  // never a completed one by a partial one
      }
      redraw();
      chart.timeScale().fitContent();
    },
    /** One completed 1-minute candle from the stream (it replaces the forming one of its minute). */
    addCandle(c) {
      if (priced(c)) put(epoch(c.timestamp), c);
    },
    /** The underlying's LTP at exchange time ``t`` (a tick): the forming candle of its minute grows, until
     *  the stream's completed candle of that minute replaces it. */
    addPrice(t, price) {
      if (!Number.isFinite(price)) return;
      const m = t - (t % 60);
      const known = minutes.get(m);
      if (known && !known.forming) return;  // the minute has its completed candle already
      put(m, known ? {...known, high: Math.max(known.high, price), low: Math.min(known.low, price), close: price}
        : {open: price, high: price, low: price, close: price, forming: true});
    },
    setTimeframe(tf) { timeframe = tf; redraw(); chart.timeScale().fitContent(); },
    /** Markers: [{id, epoch, action: "entry"|"exit", side: "buy"|"sell", text}] (the trader's side of the fill). */
    setMarkers(list) { markers = list; drawMarkers(); },
    /** Stop / target / entry levels of the open positions, on the left scale (option prices, not the index).
     *  ``drawnSoFar`` (position key -> Map minute -> LTP): the LTPs a new line starts with. */
    setLevels(list, drawnSoFar = new Map()) {
      lastLevels = list;
      const keep = new Set(list.map((l) => l.key));
      for (const [key, l] of levels) if (!keep.has(key)) { chart.removeSeries(l.series); levels.delete(key); }
      for (const l of list) {
        let entry = levels.get(l.key);
        if (!entry) {
          const box = {prices: []};
          // The scale must take in the stop and target, not only the prices plotted so far.
          const s = chart.addSeries(LineSeries, {priceScaleId: levelScale, color: "#4a5868", lineWidth: 1,
            lastValueVisible: false, priceLineVisible: false, title: l.label, priceFormat: levelFormat,
            autoscaleInfoProvider: (original) => {
              const r = original();
              if (!r || !box.prices.length) return r;
              return {...r, priceRange: {minValue: Math.min(r.priceRange.minValue, ...box.prices),
                maxValue: Math.max(r.priceRange.maxValue, ...box.prices)}};
            }});
          entry = {series: s, lines: [], signature: "", box, points: new Map(drawnSoFar.get(l.key))};  // minute -> LTP
          levels.set(l.key, entry);
          if (entry.points.size) {
            const line = levelData(entry.points);
            replaceData(s, line);
            entry.lastTime = line[line.length - 1].time;
          }
        }
        const signature = JSON.stringify([l.stop, l.target, l.entry]);
        if (signature !== entry.signature) {
          for (const line of entry.lines) entry.series.removePriceLine(line);
          entry.lines = [];
          const add = (price, title, color, style) => price != null && entry.lines.push(entry.series.createPriceLine(
            {price: Number(price), color, lineWidth: 1, lineStyle: style, axisLabelVisible: true,
              title}));
          add(l.entry, `Entry ${l.short}`, "#0b3d91", LineStyle.Dotted);
          add(l.stop, `Stop ${l.short}`, "#b3261e", LineStyle.Dashed);
          add(l.target, `Target ${l.short}`, "#0a6b2f", LineStyle.Dashed);
          entry.signature = signature;
          entry.box.prices = [l.stop, l.target, l.entry].filter((v) => v != null).map(Number);
        }
        if (l.price != null && l.epoch != null) {
          entry.points.set(l.epoch - (l.epoch % 60), Number(l.price));
          const t = bar(l.epoch);
          const last = entry.lastTime;
          if (last === undefined || t >= last) {
            entry.series.update({time: t, value: Number(l.price)});
            entry.lastTime = t;
          }
        }
      }
      if (!narrow) chart.applyOptions({leftPriceScale: {visible: levels.size > 0}});
    },
    state() {
      const times = [...minutes.keys()];
      return {timeframe, candles: minutes.size, bars: barCount, lastCandle: times.length ? Math.max(...times) : null,
        lastBar: lastBar && {...lastBar, time: fromChartTime(lastBar.time, zone)},
        markers: markers.map((m) => ({...m})), drawnMarkers: drawn, levels: [...levels.keys()],
        levelTimes: Object.fromEntries([...levels].map(([key, l]) => [key, l.series.data().map((d) => fromChartTime(d.time, zone))])),
        visibleBars: chart.timeScale().getVisibleLogicalRange()};
    },
  };
  return api;
}

/** The net P&L curve: one point a minute (the last value in it wins), from equity samples and ticks; on
 *  ``zone``'s clock, its scale at the minor units of ``market``'s currency. */
export function pnlChart(el, {zone = NSE.time_zone, market = NSE} = {}) {
  // The whole session in view: a point a minute, several days of them fit only below the default least
  // bar spacing (0.5 px).
  const options = baseOptions(el);
  const chart = createChart(el, {...options, timeScale: {...options.timeScale, minBarSpacing: 0.01}});
  const places = moneyPlaces(market.currency);
  // A phone turned or a window resized: the whole curve again (autoSize keeps the bar spacing it had).
  let width = el.clientWidth;
  new ResizeObserver(() => {
    if (el.clientWidth === width) return;
    width = el.clientWidth;
    requestAnimationFrame(() => chart.timeScale().fitContent());
  }).observe(el);
  const series = chart.addSeries(BaselineSeries, {
    baseValue: {type: "price", price: 0}, topLineColor: "#0a6b2f", bottomLineColor: "#b3261e",
    topFillColor1: "rgba(10,107,47,0.18)", topFillColor2: "rgba(10,107,47,0.02)",
    bottomFillColor1: "rgba(179,38,30,0.02)", bottomFillColor2: "rgba(179,38,30,0.18)",
    priceFormat: {type: "price", precision: places, minMove: 10 ** -places},
  });
  const points = new Map();  // minute (chart time) -> {epoch, value}: the latest figure of the minute
  let last = null;
  const minute = (t) => chartTime(t - (t % 60), zone);
  // A minute's point is its latest figure: the equity sample at 09:31:00 (the figures after 09:30's last
  // tick) never replaces a tick's of 09:31:15, or a paused curve would end a minute behind the Net P&L.
  const put = (t, value) => {
    const known = points.get(minute(t));
    if (!known || t >= known.epoch) points.set(minute(t), {epoch: t, value: Number(value)});
  };
  return {
    chart,
    /** Many samples ({epoch, value}); redraws. */
    setPoints(list) {
      for (const p of list) put(p.epoch, p.value);
      const data = [...points.entries()].sort((a, b) => a[0] - b[0]).map(([time, p]) => ({time, value: p.value}));
      replaceData(series, data);
      last = data.length ? data[data.length - 1].time : null;
      chart.timeScale().fitContent();
    },
    /** One live sample: extends the curve without a redraw. */
    add(t, value) {
      const m = minute(t);
      if (last !== null && m < last) return;
      put(t, value);
      series.update({time: m, value: points.get(m).value});
      last = m;
    },
    state() { return {points: points.size, last, lastValue: last === null ? null : points.get(last).value}; },
  };
}
