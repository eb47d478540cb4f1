"""Deployment checks for mail, links in mail and the task queue (``manage.py check --deploy``)."""

from urllib.parse import urlsplit

from django.conf import settings
from django.core import checks


@checks.register("liqsite", deploy=True)
def mail_goes_out(app_configs, **kwargs):
    """In production, alert and password-reset mails must reach people, not files on the server."""
    if settings.PRODUCTION and settings.EMAIL_BACKEND.endswith("filebased.EmailBackend"):
        return [
            checks.Warning(
                "EMAIL_HOST is not set: alert and password-reset emails are written as files under var/mail/ "
                "instead of being sent.",
                hint="Set EMAIL_HOST (and EMAIL_PORT, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD, EMAIL_USE_TLS) to an SMTP server.",
                id="liqsite.W001",
            )
        ]
    return []


LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "0.0.0.0"}


@checks.register("liqsite", deploy=True)
def links_point_at_the_site(app_configs, **kwargs):
    """In production, links in emails and on share pages must use the public address, not a local one."""
    if settings.PRODUCTION and urlsplit(settings.SITE_URL).hostname in LOCAL_HOSTS:
        return [
            checks.Warning(
                f"SITE_URL is {settings.SITE_URL}: links in alert, confirmation and password-reset emails and on share "
                "pages point at this machine instead of the public site.",
                hint="Set SITE_URL to the public address, e.g. https://liqsite.example.com.",
                id="liqsite.W002",
            )
        ]
    return []


@checks.register("liqsite", deploy=True)
def tasks_have_a_real_broker(app_configs, **kwargs):
    """In production tasks need a broker that every worker and web process share reliably."""
    if settings.PRODUCTION and settings.CELERY_BROKER_URL.startswith("filesystem://"):
        return [
            checks.Warning(
                "CELERY_BROKER_URL is not set: tasks (refreshes, alert evaluation, emails) go through files under "
                "var/celery/, which only works when the web server and the worker share that folder on one machine.",
                hint="Set CELERY_BROKER_URL to a Redis server, e.g. redis://127.0.0.1:6379/0.",
                id="liqsite.W003",
            )
        ]
    return []
