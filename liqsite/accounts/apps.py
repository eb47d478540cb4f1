from functools import wraps

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "liqsite.accounts"
    label = "accounts"
    verbose_name = "Accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # The admin's own log-in page is a second door for password guessing:
        # give it the same throttle as the site's log-in page, and the same 429.
        from django.contrib import admin

        from liqsite.accounts import checks  # noqa: F401 - registers the deploy checks
        from liqsite.accounts.forms import AdminLoginForm

        admin.site.login_form = AdminLoginForm
        admin.site.login = _throttled_status(admin.site.login)


def _throttled_status(login_view):
    """Answer 429 when the admin log-in form was refused by the throttle, as the site's log-in page does."""

    @wraps(login_view)
    def view(request, extra_context=None):
        response = login_view(request, extra_context)
        form = (getattr(response, "context_data", None) or {}).get("form")
        if form is not None and form.is_bound and form.has_error("__all__", "throttled"):
            response.status_code = 429
        return response

    return view
