"""Stream endpoints (docs/protocol.md, "Event stream")."""

from django.urls import path

from live_trading.stream import views

urlpatterns = [
    path("api/live-trading/stream-token", views.StreamTokenView.as_view(), name="stream-token"),
    path("api/live-trading/stream/<str:user_id>", views.user_stream, name="stream-user"),
    path("api/v2/live/stream/<str:session_id>", views.session_stream, name="stream-session"),
    path("api/v1/sse/<str:session_id>", views.session_stream, name="stream-session-filtered"),
]
