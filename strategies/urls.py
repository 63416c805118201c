"""Strategy endpoints (list, create, read, update, delete, validate)."""

from django.urls import path

from config import ids  # noqa: F401  (registers the id converters these paths use)
from strategies.api import GraphValidateView, StrategyDetailView, StrategyListCreateView

urlpatterns = [
    path("api/strategies/", StrategyListCreateView.as_view(), name="api-strategies"),
    path("api/strategies/validate", GraphValidateView.as_view(), name="api-strategies-validate"),
    path("api/strategies/<object_id:id>/", StrategyDetailView.as_view(), name="api-strategy"),
]
