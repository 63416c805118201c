"""The trader's pages. Views stay thin: the first view comes from the same snapshot functions as the
REST API (``live_trading.snapshots``); everything after that is the page's JavaScript talking to the
REST API and the user stream, as an external frontend would."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from live_trading import snapshots


def home(request):
    """``/``: the dashboard for a logged-in user, the login page otherwise (same URL, no redirect)."""
    if not request.user.is_authenticated:
        return auth_views.LoginView.as_view(redirect_authenticated_user=True)(request)
    return dashboard(request)


@login_required
def dashboard(request):
    """A card per session of the user, active first (``snapshots.dashboard``, as the REST dashboard)."""
    return render(request, "pages/dashboard.html", {"dashboard": snapshots.dashboard(request.user)})
