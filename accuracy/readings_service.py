"""Backtest the four readings of a market: stored rows → :func:`.readings_backtest.run_readings_backtest` → ``ReadingsReport``.

The period is every stored step at the backtest interval (the same interval as
the accuracy report: at least the spacing of the open-interest readings); its
first ``FIT_SHARE`` (by time) is the fit part. Liquidations are summed per step
where the collector listened for the whole step, and left unknown elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from django.db import transaction
from django.utils import timezone

from accuracy.models import ReadingsReport
from grids.computation import model_params
from grids.inputs import market_steps
from liqsite.exchanges import INTERVAL_SECONDS
from liqsite.exchanges.http import from_ms, to_ms
from markets.liquidation_selectors import covered_mask
from markets.models import Liquidation, Market

from .readings_backtest import ReadingsInput, run_readings_backtest
from .service import FIT_SHARE, BacktestUnavailable, backtest_interval

MS = 1000


@dataclass(frozen=True)
class ReadingsRun:
    market: Market
    interval: str
    results: dict
    report: ReadingsReport | None


def _liquidations(market: Market, open_time: np.ndarray, step_ms: int) -> np.ndarray | None:
    """USD liquidated per step where the collector covered the whole step, NaN elsewhere (None: never covered)."""
    covered = covered_mask(market=market, starts=open_time, ends=open_time + step_ms)
    if not covered.any():
        return None
    out = np.where(covered, 0.0, np.nan)
    rows = Liquidation.objects.filter(
        market=market, time__gte=from_ms(int(open_time[0])), time__lt=from_ms(int(open_time[-1]) + step_ms)
    ).values_list("time", "usd")
    for t, amount in rows:
        i = int(np.searchsorted(open_time, to_ms(t), side="right")) - 1
        if 0 <= i < len(out) and covered[i]:
            out[i] += amount
    return out


def readings_input(market: Market, interval: str, *, fit_share: float = FIT_SHARE) -> ReadingsInput:
    if not 0 < fit_share < 1:
        raise ValueError(f"fit_share must lie strictly between 0 and 1, got {fit_share!r}")
    steps = market_steps(market, interval)
    if len(steps) < 8:
        raise BacktestUnavailable(f"{market.symbol} has {len(steps)} {interval} step(s) with open interest; 8 or more are needed")
    step_ms = INTERVAL_SECONDS[interval] * MS
    start, end = int(steps.open_time[0]), int(steps.open_time[-1]) + step_ms
    # The split is a time, fixed by the period alone (never by the values in it).
    split = start + int(round(fit_share * (end - start)))
    return ReadingsInput(
        steps, step_ms, split, params=model_params(market), liquidations=_liquidations(market, steps.open_time, step_ms)
    )


def market_readings_backtest(
    market_id: int, *, interval: str | None = None, fit_share: float = FIT_SHARE, store: bool = True
) -> ReadingsRun:
    """Backtest the four readings of one market and (by default) store the record; BacktestUnavailable without data."""
    market = Market.objects.select_related("exchange").get(pk=market_id)
    interval = interval or backtest_interval(market)
    if interval is None:
        raise BacktestUnavailable(f"{market.symbol} has no candles stored")
    try:
        results = run_readings_backtest(readings_input(market, interval, fit_share=fit_share))
    except ValueError as error:
        if isinstance(error, BacktestUnavailable):
            raise
        raise BacktestUnavailable(f"{market.symbol}: {error}") from error
    results["interval"] = interval
    report = None
    if store:
        info = results["info"]
        with transaction.atomic():
            report, _ = ReadingsReport.objects.update_or_create(
                market=market,
                interval=interval,
                defaults={
                    "computed_at": timezone.now(),
                    "period_start": from_ms(info["start"]),
                    "period_end": from_ms(info["end"]),
                    "split_at": from_ms(info["split"]),
                    "results": results,
                },
            )
    return ReadingsRun(market, interval, results, report)
