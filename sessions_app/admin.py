from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path

from live_trading.actions import STOP_ALL_PERMISSION, may_stop_all, stop_all_sessions, stop_sessions
from sessions_app.models import (
    EmergencyStop,
    EquitySample,
    NodeEvent,
    PositionChange,
    SimulationSession,
    Trade,
)


class TradeInline(admin.TabularInline):
    model = Trade
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ("seq", "trade_id", "symbol", "side", "quantity", "entry_price", "exit_price", "pnl", "net_pnl", "exit_reason")
    readonly_fields = fields


@admin.register(SimulationSession)
class SimulationSessionAdmin(admin.ModelAdmin):
    list_display = (
        "id", "owner", "strategy_name", "underlying", "start_date", "mode", "speed_multiplier", "status",
        "ticks_processed", "total_ticks", "realized_pnl", "total_trades", "created_at",
    )
    list_filter = ("status", "mode", "underlying", "owner", "start_date")
    search_fields = ("id", "strategy_name", "owner__username", "owner__user_id", "status_reason")
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in SimulationSession._meta.fields]
    inlines = [TradeInline]
    actions = ["stop_selected"]

    def has_add_permission(self, request):
        return False  # sessions are started through the API, which also starts their engine

    # Stopping is a change to the sessions: the action is offered only with the change permission.
    @admin.action(description="Stop the selected sessions", permissions=["change"])
    def stop_selected(self, request, queryset):
        stopped = stop_sessions(list(queryset.active()), request.user)
        self.message_user(request, f"Stopped {len(stopped)} session(s).", messages.SUCCESS)

    def get_urls(self):
        stop_all = path("stop-all/", self.admin_site.admin_view(self.stop_all_view),
                        name="sessions_app_simulationsession_stop_all")
        return [stop_all, *super().get_urls()]

    def has_view_permission(self, request, obj=None):
        # An operator who may stop everything may see what is running (where the button is, and where
        # the stop leads), even without the model's own view permission.
        from live_trading.actions import may_stop_all

        return super().has_view_permission(request, obj) or may_stop_all(request.user)

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {**(extra_context or {}), "may_stop_all": may_stop_all(request.user)})

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
                   "users": active.values("owner").distinct().count(), "title": "Emergency stop all"}
        return TemplateResponse(request, "admin/sessions_app/simulationsession/stop_all.html", context)


@admin.register(EmergencyStop)
class EmergencyStopAdmin(admin.ModelAdmin):
    """The stop-all audit trail: readable by those with the view permission, changeable by nobody."""

    list_display = ("stopped_at", "stopped_by_username", "via", "sessions_stopped", "users_affected")
    list_filter = ("via",)
    search_fields = ("stopped_by_username", "session_ids", "user_ids")
    readonly_fields = [f.name for f in EmergencyStop._meta.fields]

    def has_view_permission(self, request, obj=None):
        from live_trading.actions import may_stop_all

        return super().has_view_permission(request, obj) or may_stop_all(request.user)  # their own trail

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(NodeEvent)
class NodeEventAdmin(admin.ModelAdmin):
    list_display = ("execution_id", "session", "seq", "node_id", "node_type", "event_type", "timestamp")
    list_filter = ("event_type", "node_type")
    search_fields = ("execution_id", "parent_execution_id", "node_id", "node_name", "session__id")
    list_select_related = ("session",)
    readonly_fields = [f.name for f in NodeEvent._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(PositionChange)
class PositionChangeAdmin(admin.ModelAdmin):
    list_display = ("position_id", "re_entry_num", "action", "session", "seq", "timestamp")
    list_filter = ("action",)
    search_fields = ("position_id", "execution_id", "session__id")
    list_select_related = ("session",)
    readonly_fields = [f.name for f in PositionChange._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(Trade)
class TradeAdmin(admin.ModelAdmin):
    list_display = (
        "trade_id", "session", "symbol", "side", "quantity", "entry_price", "exit_price", "pnl", "charges",
        "net_pnl", "exit_reason", "exit_time",
    )
    list_filter = ("exit_reason", "side", "status")
    search_fields = ("trade_id", "position_id", "symbol", "session__id")
    list_select_related = ("session",)
    readonly_fields = [f.name for f in Trade._meta.fields] + ["entry_flow_ids", "exit_flow_ids"]

    def has_add_permission(self, request):
        return False


@admin.register(EquitySample)
class EquitySampleAdmin(admin.ModelAdmin):
    """Sessions' P&L curves, as their threads wrote them (a sample per exchange minute): read-only."""

    list_display = ("session", "timestamp", "net_pnl", "realized_pnl", "unrealized_pnl", "charges")
    search_fields = ("session__id",)
    list_select_related = ("session",)
    readonly_fields = [f.name for f in EquitySample._meta.fields]

    def has_add_permission(self, request):
        return False
