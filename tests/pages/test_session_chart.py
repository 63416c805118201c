"""The session page's candle chart module (static/livesim/session-chart.js) in a real Chromium, served by
the real server under the page's own CSP, fed the calls the session page makes for its stream events in an
order the stream really produces. Each test creates a chart of its own on the page and paints it: the
order of events is the test's, not a race between a session and the browser."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from sessions_app.models import SimulationSession
from tests.stream.conftest import setup_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

IST = timezone(timedelta(hours=5, minutes=30))
IST_SHIFT = 19800  # the chart's times are epochs shifted to read as IST (session-chart.js)

# A chart of its own on the page, driven by `steps`: [method, ...arguments] of the candle chart's API, or
# ["frame"] (let the browser paint) or ["width", px] (resize its box). Returns what the chart's series hold
# and every uncaught error the page had meanwhile (lightweight-charts throws while painting, in a frame), and
# the bars without a place on the time scale.
DRIVE = """async ({steps, width}) => {
  const {candleChart} = await import("/static/livesim/session-chart.js");
  const errors = [];
  const record = (event) => { if (!String(event.message).includes("ResizeObserver loop")) errors.push(String(event.message)); };
  window.addEventListener("error", record);
  const box = document.createElement("div");
  box.style.cssText = `width: ${width}px; height: 320px`;
  document.body.append(box);
  const frame = () => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
  const page = JSON.parse(document.getElementById("session-page").textContent);
  const chart = candleChart(box, {timeframes: page.timeframes, anchor: page.timeframe_anchor});
  for (const [name, ...args] of steps) {
    if (name === "frame") await frame();
    else if (name === "width") box.style.width = `${args[0]}px`;
    else chart[name](...args);
  }
  await frame();
  await frame();
  window.removeEventListener("error", record);
  const [candles, ...lines] = chart.chart.panes()[0].getSeries();
  const times = chart.chart.timeScale();
  return {errors, bars: candles.data().map(({time, open, high, low, close}) => ({time, open, high, low, close})),
          lines: lines.map((s) => s.data().map(({time, value}) => ({time, value}))),
          // Whether each bar has its place on the time scale (a time it lost has no coordinate).
          unplaced: candles.data().filter(({time}) => times.timeToCoordinate(time) === null).map(({time}) => time)};
}"""


def at(hhmmss: str) -> int:
    """Epoch seconds of an exchange time on the session's day."""
    return int(datetime.fromisoformat(f"2024-10-29T{hhmmss}").replace(tzinfo=IST).timestamp())


def candle(hhmm: str, o, h, low, c, **extra) -> dict:
    return {"timestamp": f"2024-10-29T{hhmm}:00+05:30", "open": o, "high": h, "low": low, "close": c, **extra}


def history(*candles) -> list[dict]:
    """The candles endpoint's answer as loadHistory hands it over (the last one still forming)."""
    return [
        {**c, "epoch": at(c["timestamp"][11:19]), "forming": i == len(candles) - 1}
        for i, c in enumerate(candles)
    ]


def bar(hhmm: str, o, h, low, c) -> dict:
    return {"time": at(f"{hhmm}:00") + IST_SHIFT, "open": o, "high": h, "low": low, "close": c}


def level(price: str, hhmmss: str) -> dict:
    """An open short 24500 CE's stop / target / entry and its LTP at a tick (session.js levelsOf)."""
    return {
        "key": "entry-ce-pos1#0",
        "label": "24500 CE",
        "short": "24500 CE",
        "entry": "100.40",
        "stop": "150.60",
        "target": "50.20",
        "price": price,
        "epoch": at(hhmmss),
    }


@pytest.fixture
def chart_page(open_page, alice):
    """A session page (of a session that never ran: nothing of its own moves on it) to drive a chart on."""
    strategy, _ = setup_for(alice)
    session = SimulationSession.objects.create(
        owner=alice,
        strategy=strategy,
        strategy_name=strategy.name,
        strategy_version=strategy.version,
        graph=strategy.graph,
        start_date="2024-10-29",
        end_date="2024-10-29",
        underlying="NIFTY",
        status="failed",
        status_reason="could not start",
        total_ticks=22500,
    )
    return open_page(alice, f"/sessions/{session.id}")


def test_a_completed_candle_after_the_next_minutes_tick_keeps_the_bars_in_place(chart_page):
    """The stream's completed candle of a minute often comes after the first tick of the next one: the
    chart redraws with the very times it had. lightweight-charts 5.2.1 then keeps a stale list of time
    points while the candles are its only series; once a position's level line shares the scale, the next
    such redraw dropped the bars' time points and the paint threw "Value is null" (CI, the charges test)."""
    steps = [
        [
            "addCandles",
            history(
                candle("09:15", 24500, 24510, 24495, 24505),
                candle("09:16", 24505, 24512, 24501, 24508),
                candle("09:17", 24508, 24509, 24502, 24503),
            ),
        ],
        ["frame"],
        ["addPrice", at("09:18:05"), 24504],  # 09:18's first tick, before 09:17's completed candle
        ["addCandle", candle("09:17", 24508, 24511, 24502, 24506)],
        ["frame"],
        ["setLevels", [level("100.40", "09:18:30")]],  # the straddle's CE leg opens
        ["addPrice", at("09:19:02"), 24507],
        ["setLevels", [level("101.60", "09:19:02")]],
        ["addCandle", candle("09:18", 24504, 24506, 24500, 24503)],  # after 09:19's tick again
        ["frame"],
        ["width", 390],  # a phone turned: the level line moves to an overlay scale (removed, added again)
        ["frame"],
        ["addPrice", at("09:20:01"), 24509],
        ["setLevels", [level("99.80", "09:20:01")]],
        ["addCandle", candle("09:19", 24507, 24508, 24505, 24506)],
    ]
    drawn = chart_page.evaluate(DRIVE, {"steps": steps, "width": 900})
    assert drawn["errors"] == []
    assert drawn["unplaced"] == []
    assert drawn["bars"] == [
        bar("09:15", 24500, 24510, 24495, 24505),
        bar("09:16", 24505, 24512, 24501, 24508),
        bar("09:17", 24508, 24511, 24502, 24506),
        bar("09:18", 24504, 24506, 24500, 24503),
        bar("09:19", 24507, 24508, 24505, 24506),
        bar("09:20", 24509, 24509, 24509, 24509),
    ]
    # On the overlay scale at 390 px, the level line keeps the LTPs it had drawn.
    assert drawn["lines"] == [
        [
            {"time": at("09:18:00") + IST_SHIFT, "value": 100.4},
            {"time": at("09:19:00") + IST_SHIFT, "value": 101.6},
            {"time": at("09:20:00") + IST_SHIFT, "value": 99.8},
        ]
    ]


def test_the_history_loaded_again_with_a_level_line_keeps_the_bars_in_place(chart_page):
    """A pause (or a reconnection) loads the candles again: the same minutes, the forming one now the
    server's. With a position's level line on the scale the bars stay where they are, at each timeframe."""
    first = history(candle("09:15", 24500, 24510, 24495, 24505), candle("09:16", 24505, 24512, 24501, 24508))
    again = history(
        candle("09:15", 24500, 24510, 24495, 24505),
        candle("09:16", 24505, 24512, 24501, 24508),
        candle("09:17", 24508, 24509, 24502, 24504),
    )
    steps = [
        ["addCandles", first],
        ["addPrice", at("09:17:10"), 24503],
        ["addCandles", first],  # the initial_state of a reconnection: the same two minutes
        ["frame"],
        ["setLevels", [level("100.40", "09:17:20")]],
        ["frame"],
        ["addCandles", again],  # paused: the server's candles
        ["frame"],
        ["setTimeframe", "5m"],
        ["frame"],
        ["setTimeframe", "1m"],
    ]
    drawn = chart_page.evaluate(DRIVE, {"steps": steps, "width": 900})
    assert drawn["errors"] == []
    assert drawn["unplaced"] == []
    assert drawn["bars"] == [
        bar("09:15", 24500, 24510, 24495, 24505),
        bar("09:16", 24505, 24512, 24501, 24508),
        bar("09:17", 24508, 24509, 24502, 24504),
    ]
    assert drawn["lines"] == [[{"time": at("09:17:00") + IST_SHIFT, "value": 100.4}]]


def test_hour_half_hour_and_day_bars_are_cut_from_the_0915_open(chart_page):
    """The page offers every timeframe of the market data and cuts its bars on the server's grid: 1h bars
    09:15-10:15 and 10:15-11:15 (not 09:00 and 10:00), 30m bars from 09:15 and 09:45, one 1d bar."""
    options = chart_page.locator("#timeframe-select option")
    assert options.evaluate_all("os => os.map((o) => o.value)") == [
        "1m", "3m", "5m", "10m", "15m", "30m", "1h", "1d"]
    minutes = history(
        candle("09:15", 100, 101, 99, 100.5),
        candle("09:44", 100.5, 104, 100, 103),
        candle("09:45", 103, 103.5, 102, 102.5),
        candle("10:14", 102.5, 102.5, 98, 99),
        candle("10:15", 99, 100, 97, 97.5),
        candle("10:20", 97.5, 105, 97, 104),
    )
    drawn = {}
    for tf in ("1h", "30m", "1d"):
        drawn[tf] = chart_page.evaluate(DRIVE, {"steps": [["addCandles", minutes], ["setTimeframe", tf]], "width": 900})
        assert drawn[tf]["errors"] == []
    assert drawn["1h"]["bars"] == [bar("09:15", 100, 104, 98, 99), bar("10:15", 99, 105, 97, 104)]
    assert drawn["30m"]["bars"] == [
        bar("09:15", 100, 104, 99, 103),
        bar("09:45", 103, 103.5, 98, 99),
        bar("10:15", 99, 105, 97, 104),
    ]
    assert drawn["1d"]["bars"] == [bar("09:15", 100, 105, 97, 104)]


def test_a_price_that_is_not_a_number_leaves_the_bars_as_they_were(chart_page):
    """An underlying LTP or a candle field that is null or not a number (a bad feed) is not a price: the
    bars stay as they were, never a bar without a close (which the chart cannot paint)."""
    steps = [
        ["addCandles", history(candle("09:15", 24500, 24510, 24495, 24505))],
        ["addPrice", at("09:15:40"), 24507],
        ["addPrice", at("09:15:50"), None],
        ["addCandle", candle("09:16", 24507, None, 24501, 24503)],
        [
            "addCandles",
            [{**candle("09:17", 24503, 24504, 24502, None), "epoch": at("09:17:00"), "forming": True}],
        ],
    ]
    drawn = chart_page.evaluate(DRIVE, {"steps": steps, "width": 900})
    assert drawn["errors"] == []
    assert drawn["unplaced"] == []
    assert drawn["bars"] == [bar("09:15", 24500, 24510, 24495, 24507)]


# A P&L chart of its own on the page: the samples a history load gives, then live ticks' figures, then the
# samples again (a pause loads them again); returns the curve's points.
PNL = """async ({samples, live, again}) => {
  const {pnlChart} = await import("/static/livesim/session-chart.js");
  const box = document.createElement("div");
  box.style.cssText = "width: 600px; height: 260px";
  document.body.append(box);
  const chart = pnlChart(box);
  chart.setPoints(samples);
  for (const [t, value] of live) chart.add(t, value);
  chart.setPoints(again);
  return chart.chart.panes()[0].getSeries()[0].data().map(({time, value}) => ({time, value}));
}"""


def test_a_paused_pnl_curve_ends_at_the_last_ticks_figure(chart_page):
    """The equity sample at 09:31:00 holds the figures after 09:30's last tick; paused at 09:31:15, the
    curve's last point is the tick's net P&L (the figure the page shows), not the sample's."""
    samples = [{"epoch": at("09:30:00"), "value": "12.50"}]
    again = [*samples, {"epoch": at("09:31:00"), "value": "-9.26"}]
    live = [[at("09:30:10"), 5.0], [at("09:31:15"), -33.01]]
    curve = chart_page.evaluate(PNL, {"samples": samples, "live": live, "again": again})
    assert curve == [
        {"time": at("09:30:00") + IST_SHIFT, "value": 5.0},
        {"time": at("09:31:00") + IST_SHIFT, "value": -33.01},
    ]
