"""Stream endpoints."""

urlpatterns = []
