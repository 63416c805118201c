"""Session control and reading endpoints, at the paths the product spec names, plus broker connections."""

from django.urls import include, path

from config import ids  # noqa: F401  (registers the id converters these paths use)
from live_trading.api import exports, reports
from live_trading.api import sessions as views

urlpatterns = [
    path("api/broker-connections/", include("live_trading.api.brokers")),
    path("api/market-days/", include("live_trading.api.marketdata")),
    path("api/v2/live/start", views.StartView.as_view(), name="live-start"),
    path("api/v2/live/stop/all", views.StopAllView.as_view(), name="live-stop-all"),
    path("api/v2/live/stop/user/<user_id:user_id>", views.StopUserView.as_view(), name="live-stop-user"),
    path("api/v2/live/stop/<session_id:session_id>", views.StopView.as_view(), name="live-stop"),
    path("api/v2/live/pause/<session_id:session_id>", views.PauseView.as_view(), name="live-pause"),
    path("api/v2/live/resume/<session_id:session_id>", views.ResumeView.as_view(), name="live-resume"),
    path("api/v2/live/speed/<session_id:session_id>", views.SpeedView.as_view(), name="live-speed"),
    path("api/live-trading/dashboard/<user_id:user_id>", views.DashboardView.as_view(), name="live-dashboard"),
    path("api/live-trading/session/<session_id:session_id>", views.SessionStateView.as_view(), name="live-session"),
    path("api/session/<session_id:session_id>/diagnostics", views.DiagnosticsView.as_view(), name="session-diagnostics"),
    path("api/sessions/", views.SessionListView.as_view(), name="session-list"),
    path("api/sessions/<session_id:session_id>/trades", views.TradeListView.as_view(), name="session-trades"),
    path("api/sessions/<session_id:session_id>/candles", views.CandlesView.as_view(), name="session-candles"),
    path("api/sessions/<session_id:session_id>/equity", views.EquityView.as_view(), name="session-equity"),
    path("api/sessions/<session_id:session_id>/report", reports.SessionReportView.as_view(), name="session-report"),
    path("api/sessions/<session_id:session_id>/exports/", exports.ExportListView.as_view(), name="session-exports"),
    path("api/sessions/<session_id:session_id>/exports/<str:name>", exports.ExportFileView.as_view(),
         name="session-export"),
]
