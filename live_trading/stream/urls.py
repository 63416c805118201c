"""Stream endpoints (docs/protocol.md, "Event stream")."""

from django.urls import path

from config import ids  # noqa: F401  (registers the id converters these paths use)
from live_trading.stream import views

urlpatterns = [
    path("api/live-trading/stream-token", views.StreamTokenView.as_view(), name="stream-token"),
    path("api/live-trading/stream/<user_id:user_id>", views.user_stream, name="stream-user"),
    path("api/v2/live/stream/<session_id:session_id>", views.session_stream, name="stream-session"),
    path("api/v1/sse/<session_id:session_id>", views.session_stream, name="stream-session-filtered"),
]
