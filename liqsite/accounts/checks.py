"""Deployment checks for the rate limits (``manage.py check --deploy``)."""

from django.conf import settings
from django.core import checks


@checks.register("liqsite", deploy=True)
def throttles_are_shared(app_configs, **kwargs):
    """In production the log-in and sign-up limits must count across every web process and see real clients."""
    if not settings.PRODUCTION:
        return []
    found = []
    if settings.CACHES["default"]["BACKEND"].endswith("locmem.LocMemCache"):
        found.append(
            checks.Warning(
                "CACHE_URL is not set: each web process keeps its own log-in, sign-up and password-reset counters, "
                "so every process allows the full number of attempts.",
                hint="Set CACHE_URL to a Redis server shared by every web process, e.g. redis://127.0.0.1:6379/1.",
                id="liqsite.W004",
            )
        )
    if not settings.LIQSITE_PROXY_HEADER:
        found.append(
            checks.Warning(
                "LIQSITE_PROXY_HEADER is not set: rate limits count on REMOTE_ADDR, which behind a reverse proxy is the "
                "proxy's address, so a few strangers' failures would lock everyone out.",
                # Production settings already assume a proxy in front (they trust X-Forwarded-Proto).
                hint="Set LIQSITE_PROXY_HEADER=X-Forwarded-For and LIQSITE_TRUSTED_PROXIES to the proxy's addresses.",
                id="liqsite.W005",
            )
        )
    return found
