from django.urls import path

from accuracy import views as accuracy_views
from heatmaps import views

app_name = "heatmaps"
urlpatterns = [
    path("", views.market_list, name="market_list"),
    path("status/", views.market_status, name="market_status"),
    path("markets/<int:market_id>/heatmap/", views.market_heatmap, name="market_heatmap"),
    path("coins/<str:coin>/heatmap/", views.coin_heatmap, name="coin_heatmap"),
    path("model/", views.model_explained, name="model_explained"),
    path("accuracy/", accuracy_views.accuracy_summary_page, name="accuracy_summary"),
    path("markets/<int:market_id>/accuracy/", accuracy_views.market_accuracy_page, name="market_accuracy"),
    path("shares/", views.share_list, name="share_list"),
    path("shares/new/", views.share_create, name="share_create"),
    path("shares/<int:pk>/revoke/", views.share_revoke, name="share_revoke"),
    path("s/<str:token>/", views.share_view, name="share_view"),
    path("s/<str:token>/preview.png", views.share_preview_image, name="share_preview"),
]
