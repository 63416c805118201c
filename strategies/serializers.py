"""Strategies on the wire: what the API reads (strict, graph validated) and what it renders."""

import json
import math

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from config.api import StrictSerializerMixin
from strategies.graph.json_schema import graph_json_schema
from strategies.graph.validate import validate_graph
from strategies.models import Strategy, StrategyVersion

# Limits on one graph, far above any strategy a person draws, low enough that validating and storing one
# stays cheap. The request body as a whole is capped by Django's DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB).
MAX_GRAPH_NODES = 200
MAX_GRAPH_BYTES = 256 * 1024
MAX_DESCRIPTION_LENGTH = 10_000


def unstorable(value) -> str | None:
    """Return a message if ``value`` holds what PostgreSQL's jsonb cannot store: a string with NUL or lone
    surrogates, or a number that is infinite or NaN (the admin's JSON text reads ``1e9999`` as infinity)."""
    todo = [value]
    while todo:
        v = todo.pop()
        if isinstance(v, dict):
            todo.extend(v.keys())
            todo.extend(v.values())
        elif isinstance(v, list):
            todo.extend(v)
        elif isinstance(v, float) and not math.isfinite(v):
            return "must not contain infinite or NaN numbers"
        elif isinstance(v, str):
            if "\x00" in v:
                return "must not contain NUL characters"
            try:
                v.encode("utf-8")
            except UnicodeEncodeError:
                return "must not contain unpaired surrogate characters"
    return None


def check_graph(graph) -> list[str]:
    """Return every problem with ``graph`` as ``"path: message"`` strings; empty means it may be stored."""
    if isinstance(graph, dict) and isinstance(graph.get("nodes"), list) and len(graph["nodes"]) > MAX_GRAPH_NODES:
        return [f"nodes: at most {MAX_GRAPH_NODES} nodes, got {len(graph['nodes'])}"]
    size = len(json.dumps(graph, separators=(",", ":")).encode())
    if size > MAX_GRAPH_BYTES:
        return [f"is {size} bytes as compact JSON; at most {MAX_GRAPH_BYTES} are accepted"]
    problem = unstorable(graph)
    if problem:
        return [problem]
    return [str(error) for error in validate_graph(graph)]


@extend_schema_field(graph_json_schema(MAX_GRAPH_NODES))
class GraphField(serializers.JSONField):
    """A strategy graph (format version 1, docs/strategies.md), validated in full."""

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", "The node graph, format version 1 (docs/strategies.md).")
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        data = super().to_internal_value(data)
        errors = check_graph(data)
        if errors:
            raise serializers.ValidationError(errors)
        return data


class StrategySerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.user_id", read_only=True, help_text="The owner's `user_id`.")
    graph = serializers.JSONField(help_text="The node graph, format version 1 (docs/strategies.md).")

    class Meta:
        model = Strategy
        fields = ("id", "owner", "name", "description", "version", "graph", "created_at", "updated_at")
        read_only_fields = fields


class StrategyVersionSummarySerializer(serializers.ModelSerializer):
    """A version as listed: its number, the name it had, when it was saved."""

    class Meta:
        model = StrategyVersion
        fields = ("version", "name", "created_at")
        read_only_fields = fields


class StrategyVersionSerializer(serializers.ModelSerializer):
    """A version in full: the graph as it was saved at that version."""

    graph = serializers.JSONField(help_text="The node graph as saved at this version (docs/strategies.md).")

    class Meta:
        model = StrategyVersion
        fields = ("version", "name", "description", "graph", "created_at")
        read_only_fields = fields


class StrategyInputSerializer(StrictSerializerMixin, serializers.Serializer):
    """Create (POST), replace (PUT) or change (PATCH, ``partial=True``) a strategy.

    ``name`` and ``description`` default to the graph's own on POST and PUT, so an example graph can be
    uploaded as it is. ``context["owner"]`` is the user whose names must stay unique.
    """

    name = serializers.CharField(max_length=120, required=False, help_text="Unique among your strategies. "
                                 "Defaults to the graph's `name`.")
    description = serializers.CharField(max_length=MAX_DESCRIPTION_LENGTH, allow_blank=True, required=False,
                                        help_text="Defaults to the graph's `description`, or empty.")
    graph = GraphField()
    base_version = serializers.IntegerField(
        required=False, min_value=1, max_value=2**31 - 1, write_only=True,
        help_text="Replace and change only: the version your edit started from. If the strategy has been "
        "saved since (it is at a later version), nothing is changed and the answer is 409.")

    def validate(self, attrs):
        graph = attrs.get("graph")
        if not self.partial:
            attrs.setdefault("name", graph["name"].strip())
            attrs.setdefault("description", graph.get("description", ""))
        name = attrs.get("name")
        if name is not None:
            taken = Strategy.objects.filter(owner=self.context["owner"], name=name)
            if self.instance is not None:
                taken = taken.exclude(pk=self.instance.pk)
            if taken.exists():
                raise serializers.ValidationError({"name": [f"You already have a strategy named {name!r}."]})
        return attrs


class GraphCheckSerializer(StrictSerializerMixin, serializers.Serializer):
    graph = GraphField()


class GraphValidSerializer(serializers.Serializer):
    valid = serializers.BooleanField()
