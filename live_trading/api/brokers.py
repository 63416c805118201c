"""Broker connection endpoints."""

urlpatterns = []
