from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("heatmaps.urls")),
    path("accounts/", include("liqsite.accounts.urls")),
    path("", include("alerts.urls")),
]

# Plain pages rendered without the database: a 503 when the database is out, a 500 otherwise.
handler500 = "liqsite.error_pages.server_error"
