"""The trader's pages. Views stay thin: the first view comes from the same snapshot functions as the
REST API (``live_trading.snapshots``); everything after that is the page's JavaScript talking to the
REST API and the user stream, as an external frontend would."""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from live_trading import market_cache, snapshots
from live_trading.api.serializers import DEFAULT_DATE
from live_trading.marketdata import instruments
from live_trading.marketdata.calendar import (
    DataCalendar,
    calendar_of,
    describe_hours,
    exchange_today,
    special_session,
    trading_days,
    trading_days_of,
)
from live_trading.models import BrokerConnection
from strategies.models import Strategy

SPEEDS = ("1", "10", "60", "300", "max")  # the speed presets a trader picks from (pages and cards)
CALENDAR_FROM = date(2020, 1, 1)  # how far back the start form knows the exchange's holidays


def home(request):
    """``/``: the dashboard for a logged-in user, the login page otherwise (same URL, no redirect)."""
    if not request.user.is_authenticated:
        return auth_views.LoginView.as_view(redirect_authenticated_user=True)(request)
    return dashboard(request)


@login_required
def dashboard(request):
    """A card per session of the user, active first (``snapshots.dashboard``, as the REST dashboard).

    Only the logged-in user's own sessions, staff included: staff powers over other users are in the admin.
    """
    state = snapshots.dashboard(request.user)
    return render(request, "pages/dashboard.html", {
        "nav": "dashboard", "dashboard": state, "cards": list(state["sessions"].values()), "speeds": SPEEDS,
    })


def strategy_underlying(graph: dict) -> str | None:
    """The underlying a stored graph's start node names (None for a graph without one)."""
    for node in graph.get("nodes") or []:
        if isinstance(node, dict) and node.get("type") == "start":
            return (node.get("config") or {}).get("underlying")
    return None


def stored_ranges(stored: list[tuple[str, date]]) -> list[dict]:
    """The days with market data as runs a session can replay: for each underlying, its stored days cut
    into runs of consecutive trading days of its calendar (an imported EURUSD history is one run, a few
    generated NSE days a run each, or one for days that follow each other). Each ``{"underlying",
    "first", "last", "days"}``, the latest run first."""
    by_underlying: dict[str, list[date]] = {}
    for underlying, day in stored:
        by_underlying.setdefault(underlying, []).append(day)
    runs = []
    for underlying, days in by_underlying.items():
        days = sorted(set(days))
        order = {d: i for i, d in enumerate(trading_days_of(underlying, days[0], days[-1]))}
        start = previous = days[0]
        for day in [*days[1:], None]:
            if day is not None and day in order and previous in order and order[day] == order[previous] + 1:
                previous = day
                continue
            runs.append({"underlying": underlying, "first": start, "last": previous,
                         "days": sum(1 for d in days if start <= d <= previous)})
            start = previous = day
    return sorted(runs, key=lambda r: (r["last"], r["underlying"]), reverse=True)


def start_calendars(first: date, last: date) -> tuple[dict, dict]:
    """What the start form knows of every underlying of the data file, and of their calendars, to say as
    a trader picks a day whether it is a trading day: ``(underlyings, calendars)``. ``underlyings``:
    name -> ``{"calendar", "synthetic", "currency", "price_decimals", "time_zone"}`` (``synthetic``: its
    days are generated when missing; otherwise they must be imported). ``calendars``: name ->
    ``{"weekdays"`` (0 = Monday), ``"holidays"`` (weekday holidays, "YYYY-MM-DD"), ``"special"`` (day ->
    its hours), ``"hours"`` (a data calendar's trading hours, with its time zone; None on the NSE)``}``.
    The NSE's holidays are those from ``first`` to ``last`` (``trading_days``, the exchange calendar)."""
    trading = set(trading_days(first, last))
    weekdays = (first + timedelta(days=n) for n in range((last - first).days + 1))
    calendars = {"NSE": {
        "weekdays": [0, 1, 2, 3, 4],
        "holidays": [d.isoformat() for d in weekdays if d.weekday() < 5 and d not in trading],
        # Special sessions (a Saturday's full day, a DR drill, a Muhurat evening) with their hours; the
        # Saturdays and Sundays among them are trading days the weekday rule above would miss.
        "special": {d.isoformat(): describe_hours(d) for d in sorted(trading) if special_session(d) is not None},
        "hours": None,
    }}
    underlyings = {}
    for name in instruments.underlying_names():
        info = instruments.get_underlying(name)
        cal = calendar_of(name)
        underlyings[name] = {"calendar": cal.name, "synthetic": info.synthetic, "currency": info.currency,
                             "price_decimals": info.price_decimals, "time_zone": cal.time_zone.key}
        if isinstance(cal, DataCalendar) and cal.name not in calendars:
            calendars[cal.name] = {"weekdays": sorted(cal.spec.weekdays),
                                   "holidays": sorted(d.isoformat() for d in cal.spec.holidays),
                                   "special": {}, "hours": cal.describe_hours(first)}
    return underlyings, calendars


@login_required
def new_session(request):
    """``/sessions/new``: the form that starts a session through ``POST /api/v2/live/start``.

    Lists the user's own strategies and broker connections, the exchange holidays that fall on weekdays
    since ``CALENDAR_FROM`` (``trading_days``, the exchange calendar), the special sessions with their
    hours (``calendar.special_session``; some on a Saturday or Sunday) and the days the server has market data for
    (``market_cache.stored_days``, as ``GET /api/market-days/``); other trading days are generated.
    """
    strategies = Strategy.objects.filter(owner=request.user).order_by("name").only("id", "name", "graph")
    brokers = BrokerConnection.objects.filter(owner=request.user).order_by("created_at")
    last = exchange_today() - timedelta(days=1)
    stored = sorted({(d.underlying, d.day) for d in market_cache.stored_days()}, key=lambda u: (u[1], u[0]))
    underlyings, calendars = start_calendars(CALENDAR_FROM, last)
    calendar = {
        "first": CALENDAR_FROM.isoformat(), "last": last.isoformat(), "max_days": settings.SIM_MAX_DAYS_PER_SESSION,
        "underlyings": underlyings, "calendars": calendars, "stored": {},
    }
    for underlying, day in stored:
        calendar["stored"].setdefault(day.isoformat(), []).append(underlying)
    return render(request, "pages/start.html", {
        "nav": "new-session",
        "strategies": [{"id": str(s.id), "name": s.name, "underlying": strategy_underlying(s.graph)} for s in strategies],
        "brokers": list(brokers),
        "default_date": DEFAULT_DATE.isoformat(),
        "last_day": last.isoformat(),
        "calendar": calendar,
        "stored_ranges": stored_ranges(stored),
        "speeds": SPEEDS,
        "max_days": settings.SIM_MAX_DAYS_PER_SESSION,
    })
