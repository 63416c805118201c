from django.contrib import admin

from live_trading.models import BrokerConnection


@admin.register(BrokerConnection)
class BrokerConnectionAdmin(admin.ModelAdmin):
    list_display = ("account_id", "broker_type", "owner", "starting_capital", "created_at")
    list_filter = ("broker_type",)
    search_fields = ("account_id", "name", "owner__username", "owner__user_id", "id")
    autocomplete_fields = ("owner",)
