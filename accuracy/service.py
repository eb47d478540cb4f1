"""Backtest a market: stored rows → :func:`.backtest.run_backtest` → ``AccuracyReport``.

The period is the newest ``PERIOD_DAYS`` of stored steps at the backtest
interval; its first ``FIT_SHARE`` (by time) is the fit part, the rest is held
out. The interval is the finest stored one whose steps are at least as long as
the spacing of the market's open-interest readings: a finer step would score
as-of copies of one reading (no drop at most steps) rather than what happened.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from django.db import transaction
from django.utils import timezone

from accuracy.models import AccuracyReport
from grids.computation import model_params
from grids.inputs import market_steps
from liqsite.exchanges import INTERVAL_SECONDS
from liqsite.exchanges.http import from_ms, to_ms
from markets.liquidation_selectors import covered_mask, liquidation_totals
from markets.models import Candle, Liquidation, Market, OpenInterest

from .backtest import BacktestInput, BacktestResult, FineCandles, Progress, Records, StepTotals, run_backtest
from .variants import EXCHANGE_MIXES, SITE_DEFAULT, Mix

log = logging.getLogger(__name__)

PERIOD_DAYS = 30
FIT_SHARE = 0.5
MS = 1000
# The bundled sample plugin serves recordings of other exchanges: its markets
# take the leverage mix of the exchange they were recorded on.
SAMPLE_ORIGINS = {"BTCUSDT": "binance", "SOL-USDT-SWAP": "okx"}


class BacktestUnavailable(ValueError):
    """The market has too little stored data to backtest (the message says what is missing)."""


@dataclass(frozen=True)
class BacktestRun:
    market: Market
    interval: str
    result: BacktestResult
    report: AccuracyReport | None


def exchange_origin(market: Market) -> str:
    """The exchange whose traders the market's data describes (the sample plugin's markets: the recorded one)."""
    if market.exchange.plugin == "sample":
        return SAMPLE_ORIGINS.get(market.symbol, "sample")
    return market.exchange.plugin


def exchange_mix(market: Market) -> Mix | None:
    return EXCHANGE_MIXES.get(exchange_origin(market))


def backtest_interval(market: Market) -> str | None:
    """The finest stored interval whose step is at least the open-interest readings' spacing."""
    intervals = [i for i in market.ordered_intervals if Candle.objects.filter(market=market, interval=i).exists()]
    if not intervals:
        return None
    rows = OpenInterest.objects.filter(market=market)
    oi_intervals = sorted(set(rows.order_by().values_list("interval", flat=True).distinct()), key=INTERVAL_SECONDS.__getitem__)
    if not oi_intervals:
        return intervals[0]
    times = list(rows.filter(interval=oi_intervals[0]).order_by("-time").values_list("time", flat=True)[:200])
    spacing = (float(np.median(-np.diff([to_ms(t) for t in times]))) / MS) if len(times) > 1 else 0.0
    for interval in intervals:
        if INTERVAL_SECONDS[interval] >= spacing:
            return interval
    return intervals[-1]


def _fine_candles(market: Market, interval: str, start: datetime, end: datetime) -> FineCandles | None:
    """The finest stored candles that divide ``interval``, over [start, end)."""
    step = INTERVAL_SECONDS[interval]
    finer = [i for i in market.ordered_intervals if INTERVAL_SECONDS[i] < step and step % INTERVAL_SECONDS[i] == 0]
    for fine in finer:
        rows = list(
            Candle.objects.filter(market=market, interval=fine, time__gte=start, time__lt=end)
            .order_by("time")
            .values_list("time", "open", "high", "low", "close")
        )
        if rows:
            times, o, h, lo, c = zip(*rows, strict=True)
            return FineCandles(
                np.array([to_ms(t) for t in times], dtype=np.int64),
                np.asarray(o, dtype=np.float64),
                np.asarray(h, dtype=np.float64),
                np.asarray(lo, dtype=np.float64),
                np.asarray(c, dtype=np.float64),
                interval=fine,
            )
    return None


def backtest_input(
    market: Market,
    interval: str,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    fit_share: float = FIT_SHARE,
    now: datetime | None = None,
) -> BacktestInput:
    """Everything the backtest needs for one market and interval, as arrays."""
    if not 0 < fit_share < 1:
        raise ValueError(f"fit_share must lie strictly between 0 and 1, got {fit_share!r}")
    now = now or timezone.now()
    step_ms = INTERVAL_SECONDS[interval] * MS
    steps = market_steps(market, interval)
    if len(steps) == 0:
        raise BacktestUnavailable(f"{market.symbol} has no {interval} candles with open interest stored")
    last_end = int(steps.open_time[-1]) + step_ms
    end_ms = min(to_ms(end), last_end) if end is not None else last_end
    start_ms = to_ms(start) if start is not None else end_ms - PERIOD_DAYS * 86_400_000
    steps = steps.window((steps.open_time >= start_ms) & (steps.open_time + step_ms <= end_ms))
    if len(steps) < 4:
        raise BacktestUnavailable(
            f"{market.symbol} has {len(steps)} {interval} step(s) with open interest in the period; 4 or more are needed"
        )
    start_ms = max(start_ms, int(steps.open_time[0]))
    end_ms = int(steps.open_time[-1]) + step_ms
    # The split is a time, fixed by the period alone (never by the values in it).
    split_ms = start_ms + int(round(fit_share * (end_ms - start_ms)))
    records = Liquidation.objects.filter(market=market, time__gte=from_ms(start_ms), time__lt=from_ms(end_ms)).order_by("time")
    rows = list(records.values_list("time", "price", "usd", "side"))
    recs = Records(
        np.array([to_ms(row[0]) for row in rows], dtype=np.int64),
        np.array([row[1] for row in rows], dtype=np.float64),
        np.array([row[2] for row in rows], dtype=np.float64),
        np.array([row[3] == Liquidation.Side.LONG for row in rows], dtype=bool),
    )
    totals = StepTotals(*liquidation_totals(market=market, interval=interval, open_time=steps.open_time))
    return BacktestInput(
        steps=steps,
        step_ms=step_ms,
        split_time=split_ms,
        covered=covered_mask(market=market, starts=steps.open_time, ends=steps.open_time + step_ms, now=now),
        records=recs,
        params=model_params(market),
        exchange_mix=exchange_mix(market),
        fine=_fine_candles(market, interval, from_ms(start_ms), from_ms(end_ms)),
        totals=totals if np.isfinite(totals.long_usd).any() else None,
    )


def _best_variant(result: BacktestResult) -> str:
    winners = [key for key, v in result.verdicts().items() if v["beats_all"]]
    if not winners:
        return ""
    # Among several, the one with the highest held-out Spearman.
    return max(winners, key=lambda k: result.row(k).spearman or -1.0)


def _site_params(market: Market) -> dict:
    params = model_params(market)
    return {
        "leverage": list(params.leverage),
        "weights": list(params.weights),
        "long_share": "fixed 50 %",
        "formula": {"contract": params.formula.contract, "maintenance_basis": params.formula.maintenance_basis},
        "tiers": bool(market.margin_tiers),
    }


def market_backtest(
    market_id: int,
    *,
    interval: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    fit_share: float = FIT_SHARE,
    progress: Progress | None = None,
    store: bool = True,
) -> BacktestRun:
    """Backtest one market and (by default) store its report; raises BacktestUnavailable without data."""
    market = Market.objects.select_related("exchange").get(pk=market_id)
    interval = interval or backtest_interval(market)
    if interval is None:
        raise BacktestUnavailable(f"{market.symbol} has no candles stored")
    if interval not in INTERVAL_SECONDS:
        raise ValueError(f"unknown interval {interval!r}")
    inp = backtest_input(market, interval, start=start, end=end, fit_share=fit_share)
    result = run_backtest(inp, progress=progress)
    report = None
    if store:
        info = result.info
        results = result.to_dict() | {
            "market": {
                "id": market.pk,
                "symbol": market.symbol,
                "exchange": market.exchange.plugin,
                "origin": exchange_origin(market),
            },
            "interval": interval,
            "site_variant": {"key": SITE_DEFAULT, "params": _site_params(market)},
        }
        values = {
            "computed_at": timezone.now(),
            "period_start": from_ms(info["start"]),
            "period_end": from_ms(info["end"]),
            "split_at": from_ms(info["split"]),
            "held_out_steps": info["held_out_steps"],
            "variant": SITE_DEFAULT,
            "best_variant": _best_variant(result),
            "results": results,
        }
        with transaction.atomic():
            report, _ = AccuracyReport.objects.update_or_create(market=market, interval=interval, defaults=values)
    return BacktestRun(market, interval, result, report)


def due_market_ids(*, every: timedelta, now: datetime | None = None) -> list[int]:
    """Active markets whose newest report is older than ``every`` (or missing)."""
    now = now or timezone.now()
    markets = Market.objects.filter(active=True, exchange__enabled=True).values_list("pk", flat=True)
    fresh = set(AccuracyReport.objects.filter(computed_at__gt=now - every).values_list("market_id", flat=True))
    return [pk for pk in markets if pk not in fresh]
