"""The operators' admin of sessions and what they produced.

A session's page shows what the trader's pages show of it (live totals and open positions from the
snapshot functions of the REST API, ``live_trading.snapshots``) and offers the API's controls
(``live_trading.actions``); everything a session produced (node events, position changes, trades,
equity samples) and the stop-all audit is history: viewable, never added, changed or deleted here.
"""

from __future__ import annotations

import json

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from live_trading import snapshots
from live_trading.actions import (
    CONTROL_OTHERS_PERMISSION,
    STOP_ALL_PERMISSION,
    SessionNotRunning,
    may_control,
    may_stop_all,
    pause_session,
    resume_session,
    stop_all_sessions,
    stop_session,
    stop_sessions,
)
from live_trading.engine.events import progress
from live_trading.engine.money import money_str
from pages.templatetags.trader import (
    charges_paid,
    exchange_date,
    money,
    pnl_class,
    progress_text,
    speed_text,
    status_text,
)
from sessions_app import lifecycle
from sessions_app.models import (
    EmergencyStop,
    EquitySample,
    NodeEvent,
    PositionChange,
    SimulationSession,
    Trade,
)


def pretty_json(value, summary: str):
    """``value`` as indented JSON inside a closed ``<details>`` whose summary line is ``summary``."""
    if value is None:
        return "—"
    text = json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False)
    return format_html('<details class="json-field"><summary>{}</summary><pre>{}</pre></details>', summary, text)


def pace(session: SimulationSession) -> str:
    """The speed as an operator reads it: ``"max"`` for 0 (as fast as possible), else ``"60×"``."""
    return speed_text(session.speed_multiplier)


def mode_and_pace(session: SimulationSession) -> str:
    """``"Live · 60×"``, ``"Live · max"`` (a live simulation run unpaced) or ``"Backtest · max"``."""
    mode = "Backtest" if session.mode == SimulationSession.Mode.BACKTEST else "Live"
    return f"{mode} · {pace(session)}"


TRADE_MONEY = ("entry_price", "exit_price", "pnl", "charges", "net_pnl")
SAMPLE_MONEY = ("realized_pnl", "unrealized_pnl", "charges", "low_pnl", "high_pnl", "drop")


def status_badge(status: str):
    return format_html('<span class="status-badge status-{}">{}</span>', status, status_text(status))


def money_cell(value, session):
    """Money in ``session``'s currency at its minor units (``money``: "₹1,234.50", "$12.30"), coloured by
    sign (right-aligned by the column's class)."""
    return format_html('<span class="money {}">{}</span>', pnl_class(value), money(value, session))


class RunFilter(admin.SimpleListFilter):
    """Mode and pace together, as they are: a live simulation may run paced or as fast as possible."""

    title = "run"
    parameter_name = "run"
    RUNS = {
        "live_paced": ("Live, paced", {"mode": SimulationSession.Mode.LIVE_SIMULATION, "speed_multiplier__gt": 0}),
        "live_max": ("Live, max speed", {"mode": SimulationSession.Mode.LIVE_SIMULATION, "speed_multiplier": 0}),
        "backtest": ("Backtest", {"mode": SimulationSession.Mode.BACKTEST}),
    }

    def lookups(self, request, model_admin):
        return [(key, label) for key, (label, _) in self.RUNS.items()]

    def queryset(self, request, queryset):
        run = self.RUNS.get(self.value())
        return queryset if run is None else queryset.filter(**run[1])


class HistoryAdmin(admin.ModelAdmin):
    """What happened: viewable with the view permission, never added, changed or deleted (by anyone)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class HistoryInline(admin.TabularInline):
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def _session_money(model, *names: str):
    """A class decorator: for each money column ``name`` of a session's row (a trade, an equity sample), an
    admin method ``<name>_`` that shows it as the wire does, with its session's ``price_decimals`` ("181.60",
    not the column's eight places; "1.07164" for an EURUSD session)."""

    def decorate(cls):
        for name in names:
            field = model._meta.get_field(name)

            def show(self, obj, name=name):
                value = getattr(obj, name)
                return None if value is None else money_str(value, obj.session.price_decimals)

            show.__name__ = f"{name}_"
            setattr(cls, show.__name__, admin.display(description=field.verbose_name, ordering=name)(show))
        return cls

    return decorate


@_session_money(Trade, "entry_price", "exit_price", "net_pnl")
class TradeInline(HistoryInline):
    model = Trade
    fields = ("trade_id", "symbol", "side", "quantity", "entry_price_", "exit_price_", "net_pnl_", "exit_reason")
    readonly_fields = fields
    classes = ("collapse",)
    verbose_name_plural = "Trades"


@admin.register(SimulationSession)
class SimulationSessionAdmin(admin.ModelAdmin):
    list_display = ("session", "owner", "strategy_label", "days", "speed", "status_cell", "net_pnl", "progress")
    list_display_links = ("session",)
    list_filter = ("status", RunFilter, "underlying", ("owner", admin.RelatedOnlyFieldListFilter), "start_date")
    list_select_related = ("owner",)
    search_fields = ("id", "strategy_name", "owner__username", "owner__user_id", "status_reason", "imported_from")
    date_hierarchy = "created_at"
    list_per_page = 50
    fieldsets = (
        (None, {"fields": (("trader_page", "owner"), ("strategy_name", "strategy_version", "strategy"),
                           ("underlying", "days"), ("mode_label", "pace"), ("status_cell", "status_reason"),
                           "progress_detail")}),
        ("Final results", {"fields": (("final_net_pnl", "final_gross_pnl", "final_charges"),
                                      ("total_trades", "winning_trades", "losing_trades", "win_rate_percent"),
                                      "final_max_drawdown", "daily_pnl")}),
        ("Run", {"classes": ("collapse",), "fields": (
            ("broker_connection", "seed"), "costs", ("created_at", "started_at", "ended_at"), "status_changed_at",
            ("stop_requested_by", "stop_requested_at"), ("runner", "heartbeat_at", "lease_expires_at"), "last_event_id",
            ("imported_from", "import_digest"))}),
        ("Stored JSON", {"fields": ("graph_json", "final_state_json")}),
    )
    inlines = [TradeInline]
    actions = ["stop_selected"]

    def get_fieldsets(self, request, obj=None):
        # A session still going has no final results yet: its page shows the live ones instead.
        if obj is not None and obj.is_active:
            return [fieldset for fieldset in self.fieldsets if fieldset[0] != "Final results"]
        return self.fieldsets

    def get_readonly_fields(self, request, obj=None):
        return [name for _, options in self.fieldsets for row in options["fields"]
                for name in (row if isinstance(row, tuple) else (row,))]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        # The list needs neither JSON document; a session's own page reads them.
        match = request.resolver_match
        listing = match is not None and (match.url_name or "").endswith("_changelist")
        return queryset.defer("graph", "final_state") if listing else queryset

    # -- columns and fields ----------------------------------------------------------------------

    @admin.display(description="Session", ordering="id")
    def session(self, obj):
        return obj.id

    @admin.display(description="Strategy", ordering="strategy_name")
    def strategy_label(self, obj):
        return obj.strategy_name

    @admin.display(description="Trading day", ordering="start_date")
    def days(self, obj):
        if obj.end_date == obj.start_date:
            return exchange_date(obj.start_date)
        return f"{exchange_date(obj.start_date)[:6]} – {exchange_date(obj.end_date)}"

    @admin.display(description="Speed", ordering="speed_multiplier")
    def speed(self, obj):
        return mode_and_pace(obj)

    @admin.display(description="Speed")
    def pace(self, obj):
        return pace(obj)

    @admin.display(description="Fees and slippage")
    def costs(self, obj):
        return obj.costs_text()

    @admin.display(description="Net P&L")
    def final_net_pnl(self, obj):
        return money_cell(obj.realized_pnl, obj)

    @admin.display(description="Gross P&L")
    def final_gross_pnl(self, obj):
        return money_cell(obj.gross_pnl, obj)

    @admin.display(description="Charges")
    def final_charges(self, obj):
        return money(obj.charges, obj)

    @admin.display(description="Win rate")
    def win_rate_percent(self, obj):
        return f"{obj.win_rate}%"

    @admin.display(description="Max drawdown")
    def final_max_drawdown(self, obj):
        return money(obj.max_drawdown, obj)

    @admin.display(description="P&L per trading day")
    def daily_pnl(self, obj):
        """Each day's net P&L (marked to market at its close), from the session's stored samples
        (``snapshots.row_summary``, as ``GET /api/sessions/{id}/`` gives them); for a session of one day
        its net P&L says it all."""
        if obj.start_date == obj.end_date:
            return "— (one trading day)"
        days = snapshots.row_summary(obj).get("daily_pnl", [])
        if not days:
            return "—"
        return format_html('<ul class="daily-pnl">{}</ul>', format_html_join(
            "", '<li data-day="{}"><span class="daily-date">{}</span> {}</li>',
            ((d["date"], exchange_date(d["date"], obj), money_cell(d["pnl"], obj)) for d in days)))

    @admin.display(description="Mode")
    def mode_label(self, obj):
        if obj.mode == SimulationSession.Mode.BACKTEST:
            return "Backtest (as fast as possible)"
        return "Live simulation, as fast as possible" if obj.speed_multiplier == 0 else "Live simulation (paced)"

    @admin.display(description="Status", ordering="status")
    def status_cell(self, obj):
        return status_badge(obj.status)

    @admin.display(description="Net P&L")
    def net_pnl(self, obj):
        return money_cell(_net_pnl(obj), obj)

    @admin.display(description="Progress")
    def progress(self, obj):
        return f"{progress(obj.ticks_processed, obj.total_ticks)['progress_percentage']:.0f}%"

    @admin.display(description="Progress")
    def progress_detail(self, obj):
        return progress_text(progress(obj.ticks_processed, obj.total_ticks), obj)

    @admin.display(description="Trader's page")
    def trader_page(self, obj):
        url = reverse("session", args=[obj.id])
        return format_html('<a href="{}">{}</a>', url, url)

    @admin.display(description="Graph (the strategy as it ran)")
    def graph_json(self, obj):
        nodes = len((obj.graph or {}).get("nodes", [])) if isinstance(obj.graph, dict) else 0
        return pretty_json(obj.graph, f"{nodes} nodes: show the JSON")

    @admin.display(description="Final state")
    def final_state_json(self, obj):
        if obj.final_state is None:
            return "— (written when the session ends)"
        return pretty_json(obj.final_state, "the dashboard state at the end: show the JSON")

    # -- the page of one session ------------------------------------------------------------------

    def change_view(self, request, object_id, form_url="", extra_context=None):
        session = self.get_object(request, object_id)
        extra = {"show_save": False, "show_save_and_continue": False, "show_save_and_add_another": False,
                 "title": "Simulation session"}
        if session is not None:
            state = snapshots.session_state(session) if _is_running(session) else None
            extra.update({
                "live": state and _live_panel(state),
                "may_control": may_control(request.user, session.owner),
                "trader_url": reverse("session", args=[session.id]),
            })
        return super().change_view(request, object_id, form_url, {**extra, **(extra_context or {})})

    def get_urls(self):
        def view(fn, name):
            return self.admin_site.admin_view(fn), f"sessions_app_simulationsession_{name}"

        stop_all, stop_all_name = view(self.stop_all_view, "stop_all")
        control, control_name = view(self.control_view, "control")
        return [
            path("stop-all/", stop_all, name=stop_all_name),
            path("<path:object_id>/control/<str:action>/", control, name=control_name),
            *super().get_urls(),
        ]

    def control_view(self, request, object_id, action):
        """Stop (after a confirmation page), pause or resume one session, as the API does."""
        session = self.get_object(request, object_id)
        if session is None or action not in ("stop", "pause", "resume"):
            raise Http404("no such session or action")
        if not self.has_view_permission(request, session) or not may_control(request.user, session.owner):
            raise PermissionDenied(f"controlling another user's sessions needs the {CONTROL_OTHERS_PERMISSION} permission")
        back = reverse("admin:sessions_app_simulationsession_change", args=[session.pk])
        if request.method != "POST":
            if action != "stop":
                return redirect(back)
            context = {**self.admin_site.each_context(request), "session": session, "back": back,
                       "opts": self.opts, "title": f"Stop {session.id}?"}
            return TemplateResponse(request, "admin/sessions_app/simulationsession/stop_one.html", context)
        act = {"stop": stop_session, "pause": pause_session, "resume": resume_session}[action]
        try:
            session = act(session, request.user)
        except SessionNotRunning as exc:
            self.message_user(request, f"Could not {action} {session.id}: {exc}.", messages.ERROR)
        else:
            self.message_user(request, f"{session.id} is {session.status}.", messages.SUCCESS)
        return redirect(back)

    # -- the list's actions -----------------------------------------------------------------------

    # Stopping is a change to the sessions: the action is offered only with the change permission.
    @admin.action(description="Stop the selected sessions", permissions=["change"])
    def stop_selected(self, request, queryset):
        stopped = stop_sessions(list(queryset.active()), request.user)
        self.message_user(request, f"Stopped {len(stopped)} session(s).", messages.SUCCESS)

    def has_add_permission(self, request):
        return False  # sessions are started through the API, which also starts their engine

    def has_view_permission(self, request, obj=None):
        # An operator who may stop everything may see what is running (where the button is, and where
        # the stop leads), even without the model's own view permission.
        return super().has_view_permission(request, obj) or may_stop_all(request.user)

    def has_delete_permission(self, request, obj=None):
        # A session still going is stopped, never deleted from under its thread.
        return super().has_delete_permission(request, obj) and not (obj is not None and obj.is_active)

    def changelist_view(self, request, extra_context=None):
        context = {"may_stop_all": may_stop_all(request.user), "title": "Simulation sessions"}
        return super().changelist_view(request, {**context, **(extra_context or {})})

    def stop_all_view(self, request):
        """The emergency stop: every active session of every user, after a confirmation; recorded."""
        if not may_stop_all(request.user):
            raise PermissionDenied(f"stopping every session needs the {STOP_ALL_PERMISSION} permission")
        active = SimulationSession.objects.active()
        if request.method == "POST":
            record, _ = stop_all_sessions(request.user, EmergencyStop.Via.ADMIN)
            self.message_user(request, f"Emergency stop: {record.sessions_stopped} session(s) of "
                                       f"{record.users_affected} user(s) stopped (recorded as {record}).",
                              messages.WARNING)
            return redirect("admin:sessions_app_simulationsession_changelist")
        context = {**self.admin_site.each_context(request), "active": active.count(),
                   "users": active.values("owner").distinct().count(), "title": "Emergency stop of every active session"}
        return TemplateResponse(request, "admin/sessions_app/simulationsession/stop_all.html", context)


def _is_running(session: SimulationSession) -> bool:
    return session.status in (lifecycle.RUNNING, lifecycle.PAUSED)


def _net_pnl(session: SimulationSession):
    """Net P&L as the trader's card shows it: realized + unrealized (``gps_data.pnl.total_pnl`` of
    ``snapshots.session_state``) while the session runs; once it ended, its row's final net P&L."""
    if _is_running(session):
        return snapshots.session_state(session)["data"]["gps_data"]["pnl"]["total_pnl"]
    return session.realized_pnl


def _live_panel(state: dict) -> dict:
    """What a running session's page shows from ``snapshots.session_state``: totals and open positions."""
    data = state["data"]
    summary = data["summary"] or {}
    pnl = data["gps_data"].get("pnl") or {}
    return {
        "fresh": data["is_fresh"],
        "timestamp": data["timestamp"],
        "progress": state["progress"],
        "figures": [
            ("Net P&L", "net_pnl", pnl.get("total_pnl"), True),
            ("Realized", "realized_pnl", pnl.get("realized_pnl"), True),
            ("Unrealized", "unrealized_pnl", pnl.get("unrealized_pnl"), True),
            ("Gross (closed trades)", "gross_pnl", summary.get("gross_pnl"), True),
            ("Charges", "charges", charges_paid(state), False),
        ],
        "trades": summary.get("total_trades", 0),
        "positions": data["gps_data"]["positions"],
    }


@admin.register(EmergencyStop)
class EmergencyStopAdmin(HistoryAdmin):
    """The stop-all audit trail: readable by those with the view permission, changeable by nobody."""

    list_display = ("stopped_at", "stopped_by_username", "via", "sessions_stopped", "users_affected")
    list_filter = ("via",)
    search_fields = ("stopped_by_username", "session_ids", "user_ids")
    readonly_fields = [f.name for f in EmergencyStop._meta.fields]

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) or may_stop_all(request.user)  # their own trail


@admin.register(NodeEvent)
class NodeEventAdmin(HistoryAdmin):
    list_display = ("execution_id", "session", "seq", "node_id", "node_type", "event_type", "timestamp")
    list_filter = ("event_type", "node_type")
    search_fields = ("execution_id", "parent_execution_id", "node_id", "node_name", "session__id")
    list_select_related = ("session",)
    readonly_fields = [f.name for f in NodeEvent._meta.fields if f.name != "payload"] + ["payload_json"]

    @admin.display(description="Payload")
    def payload_json(self, obj):
        return pretty_json(obj.payload, "the execution as the engine reported it: show the JSON")


@admin.register(PositionChange)
class PositionChangeAdmin(HistoryAdmin):
    list_display = ("position_id", "re_entry_num", "action", "session", "seq", "timestamp")
    list_filter = ("action",)
    search_fields = ("position_id", "execution_id", "session__id")
    list_select_related = ("session",)
    readonly_fields = [f.name for f in PositionChange._meta.fields if f.name != "payload"] + ["payload_json"]

    @admin.display(description="Payload")
    def payload_json(self, obj):
        return pretty_json(obj.payload, "the position after the change: show the JSON")


@admin.register(Trade)
@_session_money(Trade, *TRADE_MONEY)
class TradeAdmin(HistoryAdmin):
    list_display = ("trade_id", "session", "symbol", "side", "quantity", "entry_price_", "exit_price_", "net_pnl_",
                    "exit_reason", "exit_time")
    list_filter = ("exit_reason", "side", "status")
    search_fields = ("trade_id", "position_id", "entry_node_id", "symbol", "session__id")
    list_select_related = ("session",)
    readonly_fields = ([f"{f.name}_" if f.name in TRADE_MONEY else f.name for f in Trade._meta.fields]
                       + ["entry_flow_ids", "exit_flow_ids"])


@admin.register(EquitySample)
@_session_money(EquitySample, *SAMPLE_MONEY)
class EquitySampleAdmin(HistoryAdmin):
    """Sessions' P&L curves, as their threads wrote them (a sample per exchange minute): read-only."""

    list_display = ("session", "timestamp", "net_pnl_", "realized_pnl_", "unrealized_pnl_", "charges_", "low_pnl_",
                    "high_pnl_", "drop_")
    search_fields = ("session__id",)
    list_select_related = ("session",)
    readonly_fields = [f"{f.name}_" if f.name in SAMPLE_MONEY else f.name for f in EquitySample._meta.fields]

    @admin.display(description="net pnl")
    def net_pnl_(self, obj):
        return money_str(obj.net_pnl, obj.session.price_decimals)
