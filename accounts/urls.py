"""Token and identity endpoints."""

from django.urls import path

from accounts.api import MeView, TokenView

urlpatterns = [
    path("api/auth/token", TokenView.as_view(), name="api-auth-token"),
    path("api/me", MeView.as_view(), name="api-me"),
]
