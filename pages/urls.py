"""The trader's pages: ``/`` (dashboard or login), starting a session, log in and out."""

from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import path
from django.views.generic import RedirectView

import config.ids  # noqa: F401  (registers the session_id path converter)
from pages import session, views

urlpatterns = [
    path("", views.home, name="dashboard"),
    path("sessions/new", views.new_session, name="new-session"),
    path("sessions/<session_id:session_id>", session.session_page, name="session"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Browsers ask for /favicon.ico on pages that name no icon (the admin's, the API's JSON).
    path("favicon.ico", RedirectView.as_view(url=static("livesim/favicon.svg"), permanent=True)),
]
