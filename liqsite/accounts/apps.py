from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "liqsite.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self):
        # The admin's own log-in page is a second door for password guessing:
        # give it the same throttle as the site's log-in page.
        from django.contrib import admin

        from liqsite.accounts.forms import AdminLoginForm

        admin.site.login_form = AdminLoginForm
