"""The trader's pages: ``/`` (dashboard or login), starting a session, log in and out."""

from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import path
from django.views.generic import RedirectView

import config.ids  # noqa: F401  (registers the session_id path converter)
from pages import history, reports, session, strategies, strategy_builder, views

urlpatterns = [
    path("", views.home, name="dashboard"),
    path("sessions/new", views.new_session, name="new-session"),
    path("sessions/compare", reports.compare, name="session-compare"),
    path("sessions/<session_id:session_id>", session.session_page, name="session"),
    path("strategies/", strategies.strategy_list, name="strategies"),
    path("strategies/new", strategy_builder.builder, name="strategy-new"),
    path("strategies/new/json", strategy_builder.json_editor, name="strategy-new-json"),
    path("strategies/<object_id:strategy_id>/edit", strategy_builder.builder, name="strategy-edit"),
    path("strategies/<object_id:strategy_id>/json", strategy_builder.json_editor, name="strategy-json"),
    path("strategies/<object_id:strategy_id>/", strategies.strategy_page, name="strategy"),
    path("strategies/<object_id:strategy_id>/versions/<int:version>", strategies.version_page, name="strategy-version"),
    path("strategies/<object_id:strategy_id>/duplicate", strategies.duplicate, name="strategy-duplicate"),
    path("strategies/<object_id:strategy_id>/delete", strategies.delete, name="strategy-delete"),
    path("strategies/<object_id:strategy_id>/report", reports.strategy_report, name="strategy-report"),
    path("history/", history.history, name="history"),
    path("history/export.csv", history.history_csv, name="history-export"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Browsers ask for /favicon.ico on pages that name no icon (the admin's, the API's JSON).
    path("favicon.ico", RedirectView.as_view(url=static("livesim/favicon.svg"), permanent=True)),
]
