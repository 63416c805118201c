from django.contrib import admin
from django.urls import path

from config.views import healthz

admin.site.site_header = "Live trading simulation: operations"
admin.site.site_title = "Live trading simulation"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
]
