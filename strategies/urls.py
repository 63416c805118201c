"""Strategy endpoints (list, create, read, update, delete, validate, versions)."""

from django.urls import path

from config import ids  # noqa: F401  (registers the id converters these paths use)
from strategies.api import (
    GraphValidateView,
    StrategyDetailView,
    StrategyListCreateView,
    StrategyVersionDetailView,
    StrategyVersionListView,
)

urlpatterns = [
    path("api/strategies/", StrategyListCreateView.as_view(), name="api-strategies"),
    path("api/strategies/validate", GraphValidateView.as_view(), name="api-strategies-validate"),
    path("api/strategies/<object_id:id>/", StrategyDetailView.as_view(), name="api-strategy"),
    path("api/strategies/<object_id:id>/versions/", StrategyVersionListView.as_view(), name="api-strategy-versions"),
    path("api/strategies/<object_id:id>/versions/<int:version>", StrategyVersionDetailView.as_view(),
         name="api-strategy-version"),
]
