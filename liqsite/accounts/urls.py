"""Account URLs. Names are not namespaced: Django's auth views and LOGIN_URL refer to them by these names."""

from django.urls import path

from liqsite.accounts import views

urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("confirm/resend/", views.email_confirm_resend, name="email_confirm_resend"),
    path("confirm/<str:token>/", views.email_confirm_view, name="email_confirm"),
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("password/change/", views.password_change, name="password_change"),
    path("password/change/done/", views.password_change_done, name="password_change_done"),
    path("password/reset/", views.password_reset, name="password_reset"),
    path("password/reset/sent/", views.password_reset_done, name="password_reset_done"),
    path("reset/<uidb64>/<token>/", views.password_reset_confirm, name="password_reset_confirm"),
    path("reset/done/", views.password_reset_complete, name="password_reset_complete"),
]
