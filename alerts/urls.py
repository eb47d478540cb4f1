from django.urls import path

from alerts import views

app_name = "alerts"
urlpatterns = [
    path("watchlist/", views.watchlist, name="watchlist"),
    path("watchlist/add/", views.watchlist_add, name="watchlist_add"),
    path("watchlist/<int:pk>/remove/", views.watchlist_remove, name="watchlist_remove"),
    path("watchlist/<int:pk>/move/", views.watchlist_move, name="watchlist_move"),
    path("alerts/", views.rules, name="rule_list"),
    path("alerts/new/", views.rule_new, name="rule_create"),
    path("alerts/<int:pk>/edit/", views.rule_edit, name="rule_edit"),
    path("alerts/<int:pk>/delete/", views.rule_delete, name="rule_delete"),
    path("alerts/<int:pk>/pause/", views.rule_pause, name="rule_pause"),
    path("alerts/<int:pk>/check/", views.rule_check_view, name="rule_check"),
    path("alerts/log/", views.log, name="log"),
    path("alerts/unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
]
