"""Session control and reading endpoints, at the paths the product spec names, plus broker connections."""

from django.urls import include, path

urlpatterns = [
    path("api/broker-connections/", include("live_trading.api.brokers")),
]
