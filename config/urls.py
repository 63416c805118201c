from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.utils.csp import CSP
from django.views.decorators.csp import csp_override
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from config.views import healthz
from live_trading.admin import operations_admin_view

admin.site.site_header = "Live trading simulation: operations"
admin.site.site_title = "Live trading simulation"
# The app list is on the index and in the breadcrumbs; a sidebar beside every list would leave the
# sessions list too narrow for its status and net P&L at 1280 px.
admin.site.enable_nav_sidebar = False

# Swagger UI's page carries one inline <style> and its widgets set inline styles: only that page may.
DOCS_CSP = {**settings.SECURE_CSP, "style-src": [CSP.SELF, CSP.UNSAFE_INLINE]}

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/operations/", operations_admin_view, name="admin-operations"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", csp_override(DOCS_CSP)(SpectacularSwaggerSplitView.as_view(url_name="api-schema")), name="api-docs"),
    path("", include("accounts.urls")),
    path("", include("strategies.urls")),
    path("", include("live_trading.urls")),
    path("", include("live_trading.stream.urls")),
    path("", include("pages.urls")),
]

handler400 = "config.views.bad_request"
handler404 = "config.views.not_found"
