"""A run's report: every statistic of its closed trades and its equity curve, from one function.

Pure Python (no Django): ``report(runs)`` takes one or more runs (a session's trades and equity
samples) and returns a JSON-ready dict. The pages, the REST API (``GET /api/sessions/{id}/report``)
and ``manage.py simulate --json`` all show what it returns, through ``live_trading.reports.sessions``
for stored sessions. docs/reports.md defines each figure with its formula; in short:

- A **trade** is a closed trade row (``TradeRecord``): a partial exit is a trade of its own, so a
  position closed in two steps is two trades. This is the engine's count (``Summary.total_trades``,
  the dashboard, the trade list): each row is a decision to close with its own price and P&L, and one
  meaning of "trade" everywhere keeps the report's count equal to the trade list's length.
- A trade **wins** when its net P&L (gross - charges) is above zero; otherwise (zero included) it
  **loses**, as ``Summary`` counts them.
- Money is integer minor units inside (paise for the rupee) and strings with the instrument's places out
  (``places``: two for rupees, five for EURUSD). A report adds the money of one currency only: the
  caller reports sessions of different currencies apart (``live_trading.reports.sessions``). A mean (average win and loss,
  expectancy) is rounded to whole paise half away from zero; ratios and percentages to two places.
- Days and hours are each run's market's (``Run.calendar``): its trading days cut the run into days (an
  FX_24X5 day runs from 17:00 to 17:00 New York), its session windows count trading seconds (22,500 on a
  regular NSE day, 86,400 on an FX day) and its time zone gives the ISO times.
- The **equity curve** is net P&L (realized net of charges + unrealized) at each equity sample (every
  exchange minute's close, and the run's end), starting at 0 at the first day's market open; several
  runs are chained, each starting where the previous one ended. **Drawdown** is the fall from the
  highest equity so far (which starts at 0). The **maximum drawdown** is the engine's, tick by tick
  (``Summary.max_drawdown``), recomputed exactly from each sample's range of the net P&L since the one
  before (its low, high and deepest fall within); where it stood and how long it lasted are read on the
  curve (to the minute): from the first of its largest falls at the minute closes. Its **duration**
  counts trading seconds (within a day the exchange seconds between two points; across days only the
  seconds since the later day's open).
- **Time in market** is the share of the trading seconds (each replayed day from its market open to
  its last sample) during which at least one position was open, from the trades' entry and exit times,
  counted in trading seconds too (a position held across a DR drill's gap is not in the market during
  the gap).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from live_trading.engine.money import iso, rupees_str
from live_trading.marketdata.calendar import NSE, TradingCalendar, exchange_date

_CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class Run:
    """One run (a session) to report on.

    ``trades``: its closed trades in closing order, each a ``TradeRecord`` or the dict its
    ``to_dict()`` gives (money as two-place strings, times ISO 8601). ``equity``: its equity samples in
    time order, each an engine ``EquitySample``, or a tuple ``(epoch seconds, net P&L, low, high, drop)``
    in paise (``EquitySample``'s meanings: the net P&L at the sample and the range of the net P&L the
    engine tracked since the sample before). A pair ``(epoch seconds, net P&L)`` or a mapping with
    ``time`` (epoch seconds or ISO 8601) and ``net_pnl`` (rupee string) has no range: low = high = net,
    no drop, so the maximum drawdown is then the one at minute closes.

    ``calendar``: its market's calendar (``calendar.market_calendar(underlying)``; the NSE's by default):
    its trading days cut the run into days (``TradingCalendar.day_of``), its windows count its trading
    seconds, its time zone gives the ISO times of its points.
    """

    trades: Sequence[Any] = ()
    equity: Sequence[Any] = field(default_factory=tuple)
    calendar: TradingCalendar = NSE


@dataclass(frozen=True, slots=True)
class _Trade:
    position_id: str
    entry_node_id: str
    exit_reason: str
    entry_time: int
    exit_time: int
    gross: int  # paise
    charges: int
    net: int
    exit_day: date  # the trading day of its exit, on its run's calendar


@dataclass(frozen=True, slots=True)
class _Point:
    """A point of the (chained) equity curve: epoch seconds, equity, the range since the point before
    (low, high, drop; minor units), the trading day it shows and the calendar of its run."""

    ts: int
    equity: int
    low: int
    high: int
    drop: int
    day: date
    calendar: TradingCalendar


def report(runs: Iterable[Run], names: Mapping[str, str] | None = None, places: int = 2) -> dict:
    """Every statistic of ``runs`` (in the order given; usually one session, or a strategy's sessions
    oldest first), JSON-ready.

    Returns ``{"statistics", "by_exit_reason", "by_leg", "daily", "equity_curve"}``:

    - ``statistics``: ``gross_pnl``, ``charges``, ``net_pnl`` (rupee strings, closed trades);
      ``trades``, ``winning_trades``, ``losing_trades`` (counts); ``win_rate`` (percent string);
      ``average_win``, ``average_loss``, ``largest_win``, ``largest_loss``, ``expectancy`` (rupee
      strings; null with no trade of that kind); ``profit_factor`` (two-place string; null when no
      trade lost money); ``max_consecutive_losses`` (count); ``max_drawdown`` (rupee string, >= 0: the
      tick-level figure, ``_max_drawdown``), ``max_drawdown_seconds`` (trading seconds),
      ``max_drawdown_from`` and ``max_drawdown_to`` (ISO 8601 on the market's clock, of the peak and of the
      recovery or the end, on the curve of minute closes; null when that curve has no drawdown),
      ``max_drawdown_recovered`` (bool); ``time_in_market`` (percent string), ``seconds_in_market``,
      ``trading_seconds``; ``trading_days`` (days with samples).
    - ``by_exit_reason``: per exit reason, most trades first: ``{"exit_reason", "trades",
      "winning_trades", "gross_pnl", "charges", "net_pnl"}``.
    - ``by_leg``: per entry node (the leg), in order of first trade: ``{"entry_node_id", "name",
      "trades", "winning_trades", "gross_pnl", "charges", "net_pnl"}``; ``name`` from ``names``
      (entry node id -> name, as ``leg_names(graph)`` gives them), "" when it has none.
    - ``daily``: per trading day (of the runs' markets) with a trade's exit or an equity sample, in date
      order: ``{"date",
      "trades", "gross_pnl", "charges", "net_pnl", "cumulative_net_pnl", "mtm_pnl"}``: the closed trades'
      sums, and ``mtm_pnl`` the day's P&L marked to market, the change of the equity curve over the day
      (realized net of charges plus the change in unrealized, from the last close to this one), which
      adds up over the days to the curve's end (the session's total once everything is closed).
    - ``equity_curve``: ``{"time", "timestamp", "equity", "drawdown"}`` per point (epoch seconds, ISO
      8601 on the run's market clock, money strings; ``drawdown`` <= 0, the fall below the peak so far). Each run
      starts with a point at its first day's market open; a chart wants times ascending, which holds
      when the runs do not overlap in time.

    Raises ``ValueError`` for a trade or sample it cannot read (a missing key, a malformed amount).
    """
    runs = list(runs)
    trades: list[_Trade] = []
    seconds_in_market = 0
    for run in runs:
        run_trades = [_trade(t, places, run.calendar) for t in run.trades]
        trades.extend(run_trades)
        seconds_in_market += _union_seconds(
            piece for t in run_trades for piece in _on_trading_clock(t.entry_time, t.exit_time, run.calendar))
    points = _chain([([_sample(s, places) for s in run.equity], run.calendar) for run in runs])
    drawdown = {"max_drawdown": rupees_str(_max_drawdown(points), places), **_drawdown_timing(points)}
    trading_seconds, days = _trading_seconds(runs, places)

    wins = [t.net for t in trades if t.net > 0]
    losses = [t.net for t in trades if t.net <= 0]
    net = sum(t.net for t in trades)
    lost = -sum(losses)
    statistics = {
        "gross_pnl": rupees_str(sum(t.gross for t in trades), places),
        "charges": rupees_str(sum(t.charges for t in trades), places),
        "net_pnl": rupees_str(net, places),
        "trades": len(trades),
        "winning_trades": len(wins),
        "losing_trades": len(losses),
        "win_rate": _percent(len(wins), len(trades)),
        "average_win": _mean(wins, places),
        "average_loss": _mean(losses, places),
        "largest_win": rupees_str(max(wins), places) if wins else None,
        "largest_loss": rupees_str(min(losses), places) if losses else None,
        "profit_factor": _ratio(sum(wins), lost) if lost > 0 else None,
        "expectancy": _mean([t.net for t in trades], places),
        "max_consecutive_losses": _longest_run(t.net <= 0 for t in trades),
        **drawdown,
        "time_in_market": _percent(seconds_in_market, trading_seconds),
        "seconds_in_market": seconds_in_market,
        "trading_seconds": trading_seconds,
        "trading_days": days,
    }
    return {
        "statistics": statistics,
        "by_exit_reason": sorted(_groups(trades, lambda t: t.exit_reason, "exit_reason", places),
                                 key=lambda g: -g["trades"]),
        "by_leg": [{"entry_node_id": g["entry_node_id"], "name": (names or {}).get(g["entry_node_id"], ""),
                    **{k: v for k, v in g.items() if k != "entry_node_id"}}
                   for g in _groups(trades, lambda t: t.entry_node_id, "entry_node_id", places)],
        "daily": _daily(trades, points, places),
        "equity_curve": [{"time": p.ts, "timestamp": iso(p.ts, p.calendar.time_zone), "equity": rupees_str(p.equity, places),
                          "drawdown": rupees_str(dd, places)} for p, dd in _with_drawdown(points)],
    }


# -- reading the inputs -----------------------------------------------------------------------------

def leg_names(graph: Any) -> dict[str, str]:
    """Each node's name by id in a strategy graph's JSON (docs/strategies.md), for ``report``'s legs;
    a node without a name is called by its id. Anything that is not a graph gives ``{}``."""
    nodes = graph.get("nodes") if isinstance(graph, Mapping) else None
    if not isinstance(nodes, list):
        return {}
    return {str(n["id"]): str(n.get("name") or n["id"]) for n in nodes if isinstance(n, Mapping) and "id" in n}


def paise(amount: Any, places: int = 2) -> int:
    """An amount (``Decimal``, a string with ``places`` places, an int) as integer minor units (paise for
    ``places`` 2); ``ValueError`` if it is not a whole number of them."""
    try:
        value = Decimal(str(amount)).scaleb(places)
    except ArithmeticError as exc:
        raise ValueError(f"not an amount of money: {amount!r}") from exc
    if value != value.to_integral_value():
        raise ValueError(f"not a whole number of paise: {amount!r}")
    return int(value)


def _epoch(value: Any) -> int:
    if isinstance(value, int):
        return value
    return int(datetime.fromisoformat(value).timestamp())


def _trade(t: Any, places: int = 2, calendar: TradingCalendar = NSE) -> _Trade:
    get = t.__getitem__ if isinstance(t, Mapping) else lambda name: getattr(t, name)
    try:
        exit_time = _epoch(get("exit_time"))
        return _Trade(position_id=str(get("position_id")), entry_node_id=str(get("entry_node_id")),
                      exit_reason=str(get("exit_reason") or ""), entry_time=_epoch(get("entry_time")),
                      exit_time=exit_time, gross=paise(get("pnl"), places), charges=paise(get("charges"), places),
                      net=paise(get("net_pnl"), places), exit_day=calendar.day_of(exit_time))
    except (KeyError, AttributeError, TypeError) as exc:
        raise ValueError(f"not a trade: {exc}") from exc


def _sample(s: Any, places: int = 2) -> tuple[int, int, int, int, int]:
    """A sample as (epoch seconds, net P&L, low, high, drop), paise."""
    if hasattr(s, "net_pnl_paise"):
        return s.ts, s.net_pnl_paise, s.low_pnl_paise, s.high_pnl_paise, s.drop_paise
    if isinstance(s, Mapping):
        ts, net = _epoch(s["time"]), paise(s["net_pnl"], places)
        return ts, net, net, net, 0
    if len(s) == 2:
        ts, net = s
        return int(ts), int(net), int(net), int(net), 0
    ts, net, low, high, drop = s
    return int(ts), int(net), int(low), int(high), int(drop)


# -- the figures ------------------------------------------------------------------------------------

def _round(x: Decimal) -> int:
    return int(x.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _mean(values: list[int], places: int = 2) -> str | None:
    """The mean of amounts in minor units, rounded to a whole one half away from zero, as a decimal string
    with ``places`` places (paise as rupees on the NSE)."""
    return rupees_str(_round(Decimal(sum(values)) / len(values)), places) if values else None


def _ratio(numerator: int, denominator: int) -> str:
    return str((Decimal(numerator) / Decimal(denominator)).quantize(_CENT, rounding=ROUND_HALF_UP))


def _percent(part: int, whole: int) -> str:
    return _ratio(100 * part, whole) if whole else "0.00"


def _longest_run(flags: Iterable[bool]) -> int:
    longest = current = 0
    for flag in flags:
        current = current + 1 if flag else 0
        longest = max(longest, current)
    return longest


def _union_seconds(intervals: Iterable[tuple[int, int]]) -> int:
    """The length of the union of ``[start, end]`` intervals, seconds."""
    total = 0
    reach = None
    for start, end in sorted(intervals):
        if reach is None or start > reach:
            total += end - start
            reach = end
        elif end > reach:
            total += end - reach
            reach = end
    return total


def _trading_clock(ts: int, calendar: TradingCalendar) -> int:
    """Epoch second ``ts`` on a clock that runs only in trading seconds within a day: its trading day's
    ordinal times 86,400 plus the day's trading seconds before it (``TradingCalendar.elapsed_seconds``), so
    the gap between two session windows (a DR drill's) takes no time, and neither does a night or a
    weekend. (A day's windows hold at most 86,400 seconds, so days do not overlap on this clock.)"""
    day = calendar.day_of(ts)
    return day.toordinal() * 86_400 + calendar.elapsed_seconds(ts, day)


def _on_trading_clock(entry: int, exit_: int, calendar: TradingCalendar = NSE) -> list[tuple[int, int]]:
    """``[entry, exit_]`` (epoch seconds) as intervals of ``_trading_clock``: one within a day; across days
    the rest of the entry's day, every trading day between whole, and the exit's day up to it."""
    first, last = calendar.day_of(entry), calendar.day_of(exit_)
    if first == last:
        return [(_trading_clock(entry, calendar), _trading_clock(exit_, calendar))]
    days = [first, *calendar.trading_days(first + timedelta(days=1), last - timedelta(days=1)), last]
    pieces = [(d.toordinal() * 86_400, d.toordinal() * 86_400 + calendar.session_seconds(d)) for d in days]
    pieces[0] = (_trading_clock(entry, calendar), pieces[0][1])
    pieces[-1] = (pieces[-1][0], _trading_clock(exit_, calendar))
    return pieces


def _groups(trades: list[_Trade], key, name: str, places: int = 2) -> list[dict]:
    groups: dict[str, list[_Trade]] = {}
    for t in trades:
        groups.setdefault(key(t), []).append(t)
    return [{name: k, **_totals(members, places)} for k, members in groups.items()]


def _totals(trades: list[_Trade], places: int = 2) -> dict:
    return {"trades": len(trades), "winning_trades": sum(1 for t in trades if t.net > 0),
            "gross_pnl": rupees_str(sum(t.gross for t in trades), places),
            "charges": rupees_str(sum(t.charges for t in trades), places),
            "net_pnl": rupees_str(sum(t.net for t in trades), places)}


def marked_days(points: Iterable[tuple[int, int]], day_of: Callable[[int], date] = exchange_date,
                ) -> list[tuple[date, int]]:
    """The P&L of each day marked to market: the change of the equity curve over the day.

    ``points``: the curve as (epoch seconds, net P&L in minor units) in time order, starting from 0 (the
    first day's open). Each change counts on the day of the point that shows it (``day_of(ts)``: the
    exchange (IST) date by default, which is the NSE's trading day; pass the run's calendar's ``day_of``
    for another market), so a day's figure is its last point less the day before's last one (the days add
    up to the curve's end) and only each day's last point matters: a session's equity samples, or just the
    last sample of each day, give the same. Returns ``[(date, minor units)]`` in date order, a day for
    each date with a point. This is the report's ``daily[].mtm_pnl`` and a summary's ``daily_pnl`` rebuilt
    from stored samples (``live_trading.snapshots.row_summary``, which passes the instrument's trading
    day); the engine's running ``daily_pnl`` marks the same closes."""
    return _marked((day_of(ts), equity) for ts, equity in points)


def _marked(points: Iterable[tuple[date, int]]) -> list[tuple[date, int]]:
    """``marked_days`` of a curve whose points already name their day: (day, net P&L) each."""
    marked: dict = {}
    before = 0
    for day, equity in points:
        marked[day] = marked.get(day, 0) + equity - before
        before = equity
    return sorted(marked.items())


def _daily(trades: list[_Trade], points: list[_Point], places: int = 2) -> list[dict]:
    days: dict = {}
    for t in trades:
        days.setdefault(t.exit_day, []).append(t)
    marked = dict(_marked((p.day, p.equity) for p in points))  # each point names its day on its run's calendar
    rows = []
    cumulative = 0
    for day in sorted(days.keys() | marked.keys()):
        cumulative += sum(t.net for t in days.get(day, ()))
        totals = _totals(days.get(day, []), places)
        del totals["winning_trades"]
        rows.append({"date": day.isoformat(), **totals, "cumulative_net_pnl": rupees_str(cumulative, places),
                     "mtm_pnl": rupees_str(marked.get(day, 0), places)})
    return rows


# -- the equity curve -------------------------------------------------------------------------------

def _chain(runs: list[tuple[list[tuple[int, int, int, int, int]], TradingCalendar]]) -> list[_Point]:
    """The runs' samples (each run's with its calendar) as one curve: each run opens with a point at its
    first day's market open and adds the equity the runs before it ended with to its equity, low and
    high (a fall is the same whatever the base). A sample belongs to the trading day of the second
    before it (it holds the figures after every tick before it: the one at an FX day's 17:00 close is that
    day's, not the next one's, which opens at the same second)."""
    curve: list[_Point] = []
    base = 0
    for samples, calendar in runs:
        if not samples:
            continue
        first = calendar.day_of(samples[0][0] - 1)
        curve.append(_Point(calendar.open_ts(first), base, base, base, 0, first, calendar))
        curve.extend(_Point(ts, base + net, base + low, base + high, drop, calendar.day_of(ts - 1), calendar)
                     for ts, net, low, high, drop in samples)
        base += samples[-1][1]
    return curve


def _trading_gap(earlier: _Point, later: _Point) -> int:
    """Trading seconds from ``earlier`` to ``later``: the day's trading seconds between them within a
    day, else those since the later one's market open (the night, the days between and the gap between
    two session windows are not trading)."""
    calendar, day = later.calendar, later.day
    if earlier.day == day and earlier.calendar is calendar:
        # runs that overlap in time chain back to an earlier time
        return max(0, calendar.elapsed_seconds(later.ts, day) - calendar.elapsed_seconds(earlier.ts, day))
    return calendar.elapsed_seconds(later.ts, day)


def _with_drawdown(points: list[_Point]) -> list[tuple[_Point, int]]:
    peak = 0
    out = []
    for p in points:
        peak = max(peak, p.equity)
        out.append((p, p.equity - peak))
    return out


def _max_drawdown(points: list[_Point]) -> int:
    """The largest fall of the net P&L below its peak so far (which starts at 0), tick by tick, in
    paise, from each point's range since the one before: the fall within its ticks (``drop``) or from
    the peak before them to their ``low``; then the peak takes their ``high``. A peak in an earlier
    stretch is in the peak before, and a peak within the stretch is in its ``drop``, so this is the
    maximum over every tick the engine tracked of (peak so far - net P&L): ``Summary.max_drawdown``."""
    peak = deepest = 0
    for p in points:
        deepest = max(deepest, p.drop, peak - p.low)
        peak = max(peak, p.high)
    return deepest


def _drawdown_timing(curve: list[_Point]) -> dict:
    """Where the largest fall of the curve (at its points: the minute closes) below its peak so far
    started (the peak's last point at that level), and how long (trading seconds) the curve took to
    climb back to it, or until its end."""
    peak, peak_at = 0, 0
    deepest, deepest_from = 0, None
    for i, point in enumerate(curve):
        equity = point.equity
        if equity >= peak:
            peak, peak_at = equity, i
        elif peak - equity > deepest:
            deepest, deepest_from = peak - equity, peak_at
    if deepest_from is None:
        return {"max_drawdown_seconds": 0, "max_drawdown_from": None, "max_drawdown_to": None,
                "max_drawdown_recovered": False}
    level = curve[deepest_from].equity
    seconds, end, recovered = 0, deepest_from, False
    for i in range(deepest_from + 1, len(curve)):
        seconds += _trading_gap(curve[i - 1], curve[i])
        end = i
        if curve[i].equity >= level:
            recovered = True
            break
    start, stop = curve[deepest_from], curve[end]
    return {"max_drawdown_seconds": seconds,
            "max_drawdown_from": iso(start.ts, start.calendar.time_zone),
            "max_drawdown_to": iso(stop.ts, stop.calendar.time_zone),
            "max_drawdown_recovered": recovered}


def _trading_seconds(runs: list[Run], places: int = 2) -> tuple[int, int]:
    """Trading seconds the runs replayed (each day from its market open to its last sample, in its market's
    windows: a sample belongs to the day of the second before it) and the number of such days."""
    total = days = 0
    for run in runs:
        calendar = run.calendar
        last_of_day: dict = {}
        for s in run.equity:
            ts = _sample(s, places)[0]
            last_of_day[calendar.day_of(ts - 1)] = ts
        for day, ts in last_of_day.items():
            total += calendar.elapsed_seconds(ts, day)
        days += len(last_of_day)
    return total, days
