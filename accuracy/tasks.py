"""Celery tasks of the accuracy app: backtest one market, or every market whose report is due."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.conf import settings

from accuracy.readings_service import market_readings_backtest
from accuracy.service import BacktestUnavailable, due_market_ids, market_backtest
from markets.models import Market


@shared_task(soft_time_limit=settings.LIQSITE_ACCURACY_TIME_LIMIT)
def backtest_market(market_id: int) -> str:
    """Backtest one market and store its accuracy report (what the accuracy pages show)."""
    try:
        run = market_backtest(market_id)
    except Market.DoesNotExist:
        return f"market {market_id} no longer exists"
    except BacktestUnavailable as error:
        return f"market {market_id}: {error}"
    best = run.report.best_variant if run.report else ""
    try:
        # The four map readings' record (what the heatmap page shows beside each reading), same interval.
        readings = market_readings_backtest(market_id, interval=run.interval)
        verdicts = ", ".join(f"{k}: {r['verdict']}" for k, r in readings.results["readings"].items())
    except BacktestUnavailable as error:
        verdicts = f"readings not scored ({error})"
    return (
        f"{run.market.symbol} {run.interval}: {run.result.info['held_out_steps']} steps scored; "
        f"best variant: {best or 'none'}; {verdicts}"
    )


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
