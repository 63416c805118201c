"""The market days stored on this server: read-only, the same list for every signed-in user.

Removing an imported day is a management command only (`market_days --remove`), like importing one:
both change files on the server that no API call can bring back.
"""

from django.urls import path
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import generics, serializers

from config.api import errors
from live_trading.market_cache import stored_days


class MarketDaySerializer(serializers.Serializer):
    underlying = serializers.CharField()
    date = serializers.DateField(source="day")
    source = serializers.ChoiceField(["imported", "synthetic"], help_text="imported (real data) or synthetic (generated, a cache)")
    seed = serializers.IntegerField(allow_null=True, help_text="the generator's seed; null for an imported day")
    size_bytes = serializers.IntegerField()
    last_used = serializers.DateTimeField(source="last_used_at", help_text="last replayed by a session (or written)")
    shadowed = serializers.BooleanField(
        help_text="a synthetic day hidden by an imported day of the same underlying and date: sessions replay the import")


class MarketDayListView(generics.ListAPIView):
    """Every stored market day, by underlying, date and source (imported first)."""

    serializer_class = MarketDaySerializer

    def get_queryset(self):
        return stored_days()

    @extend_schema(
        tags=["market data"], summary="Stored market days: imported and synthetic (read-only)",
        responses={200: MarketDaySerializer(many=True), **errors(401, 404)},  # 404: a page past the end
        examples=[OpenApiExample("An imported day hiding a synthetic one", response_only=True, value={
            "count": 2, "next": None, "previous": None, "results": [
                {"underlying": "NIFTY", "date": "2024-10-29", "source": "imported", "seed": None,
                 "size_bytes": 48213, "last_used": "2024-10-29T11:03:05+05:30", "shadowed": False},
                {"underlying": "NIFTY", "date": "2024-10-29", "source": "synthetic", "seed": 0,
                 "size_bytes": 12622179, "last_used": "2024-10-28T16:40:12+05:30", "shadowed": True}]})],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


urlpatterns = [path("", MarketDayListView.as_view(), name="market-days")]
