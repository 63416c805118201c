from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from config.views import healthz

admin.site.site_header = "Live trading simulation: operations"
admin.site.site_title = "Live trading simulation"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("accounts.urls")),
    path("", include("strategies.urls")),
    path("", include("live_trading.urls")),
    path("", include("live_trading.stream.urls")),
]

handler400 = "config.views.bad_request"
handler404 = "config.views.not_found"
