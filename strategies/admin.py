"""The strategies in the admin: every write goes through ``strategies.actions`` (versions recorded, a
strategy a running session uses never deleted); the versions are history, listed read-only."""

import json

from django import forms
from django.contrib import admin, messages
from django.http import HttpResponseRedirect

from strategies.actions import (
    EDITABLE_FIELDS,
    StrategyInUse,
    create_strategy,
    delete_strategy,
    update_strategy,
)
from strategies.models import Strategy, StrategyVersion
from strategies.serializers import check_graph


class GraphTextField(forms.JSONField):
    """The graph as JSON text; what cannot be written as UTF-8 (a lone surrogate sent as ``\\ud800``)
    is shown escaped, so the page that says it is refused can be sent at all."""

    def prepare_value(self, value):
        text = super().prepare_value(value)
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return json.dumps(value, ensure_ascii=True, cls=self.encoder)
        return text


class StrategyForm(forms.ModelForm):
    graph = GraphTextField(help_text=Strategy._meta.get_field("graph").help_text)

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


class VersionInline(admin.TabularInline):
    """Every saved graph of the strategy, newest first: history, so nothing here can be changed."""

    model = StrategyVersion
    fields = ("version", "name", "created_at")
    readonly_fields = fields
    ordering = ("-version",)
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Strategy)
class StrategyAdmin(admin.ModelAdmin):
    form = StrategyForm
    inlines = [VersionInline]
    list_display = ("name", "owner", "version", "updated_at")
    list_filter = ("owner",)
    search_fields = ("name", "description", "owner__username", "owner__user_id", "id")
    readonly_fields = ("id", "version", "created_at", "updated_at")
    autocomplete_fields = ("owner",)

    def get_readonly_fields(self, request, obj=None):
        """The owner is chosen when adding; the actions never move a strategy to another user."""
        return self.readonly_fields + (("owner",) if obj is not None else ())

    def save_model(self, request, obj, form, change):
        if change:
            changes = {f: getattr(obj, f) for f in EDITABLE_FIELDS if f in form.changed_data}
            if changes:  # a save that changes nothing is no new version
                update_strategy(obj, **changes)
            return
        # The form has checked the graph and the (owner, name) constraint.
        created = create_strategy(obj.owner, name=obj.name, graph=obj.graph, description=obj.description)
        obj.pk, obj.version, obj.created_at, obj.updated_at = (
            created.pk, created.version, created.created_at, created.updated_at)
        obj._state.adding = False

    def delete_view(self, request, object_id, extra_context=None):
        """Refuse, with the actions' message naming the session, to delete a strategy a session still uses."""
        try:
            return super().delete_view(request, object_id, extra_context)
        except StrategyInUse as e:
            self.message_user(request, str(e), messages.ERROR)
            return HttpResponseRedirect(request.path.rsplit("/delete/", 1)[0] + "/change/")

    def delete_model(self, request, obj):
        delete_strategy(obj)

    def delete_queryset(self, request, queryset):
        """A bulk delete deletes one at a time through the actions; those in use are kept and named."""
        for strategy in queryset:
            try:
                delete_strategy(strategy)
            except StrategyInUse as e:
                self.message_user(request, f"{strategy.name}: {e}", messages.ERROR)
