from django import forms
from django.contrib import admin

from strategies.actions import EDITABLE_FIELDS, update_strategy
from strategies.models import Strategy
from strategies.serializers import check_graph


class StrategyForm(forms.ModelForm):
    class Meta:
        model = Strategy
        fields = ("owner", "name", "description", "graph")

    def clean_graph(self):
        """The same checks as the API: size limits and the validator's path-named errors."""
        graph = self.cleaned_data["graph"]
        errors = check_graph(graph)
        if errors:
            raise forms.ValidationError(errors)
        return graph


@admin.register(Strategy)
class StrategyAdmin(admin.ModelAdmin):
    form = StrategyForm
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
