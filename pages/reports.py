"""A strategy's report (``/strategies/<id>/report``) and two sessions side by side (``/sessions/compare``).

Money of different currencies is never added or subtracted: a strategy whose sessions trade in two
currencies is reported per currency (``?currency=``), and two sessions of different currencies are
compared figure by figure without a difference or a "better" of their amounts.

Every figure comes from the one report function (``live_trading.reports.sessions``: ``sessions_report``
over a strategy's finished sessions, ``session_report`` for one session, as ``GET
/api/sessions/{id}/report`` answers); this module only lays them out: the statistics as labelled rows,
the P&L per trading day as a calendar heat map, the equity curves for the page's chart (embedded with
``json_script``). Who may see what is the one ownership rule (``accounts.ownership.readable``): another
user's strategy or session is a 404; staff may look at any, as on the session page.
"""

from __future__ import annotations

import calendar
import math
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from accounts import ownership
from config.ids import is_session_id
from live_trading.reports.sessions import by_currency, session_report, sessions_report
from pages.templatetags.trader import (
    NSE,
    Market,
    common_market,
    count,
    exchange_date,
    market_json,
    market_of,
    money,
)
from sessions_app.models import SimulationSession
from strategies.models import Strategy

HEAT_LEVELS = 4  # shades of green and of red, by the day's share of the largest day's size


@dataclass(frozen=True)
class Figure:
    """One statistic as a row shows it: its key in the report's ``statistics``, label, kind and which way is better."""

    key: str
    label: str
    kind: str  # "money", "count", "percent", "ratio", "duration"
    better: str = ""  # "high", "low" or "" (neither)


FIGURES = (
    Figure("net_pnl", "Net P&L", "money", "high"),
    Figure("gross_pnl", "Gross P&L", "money", "high"),
    Figure("charges", "Charges", "money", "low"),
    Figure("trades", "Trades", "count"),
    Figure("winning_trades", "Winning trades", "count", "high"),
    Figure("losing_trades", "Losing trades", "count", "low"),
    Figure("win_rate", "Win rate", "percent", "high"),
    Figure("average_win", "Average win", "money", "high"),
    Figure("average_loss", "Average loss", "money", "high"),
    Figure("largest_win", "Largest win", "money", "high"),
    Figure("largest_loss", "Largest loss", "money", "high"),
    Figure("profit_factor", "Profit factor", "ratio", "high"),
    Figure("expectancy", "Expectancy per trade", "money", "high"),
    Figure("max_consecutive_losses", "Max consecutive losses", "count", "low"),
    Figure("max_drawdown", "Max drawdown", "money", "low"),
    Figure("max_drawdown_seconds", "Drawdown duration", "duration", "low"),
    Figure("time_in_market", "Time in market", "percent"),
    Figure("trading_days", "Trading days", "count"),
)


def duration(seconds) -> str:
    """``"6 h 10 min"``, ``"6 h"``, ``"5 min 20 s"``, ``"45 s"`` from a number of seconds (as the session
    page's Report tab writes a span, ``session-report.js`` ``span``)."""
    seconds = int(seconds or 0)
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    if h:
        return f"{h} h {m} min" if m else f"{h} h"
    if m:
        return f"{m} min {s} s" if s else f"{m} min"
    return f"{s} s"


def shown(figure: Figure, value, trades: int = 0, market: Market = NSE) -> str:
    """A statistic as text: money in ``market``'s currency, a grouped count, ``"62.50%"``, ``"1.85"``, a
    duration; "—" for none, and "— (no losses)" for the profit factor of ``trades`` (> 0) trades none of
    which lost."""
    if value is None:
        return "— (no losses)" if figure.key == "profit_factor" and trades else "—"
    return {"money": lambda v: money(v, market), "count": lambda v: count(v, market), "percent": lambda v: f"{v}%",
            "ratio": str, "duration": duration}[figure.kind](value)


def statistics_rows(*reports: dict) -> list[dict]:
    """The statistics of one or more reports as rows: ``{"key", "label", "values": [text per report],
    "raw": [value per report], "pnl": bool, "differs": bool, "better": index of the better report or None,
    "difference": text of the second minus the first (money and counts, two reports)}``. Each report's
    money is shown in its market (``session_report``'s ``session`` or ``sessions_report``'s own
    ``currency`` and ``price_decimals``; the NSE's where it says none). Amounts of two reports in
    different currencies get neither a difference nor a better one: they are not comparable without a
    conversion, which is not made."""
    markets = [market_of(r.get("session", r)) for r in reports]
    same_currency = len({m.currency for m in markets}) <= 1
    rows = []
    for figure in FIGURES:
        raw = [r["statistics"].get(figure.key) for r in reports]
        values = [shown(figure, v, r["statistics"]["trades"], m) for v, r, m in zip(raw, reports, markets, strict=True)]
        row = {"key": figure.key, "label": figure.label, "values": values, "raw": raw,
               "pnl": figure.key in ("net_pnl", "gross_pnl", "expectancy"), "differs": len(set(map(str, raw))) > 1,
               "better": None, "difference": ""}
        if len(reports) == 2 and row["differs"] and None not in raw and (same_currency or figure.kind != "money"):
            a, b = (Decimal(str(v)) for v in raw)
            if figure.better:
                row["better"] = int((b > a) == (figure.better == "high"))
            if figure.kind in ("money", "count"):
                row["difference"] = shown(figure, b - a if figure.kind == "money" else int(b - a), market=markets[0])
                if b > a:
                    row["difference"] = "+" + row["difference"]
        rows.append(row)
    return rows


def heat_months(sessions, daily: list[dict], market: Market = NSE) -> list[dict]:
    """The calendar heat map: a month (``{"label", "weeks"}``) for every month with a trading day of
    ``sessions`` (each on its market's calendar, ``SimulationSession.calendar``); a week is five cells,
    Monday to Friday, each ``None`` (outside the month) or ``{"date", "day", "net_pnl", "sessions",
    "tone", "level", "label"}``. A trading day a session replayed has its net P&L from the report's
    ``daily`` (the trades that closed that day; zero when none did) with ``market``'s price places, its
    label in ``market``'s money, ``tone`` "profit", "loss" or "flat" and ``level`` 1..4 by its size
    against the largest day's; any other day has ``net_pnl`` None and says so in its label."""
    net = {row["date"]: Decimal(row["net_pnl"]) for row in daily}
    played: dict[date, int] = {}
    for s in sessions:
        for day in s.calendar.trading_days(s.start_date, s.end_date):
            played[day] = played.get(day, 0) + 1
    days = set(played) | {date.fromisoformat(d) for d in net}
    if not days:
        return []
    largest = max((abs(v) for v in net.values()), default=Decimal(0)) or Decimal(1)
    months = sorted({(d.year, d.month) for d in days})
    out = []
    for year, month in months:
        weeks = []
        for week in calendar.Calendar(firstweekday=0).monthdatescalendar(year, month):
            cells = []
            for day in week[:5]:
                if day.month != month:
                    cells.append(None)
                    continue
                cells.append(_heat_cell(day, net, played, largest, market))
            if any(cells):
                weeks.append(cells)
        out.append({"label": date(year, month, 1).strftime("%B %Y"), "weeks": weeks})
    return out


def _heat_cell(day: date, net: dict, played: dict, largest: Decimal, market: Market) -> dict:
    key = day.isoformat()
    cell = {"date": key, "day": day.day, "sessions": played.get(day, 0), "net_pnl": None, "tone": "none", "level": 0}
    if key not in net and day not in played:
        cell["label"] = f"{exchange_date(day)}: no session"
        return cell
    value = net.get(key, Decimal(0))
    cell["net_pnl"] = f"{value:.{market.price_decimals}f}"
    cell["tone"] = "profit" if value > 0 else "loss" if value < 0 else "flat"
    cell["level"] = max(1, math.ceil(HEAT_LEVELS * abs(value) / largest)) if value else 0
    n = cell["sessions"]
    cell["label"] = f"{exchange_date(day)}: net P&L {money(value, market)}, {n} session{'s' if n != 1 else ''}"
    return cell


CHART_POINTS = 4000  # at most this many points of a curve go to the page (a day is 376)


def chart_points(curve: list[dict], limit: int = CHART_POINTS) -> list[dict]:
    """The report's ``equity_curve`` as the chart draws it: ``{"time", "equity", "drawdown"}`` per point.
    A curve longer than ``limit`` (a strategy's hundreds of sessions) is thinned to at most ``limit``
    points: in each run of consecutive points, the lowest and the highest equity, in time order, and the
    last point, so every peak and trough stays drawn; the statistics are the report's, of every point."""
    points = [{"time": p["time"], "equity": p["equity"], "drawdown": p["drawdown"]} for p in curve]
    if len(points) <= limit:
        return points
    size = math.ceil(len(points) / ((limit - 1) // 2))
    kept = []
    for start in range(0, len(points), size):
        run = points[start:start + size]
        low = min(range(len(run)), key=lambda i: Decimal(run[i]["equity"]))
        high = max(range(len(run)), key=lambda i: Decimal(run[i]["equity"]))
        kept += [run[i] for i in sorted({low, high})]
    if kept[-1] is not points[-1]:
        kept.append(points[-1])
    return kept


def finished(rows):
    """``rows`` narrowed to ended sessions, oldest trading day first, without their (large, unused) final state."""
    return rows.ended().defer("final_state").order_by("start_date", "started_at", "created_at", "pk")


@login_required
def strategy_report(request, strategy_id):
    """``/strategies/<uuid>/report``: over the strategy's finished sessions (every version), the P&L per
    trading day as a calendar heat map, the cumulative equity curve and the statistics
    (``sessions_report``), and the sessions themselves, with boxes to compare two of them. 404 for a
    strategy the user may not read.

    Sessions in different currencies (its underlying changed between versions) are reported one currency
    at a time, ``?currency=`` (default: that of its latest session), with links to the others; a currency
    none of its sessions has is a 400 naming ``currency``."""
    strategy = get_object_or_404(ownership.readable(request.user, Strategy.objects.all()), pk=strategy_id)
    every = list(finished(SimulationSession.objects.filter(strategy=strategy)))
    groups = by_currency(reversed(every))  # the latest session's currency first
    currency = request.GET.get("currency", "")
    error = None
    if "currency" in request.GET and currency not in groups:  # an empty ?currency= is as unknown as any
        error = (f"currency: {currency[:16]!r} is not a currency of this strategy's sessions "
                 f"({', '.join(groups) or 'it has none'})")
    if not currency or error:
        currency = next(iter(groups), "")
    sessions = list(reversed(groups.get(currency, [])))  # oldest first, as reported
    report = sessions_report(sessions) if sessions else None
    market = common_market(sessions)  # one currency: what the sums are in
    chart = {"align": "time", "market": market_json(market), "curves": [
        {"label": strategy.name, "time_zone": market.time_zone, "points": chart_points(report["equity_curve"])}],
    } if report else None
    currencies = [{"currency": c, "sessions": len(g), "url": f"?currency={c}", "current": c == currency}
                  for c, g in groups.items()]
    return render(request, "pages/strategy_report.html", {
        "nav": "strategies", "strategy": strategy, "sessions": list(reversed(every)), "report": report,
        "reported": len(sessions), "currency": currency, "currencies": currencies if len(groups) > 1 else [],
        "currency_error": error, "market": market,
        "rows": statistics_rows(report) if report else [],
        "months": heat_months(sessions, report["daily"], market) if report else [], "chart": chart,
        "first_day": min((s.start_date for s in every), default=None),
        "last_day": max((s.end_date for s in every), default=None),
    }, status=400 if error else 200)


class CompareRefused(Exception):
    """A compare request that names no two distinct sessions: a 400 with ``field`` and ``message``."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field, self.message = field, message


def compare_ids(params) -> tuple[str, str]:
    """The two session ids of a compare request: ``?a=&b=``, or exactly two ``?session=`` (the history's
    and the strategy report's boxes). Raises ``CompareRefused`` naming the field."""
    picked = params.getlist("session")
    if "a" not in params and "b" not in params and picked:
        if len(picked) != 2:
            raise CompareRefused("session", f"session: tick exactly two sessions to compare ({len(picked)} ticked).")
        a, b = picked
    else:
        for name in ("a", "b"):  # given twice, the last would silently win
            if len(params.getlist(name)) > 1:
                raise CompareRefused(name, f"{name}: name one session, not {len(params.getlist(name))}.")
        a, b = params.get("a", "").strip(), params.get("b", "").strip()
    for name, value in (("a", a), ("b", b)):
        if not value:
            raise CompareRefused(name, f"{name}: name a session to compare (?a=<session id>&b=<session id>).")
        if not is_session_id(value):
            raise CompareRefused(name, f"{name}: {value[:40]!r} is not a session id.")
    if a == b:
        raise CompareRefused("b", "b: the same session as a; pick two different sessions.")
    return a, b


@login_required
def compare(request):
    """``/sessions/compare?a=<id>&b=<id>``: two sessions' statistics in two columns (differences marked,
    the better figure of the two where one is better), both equity curves on one chart by time since
    each session's first market open, both strategies' names and versions. Ticked boxes
    (``?session=<id>&session=<id>``) redirect here. Missing, malformed or equal ids: 400 with the
    message; a session the user may not read or that does not exist: 404."""
    try:
        a, b = compare_ids(request.GET)
    except CompareRefused as refused:
        return render(request, "pages/compare.html", {"nav": "history", "error": refused}, status=400)
    if "a" not in request.GET:
        return redirect(f"{reverse('session-compare')}?a={a}&b={b}")
    visible = ownership.readable(request.user, SimulationSession.objects.all())
    found = {s.id: s for s in visible.filter(pk__in=[a, b])}
    if len(found) != 2:
        raise Http404("no such session")
    sessions = [found[a], found[b]]
    reports = [session_report(s) for s in sessions]
    chart = {"align": "elapsed", "market": market_json(common_market(sessions)), "curves": [
        {"label": f"{side} · {s.strategy_name} v{s.strategy_version} · {exchange_date(s.start_date)}",
         "time_zone": s.time_zone, "points": chart_points(r["equity_curve"])}
        for side, s, r in zip("AB", sessions, reports, strict=True)]}
    return render(request, "pages/compare.html", {
        "nav": "history", "sessions": sessions, "reports": reports, "rows": statistics_rows(*reports), "chart": chart,
        "currencies": sorted({s.currency for s in sessions}),
    })
