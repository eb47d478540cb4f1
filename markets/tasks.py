"""Celery tasks of the markets app: refresh one market, or queue a refresh of every active one."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.db.models import F

from liqsite.tasks import backoff_seconds
from markets.models import Market
from markets.refresh import RefreshFailed, market_refresh
from markets.signals import market_refreshed


@shared_task(bind=True, max_retries=6, autoretry_for=(), soft_time_limit=settings.LIQSITE_REFRESH_TIME_LIMIT)
def refresh_market(self, market_id: int) -> str:
    """Fetch and store what is new for one market; transient failures retry with backoff."""
    try:
        report = market_refresh(market_id)
    except Market.DoesNotExist:
        return f"market {market_id} no longer exists"
    except RefreshFailed as error:
        countdown = backoff_seconds(self.request.retries, error.retry_after)
        # A retry would inherit the first run's absolute expiry (shorter than the
        # refresh interval) and be dropped unseen once its countdown passes it.
        # Give it its own: it is worth running until a periodic refresh is due after it.
        raise self.retry(exc=error, countdown=countdown, expires=countdown + settings.LIQSITE_REFRESH_SECONDS) from error
    if report.ok:
        market_refreshed.send(sender=Market, market_id=market_id, changed=report.changed)
    return report.summary()


@shared_task
def refresh_active_markets() -> int:
    """Queue a refresh of every active market on an enabled exchange, the longest unrefreshed first.

    A refresh still waiting in the queue when the next cycle is due expires
    (``expires``): the next cycle sends a fresh one, and a slow cycle never
    piles up. When the workers cannot get through every market in a cycle,
    the ones left over are then the first of the next, instead of the same
    markets (the last by id) missing every cycle.
    """
    markets = Market.objects.filter(active=True, exchange__enabled=True)
    ids = list(markets.order_by(F("last_ingest_at").asc(nulls_first=True), "pk").values_list("pk", flat=True))
    expires = settings.LIQSITE_REFRESH_SECONDS * 0.8
    for market_id in ids:
        refresh_market.apply_async((market_id,), expires=expires)
    return len(ids)
