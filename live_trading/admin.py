from django.contrib import admin
from django.template.response import TemplateResponse

from live_trading import operations
from live_trading.actions import may_stop_all
from live_trading.models import BrokerConnection


@admin.register(BrokerConnection)
class BrokerConnectionAdmin(admin.ModelAdmin):
    list_display = ("account_id", "broker_type", "owner", "starting_capital", "costs", "created_at")
    list_filter = ("broker_type", "fee_model")
    fieldsets = (
        (None, {"fields": ("owner", "name", ("broker_type", "account_id"), "starting_capital")}),
        ("Fees and slippage", {
            "description": "What each order pays and how far market orders slip; sessions keep the values they "
                           "started with.",
            "fields": ("fee_model", "fee_per_order", ("fee_percent", "fee_cap"), "slippage_ticks")}),
    )

    @admin.display(description="Fees and slippage")
    def costs(self, obj):
        return obj.costs_text()
    search_fields = ("account_id", "name", "owner__username", "owner__user_id", "id")
    autocomplete_fields = ("owner",)


def operations_view(request):
    """``/admin/operations/``: what the server is doing now (``live_trading.operations``), for any staff
    member; the emergency stop-all is offered to those who may use it (``actions.may_stop_all``)."""
    context = {
        **admin.site.each_context(request),
        "title": "Operations",
        "processes": operations.sessions_by_process(),
        "here": operations.this_process(),
        "pool": operations.database_pool(),
        "cache": operations.market_data_cache(),
        "stops": operations.last_stops(),
        "may_stop_all": may_stop_all(request.user),
    }
    return TemplateResponse(request, "admin/operations.html", context)


operations_admin_view = admin.site.admin_view(operations_view)
