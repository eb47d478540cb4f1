"""Deployment checks for mail (``manage.py check --deploy``)."""

from django.conf import settings
from django.core import checks


@checks.register("liqsite", deploy=True)
def mail_goes_out(app_configs, **kwargs):
    """In production, alert and password-reset mails must reach people, not files on the server."""
    if settings.PRODUCTION and settings.EMAIL_BACKEND.endswith("filebased.EmailBackend"):
        return [checks.Warning(
            "EMAIL_HOST is not set: alert and password-reset emails are written as files under var/mail/ "
            "instead of being sent.",
            hint="Set EMAIL_HOST (and EMAIL_PORT, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD, EMAIL_USE_TLS) to an SMTP server.",
            id="liqsite.W001",
        )]
    return []
