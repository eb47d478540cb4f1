"""Account forms: sign-up with an email address, throttled log-in, password reset through the outbox."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm, UserCreationForm
from django.core.exceptions import ValidationError
from django.template import loader

from alerts.models import OutboxMessage
from alerts.services.outbox import outbox_message_queue
from liqsite.accounts.throttle import LoginThrottle, reset_email_allowed


class SignupForm(UserCreationForm):
    email = forms.EmailField(help_text="Alerts and password resets are sent here.")

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
    """Django's reset form, sending through the outbox task instead of inside the request.

    The page answers the same whether or not the address has an account, and
    keeping the SMTP round-trip out of the request keeps its timing from telling
    the two apart (and a slow or failing mail server from holding the page up).
    Links use ``SITE_URL``, not the request's Host header.
    """

    def send_mail(self, subject_template_name, email_template_name, context, from_email, to_email, html_email_template_name=None):
        if not reset_email_allowed(to_email):
            # Past the limit nothing is sent, and the page reads the same as for
            # any address, so the limit tells nobody whether the address has an account.
            return
        context = {**context, "site_url": settings.SITE_URL}
        outbox_message_queue(
            kind=OutboxMessage.Kind.PASSWORD_RESET,
            to=to_email,
            subject=loader.render_to_string(subject_template_name, context),
            text=loader.render_to_string(email_template_name, context),
            html=loader.render_to_string(html_email_template_name, context) if html_email_template_name else "",
            sensitive=True,
        )
