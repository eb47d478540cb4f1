"""Celery tasks: thin wrappers that load by id and call a service."""

from __future__ import annotations

import random

from celery import shared_task
from django.conf import settings

from heatmaps.models import Market
from heatmaps.refresh import RefreshFailed, market_refresh

MAX_BACKOFF_SECONDS = 900


def backoff_seconds(retries: int, retry_after: float | None = None) -> float:
    """Exponential backoff with jitter, never shorter than what the exchange asked for."""
    delay = min(MAX_BACKOFF_SECONDS, 30 * 2**retries) * random.uniform(0.5, 1.0)
    return max(delay, retry_after or 0)


@shared_task(bind=True, max_retries=6, acks_late=True, soft_time_limit=settings.LIQSITE_REFRESH_TIME_LIMIT)
def refresh_market(self, market_id: int) -> str:
    """Fetch and store what is new for one market; transient failures retry with backoff."""
    try:
        return market_refresh(market_id).summary()
    except Market.DoesNotExist:
        return f"market {market_id} no longer exists"
    except RefreshFailed as error:
        raise self.retry(exc=error, countdown=backoff_seconds(self.request.retries, error.retry_after)) from error


@shared_task
def refresh_active_markets() -> int:
    """Queue a refresh of every active market on an enabled exchange."""
    ids = list(Market.objects.filter(active=True, exchange__enabled=True).values_list("pk", flat=True))
    expires = settings.LIQSITE_REFRESH_SECONDS * 0.8
    for market_id in ids:
        refresh_market.apply_async((market_id,), expires=expires)
    return len(ids)
