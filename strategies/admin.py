from django.contrib import admin

from strategies.actions import EDITABLE_FIELDS, update_strategy
from strategies.models import Strategy


@admin.register(Strategy)
class StrategyAdmin(admin.ModelAdmin):
    list_display = ("name", "owner", "version", "updated_at")
    list_filter = ("owner",)
    search_fields = ("name", "description", "owner__username", "owner__user_id", "id")
    readonly_fields = ("id", "version", "created_at", "updated_at")
    autocomplete_fields = ("owner",)

    def save_model(self, request, obj, form, change):
        if change:
            update_strategy(obj, **{f: getattr(obj, f) for f in EDITABLE_FIELDS if f in form.changed_data})
        else:
            super().save_model(request, obj, form, change)
