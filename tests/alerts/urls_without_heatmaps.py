"""A URL configuration where the heatmap pages do not exist yet (only the market list)."""

from django.http import HttpResponse
from django.urls import include, path

urlpatterns = [
    path("", include(([path("", lambda request: HttpResponse(), name="market_list")], "heatmaps"))),
    path("", include("alerts.urls")),
]
