"""``/history/``: the user's finished sessions, filtered, sorted, a page at a time, and as CSV.

Only the logged-in user's own sessions, staff included (staff powers over other users are in the
admin), as on the dashboard. Every figure is the report's (``docs/reports.md``): net P&L, charges,
trades, win rate and max drawdown are read from the session row's totals, which the session's writer
stores when it ends by the same definitions (``realized_pnl`` is the net P&L of the closed trades after
charges; ``max_drawdown`` the engine's tick-exact figure, which the report recomputes from its equity
samples), so the database sorts and sums them. Each session's money is in its instrument's currency
(``currency``, ``price_decimals``): totals are per currency, never added across currencies (no
conversion is made).

Bad filter input (an unknown strategy, status or sort key, a malformed date, a range that ends before
it starts) is answered ``400`` with the message at its field, never a 500 and never a silently wider list.
"""
from __future__ import annotations

import csv
from decimal import Decimal

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Max, Sum
from django.http import HttpResponse
from django.shortcuts import render

from live_trading.engine.money import money_str
from live_trading.marketdata.calendar import exchange_today
from pages.templatetags.trader import STATUS_TEXT, Market
from sessions_app import lifecycle
from sessions_app.models import SimulationSession
from strategies.models import Strategy

PAGE_SIZE = 25
MAX_VALUE = 64  # characters of a filter's value kept (a strategy id is 36)
FINAL_STATUSES = [s for s in lifecycle.STATUSES if s in lifecycle.FINAL]  # the model's order

# sort key (as ?sort= names it, "-" before it for descending) -> the columns it orders by
SORTS = {
    "date": ("start_date", "created_at"),
    "strategy": ("strategy_name", "strategy_version"),
    "underlying": ("underlying",),
    "status": ("status",),
    "net": ("realized_pnl",),
    "charges": ("charges",),
    "trades": ("total_trades",),
    "win_rate": ("win_rate",),
    "drawdown": ("max_drawdown",),
}
DEFAULT_SORT = "-date"
CSV_FIELDS = ("session_id", "trading_date", "end_date", "strategy", "strategy_version", "underlying", "status",
              "gross_pnl", "charges", "net_pnl", "total_trades", "winning_trades", "losing_trades", "win_rate",
              "max_drawdown", "currency")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # what makes a spreadsheet read a cell as a formula (OWASP)


def cell(text: str) -> str:
    """A text value (a strategy's name, which its owner chose) safe in a CSV a spreadsheet opens: one
    starting like a formula (``=HYPERLINK(...)``, ``+cmd|...``, ``-``, ``@``, a tab or a carriage
    return) gets a leading ``'``, so the spreadsheet shows it as text instead of running it (OWASP's
    CSV injection rule). The figures are written by us as numbers and left as they are."""
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


class HistoryFilters(forms.Form):
    """The history's query string: every field optional; ``clean`` refuses a range that ends before it starts."""

    strategy = forms.ChoiceField(required=False, label="Strategy")  # the user's own strategies
    underlying = forms.ChoiceField(required=False, label="Underlying")
    date_from = forms.DateField(required=False, label="Trading date from", input_formats=["%Y-%m-%d"],
                                widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, label="Trading date to", input_formats=["%Y-%m-%d"],
                              widget=forms.DateInput(attrs={"type": "date"}))
    status = forms.ChoiceField(required=False, label="Status",
                               choices=[("", "Any"), *((s, STATUS_TEXT[s]) for s in FINAL_STATUSES)])
    sort = forms.ChoiceField(required=False, label="Sort by",
                             choices=[(f"{d}{k}", f"{d}{k}") for k in SORTS for d in ("", "-")])

    def __init__(self, data, *, user, sessions):
        # Each value cut to what any valid one needs, so a refusal quoting it stays short.
        super().__init__({key: data.get(key, "")[:MAX_VALUE] for key in data})
        # A filter given twice (?status=completed&status=stopped) would silently keep the last one.
        self.repeated = {key: len(data.getlist(key)) for key in self.fields
                         if hasattr(data, "getlist") and len(data.getlist(key)) > 1}
        strategies = Strategy.objects.filter(owner=user).order_by("name").only("id", "name")
        self.fields["strategy"].choices = [("", "Any"), *((str(s.id), s.name) for s in strategies)]
        underlyings = sessions.order_by("underlying").values_list("underlying", flat=True).distinct()
        self.fields["underlying"].choices = [("", "Any"), *((u, u) for u in underlyings)]
        for name, field in self.fields.items():
            field.error_messages["invalid_choice"] = f"{field.label}: %(value)s is not one of the choices."
            if name.startswith("date"):
                field.error_messages["invalid"] = f"{field.label}: enter a date as YYYY-MM-DD."

    def clean(self):
        data = super().clean()
        for name, given in self.repeated.items():
            self.add_error(name, f"{self.fields[name].label}: give one value, not {given}.")
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "Trading date to: before the from date; a range must end on or after its start.")
        return data

    def filter(self, sessions):
        """``sessions`` narrowed by the valid filters and in the chosen order (call after ``is_valid``)."""
        data = self.cleaned_data
        if data.get("strategy"):
            sessions = sessions.filter(strategy_id=data["strategy"])
        if data.get("underlying"):
            sessions = sessions.filter(underlying=data["underlying"])
        if data.get("status"):
            sessions = sessions.filter(status=data["status"])
        if data.get("date_from"):  # a session of several days is in the range if any of its days is
            sessions = sessions.filter(end_date__gte=data["date_from"])
        if data.get("date_to"):
            sessions = sessions.filter(start_date__lte=data["date_to"])
        return sessions.order_by(*order_by(data.get("sort") or DEFAULT_SORT))


def order_by(sort: str) -> list[str]:
    """The ORM ordering of a sort key (``"-net"`` -> ``["-realized_pnl", "-pk"]``); ties by id, so pages are
    stable."""
    descending = sort.startswith("-")
    columns = SORTS[sort.lstrip("-")]
    return [f"{'-' if descending else ''}{c}" for c in columns] + ["-pk" if descending else "pk"]


COLUMNS = (("date", "Trading date", ""), ("strategy", "Strategy", ""), ("status", "Status", ""),
           ("net", "Net P&L", "num"), ("charges", "Charges", "num"), ("trades", "Trades", "num"),
           ("win_rate", "Win rate", "num"), ("drawdown", "Max drawdown", "num"))


def sort_columns(params, sort: str) -> list[dict]:
    """The table's sortable headers: each ``{"key", "label", "kind", "url", "aria_sort"}``, ``url`` the same
    filters sorted by that column (descending first for figures, then toggling), from page 1."""
    out = []
    for key, label, kind in COLUMNS:
        current = sort.lstrip("-") == key
        descending = sort.startswith("-")
        if current:
            target = key if descending else f"-{key}"
        else:
            target = key if key in ("strategy", "status") else f"-{key}"
        query = params.copy()
        query.pop("page", None)
        query["sort"] = target
        out.append({"key": key, "label": label, "kind": kind, "url": f"?{query.urlencode()}",
                    "aria_sort": ("descending" if descending else "ascending") if current else "none"})
    return out


def finished_sessions(user):
    """The user's own ended sessions (staff included: their own only), without their final state (large,
    and not shown; the graph stays: the report names legs from it)."""
    return SimulationSession.objects.ended().filter(owner=user).defer("final_state")


def totals(sessions) -> list[dict]:
    """Sums over a filtered set, one per currency (money of different currencies is never added): a list of
    ``{"currency", "price_decimals", "market", "sessions", "net_pnl", "charges", "total_trades"}``, most
    sessions first (then by currency), money as Decimal with the most places any of its sessions has,
    ``market`` what it is shown in (``trader.Market``); empty for an empty set."""
    sums = (sessions.order_by().values("currency")
            .annotate(sessions=Count("pk"), net_pnl=Sum("realized_pnl"), charges=Sum("charges"),
                      total_trades=Sum("total_trades"), price_decimals=Max("price_decimals"))
            .order_by("-sessions", "currency"))
    out = []
    for row in sums:
        places = row["price_decimals"]
        out.append({**row, "market": Market(currency=row["currency"], price_decimals=places),
                    **{key: (row[key] or Decimal(0)).quantize(Decimal(1).scaleb(-places)) for key in ("net_pnl", "charges")}})
    return out


@login_required
def history(request):
    """``/history/``: a table of the user's finished sessions, 25 a page (``?page=``), with ``?strategy=``
    (a strategy id), ``?underlying=``, ``?date_from=`` / ``?date_to=`` (YYYY-MM-DD, the trading days),
    ``?status=`` (a final status) and ``?sort=`` (a key of ``SORTS``, ``-`` for descending); ``?format=csv``
    is ``history_csv``. A bad value is a 400 with the form showing the error at its field."""
    if request.GET.get("format") == "csv":
        return history_csv(request)
    sessions = finished_sessions(request.user)
    form = HistoryFilters(request.GET, user=request.user, sessions=sessions)
    context = {"nav": "history", "form": form, "sort": request.GET.get("sort") or DEFAULT_SORT, "sort_choices": COLUMNS}
    if not form.is_valid():
        return render(request, "pages/history.html", context, status=400)
    filtered = form.filter(sessions).select_related("strategy")
    sort = form.cleaned_data.get("sort") or DEFAULT_SORT
    page = Paginator(filtered, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context.update({
        "page": page, "totals": totals(filtered), "sort": sort, "columns": sort_columns(request.GET, sort),
        "query": query.urlencode(), "any_sessions": sessions.exists(),
        "filtered": any(form.cleaned_data.get(f) for f in ("strategy", "underlying", "date_from", "date_to", "status")),
    })
    return render(request, "pages/history.html", context)


@login_required
def history_csv(request):
    """``/history/export.csv``: every session the same filters select (all pages), in the same order, one
    row each (``CSV_FIELDS``), money as the API gives it (decimal strings with the places of the
    session's instrument: two for the NSE's rupees) and the currency it is in, a name a spreadsheet would
    run as a formula made text (``cell``), as an attachment named with today's exchange date. Bad
    filters: 400 with the field's message as text."""
    sessions = finished_sessions(request.user)
    form = HistoryFilters(request.GET, user=request.user, sessions=sessions)
    if not form.is_valid():
        lines = [f"{name}: {' '.join(errors)}" for name, errors in form.errors.items()]
        return HttpResponse("\n".join(lines) + "\n", status=400, content_type="text/plain; charset=utf-8")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="history-{exchange_today().isoformat()}.csv"'
    writer = csv.writer(response)
    writer.writerow(CSV_FIELDS)
    for s in form.filter(sessions).iterator(chunk_size=500):
        places = s.price_decimals
        writer.writerow([
            s.id, s.start_date.isoformat(), s.end_date.isoformat(), cell(s.strategy_name), s.strategy_version,
            cell(s.underlying), s.status, money_str(s.gross_pnl, places), money_str(s.charges, places),
            money_str(s.realized_pnl, places), s.total_trades, s.winning_trades, s.losing_trades,
            f"{s.win_rate:.2f}", money_str(s.max_drawdown, places), s.currency,
        ])
    return response
