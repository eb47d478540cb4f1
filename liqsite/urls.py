from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("heatmaps.urls")),
    path("accounts/", include("liqsite.accounts.urls")),
    path("", include("alerts.urls")),
]
