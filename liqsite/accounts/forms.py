"""Account forms: sign-up with an email address, throttled log-in, password reset through a task and the outbox."""

from __future__ import annotations

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm, UserCreationForm
from django.core.exceptions import ValidationError

from liqsite.accounts.resets import password_reset_request
from liqsite.accounts.throttle import LoginThrottle, reset_email_allowed


class SignupForm(UserCreationForm):
    email = forms.EmailField(help_text="Alerts are emailed here once you confirm it; password-reset links too.")

    class Meta(UserCreationForm.Meta):
        fields = ("username", "email")


class ThrottledLoginMixin:
    """Refuse a log-in while its username or address is over the failure limit; count failures."""

    def clean(self):
        throttle = LoginThrottle.for_request(self.request, self.cleaned_data.get("username"))
        if throttle.blocked():
            raise ValidationError(throttle.message(), code="throttled")
        try:
            cleaned = super().clean()
        except ValidationError:
            throttle.record_failure()
            raise
        if self.get_user() is not None:  # not when the password was left empty
            throttle.record_success()
        return cleaned


class LoginForm(ThrottledLoginMixin, AuthenticationForm):
    pass


class AdminLoginForm(ThrottledLoginMixin, AdminAuthenticationForm):
    pass


class OutboxPasswordResetForm(PasswordResetForm):
    """Django's reset form, with the whole sending moved to a task.

    The page answers the same whether or not the address has an account. To
    keep its *timing* from telling them apart too, the request does the same
    work for every address (count it, queue one task) and never looks the
    address up; the task finds the accounts, makes the links (with ``SITE_URL``,
    not the request's Host header) and writes them to the outbox.
    """

    def save(self, *args, **kwargs):
        email = self.cleaned_data["email"]
        # Past the per-address limit nothing is sent, and the page reads the same
        # as for any address, so the limit tells nobody whether the address has an account.
        if reset_email_allowed(email):
            password_reset_request(email=email)
