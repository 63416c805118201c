"""Strategy endpoints (list, create, read, update, delete, validate)."""

urlpatterns = []
