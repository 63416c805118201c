from django.contrib import admin

from sessions_app.models import NodeEvent, SimulationSession, Trade


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

    def has_add_permission(self, request):
        return False  # sessions are started through the API, which also starts their engine


@admin.register(NodeEvent)
class NodeEventAdmin(admin.ModelAdmin):
    list_display = ("execution_id", "session", "seq", "node_id", "node_type", "event_type", "timestamp")
    list_filter = ("event_type", "node_type")
    search_fields = ("execution_id", "parent_execution_id", "node_id", "node_name", "session__id")
    list_select_related = ("session",)
    readonly_fields = [f.name for f in NodeEvent._meta.fields]

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
