from django.urls import path

from heatmaps import views

app_name = "heatmaps"
urlpatterns = [
    path("", views.market_list, name="market_list"),
]
