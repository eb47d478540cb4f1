"""Celery tasks: thin wrappers that load by id and call a service."""

from __future__ import annotations

import random
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import OperationalError, transaction

from heatmaps.accuracy.service import BacktestUnavailable, due_market_ids, market_backtest
from heatmaps.compute import coin_compute, market_compute
from heatmaps.models import GridSnapshot, Market
from heatmaps.refresh import RefreshFailed, market_refresh
from heatmaps.signals import grids_stored

MAX_BACKOFF_SECONDS = 900


def backoff_seconds(retries: int, retry_after: float | None = None) -> float:
    """Exponential backoff with jitter, never shorter than what the exchange asked for."""
    delay = min(MAX_BACKOFF_SECONDS, 30 * 2**retries) * random.uniform(0.5, 1.0)
    return max(delay, retry_after or 0)


@shared_task(bind=True, max_retries=6, acks_late=True, soft_time_limit=settings.LIQSITE_REFRESH_TIME_LIMIT)
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
    # Compute only when the inputs moved (most periodic refreshes of a quiet or
    # historical market store nothing new), or when the market has no grid yet.
    if report.ok and (report.changed or not GridSnapshot.objects.filter(market_id=market_id).exists()):
        transaction.on_commit(lambda: compute_market_grids.delay(market_id))
    return report.summary()


def _announce(outcomes, *, market_id=None, coin="") -> int:
    """Tell listeners (alert evaluation) about new snapshots, after commit; returns how many were stored."""
    stored = sum(outcome.status == "stored" for outcome in outcomes)
    if stored:
        transaction.on_commit(lambda: grids_stored.send(sender=Market, market_id=market_id, coin=coin))
    return stored


def _summary(stored: int, outcomes) -> str:
    return f"{stored} snapshot(s) stored, {len(outcomes) - stored} unchanged or skipped"


# A busy database (SQLite's "database is locked" while the web server writes, a
# PostgreSQL failover) is worth another try; a computation that failed on its
# data is not, and the next refresh runs it again anyway.
RETRY_ON_DATABASE = {"autoretry_for": (OperationalError,), "retry_backoff": 15, "retry_backoff_max": 300, "max_retries": 4}


@shared_task(acks_late=True, **RETRY_ON_DATABASE)
def compute_market_grids(market_id: int) -> str:
    """Compute and store a market's grids, then its coin's aggregate."""
    market = Market.objects.filter(pk=market_id).only("base").first()
    if market is None:
        return f"market {market_id} no longer exists"
    outcomes = market_compute(market_id)
    stored = _announce(outcomes, market_id=market_id)
    if stored and market.base:
        # The coin's aggregate only changes when one of its markets' grids did.
        transaction.on_commit(lambda: compute_coin_grids.delay(market.base))
    return _summary(stored, outcomes)


@shared_task(acks_late=True, **RETRY_ON_DATABASE)
def compute_coin_grids(coin: str) -> str:
    """Compute and store one coin's aggregate across its markets."""
    outcomes = coin_compute(coin)
    return _summary(_announce(outcomes, coin=coin), outcomes)


@shared_task
def refresh_active_markets() -> int:
    """Queue a refresh of every active market on an enabled exchange."""
    ids = list(Market.objects.filter(active=True, exchange__enabled=True).values_list("pk", flat=True))
    expires = settings.LIQSITE_REFRESH_SECONDS * 0.8
    for market_id in ids:
        refresh_market.apply_async((market_id,), expires=expires)
    return len(ids)


@shared_task(acks_late=True, soft_time_limit=settings.LIQSITE_ACCURACY_TIME_LIMIT)
def backtest_market(market_id: int) -> str:
    """Backtest one market and store its accuracy report (what the accuracy pages show)."""
    try:
        run = market_backtest(market_id)
    except Market.DoesNotExist:
        return f"market {market_id} no longer exists"
    except BacktestUnavailable as error:
        return f"market {market_id}: {error}"
    best = run.report.best_variant if run.report else ""
    return f"{run.market.symbol} {run.interval}: {run.result.info['held_out_steps']} steps scored; best variant: {best or 'none'}"


@shared_task
def backtest_due_markets() -> int:
    """Queue a backtest of every active market whose report is older than the accuracy interval.

    Backtests run on a daily beat entry rather than after each grid
    computation: grids are recomputed after every refresh (minutes apart),
    while a month of history scored again minutes later barely moves and costs
    about a hundred engine runs. The "due" check (90 % of the interval) means a
    market backtested by hand is not redone on the next beat.
    """
    every = settings.LIQSITE_ACCURACY_SECONDS
    ids = due_market_ids(every=timedelta(seconds=every * 0.9))
    for market_id in ids:
        backtest_market.apply_async((market_id,), expires=every * 0.8)
    return len(ids)
