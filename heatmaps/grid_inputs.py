"""Stored series → the arrays the engine takes, aligned on one step index.

Candles define the steps. Open interest and long/short readings arrive at
their own cadence (Binance 5m, OKX hourly), so each step takes the newest
reading at or before the step's END ("as of" alignment, never interpolated):
the model reads open interest at the end of the step. Steps before the first
open-interest reading, or whose newest reading is older than twice the
readings' own spacing (or two steps, if longer), are left out: the engine
never invents data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np

from heatmaps.models import Candle, LongShortRatio, Market, OpenInterest
from liqsite.exchanges import INTERVAL_SECONDS

MS = 1000


@dataclass(frozen=True)
class StepArrays:
    """One market's steps: candles plus as-of open interest and long share."""

    open_time: np.ndarray  # int64 ms, strictly increasing
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    taker_buy_volume: np.ndarray  # NaN where the exchange gives none
    open_interest: np.ndarray  # base units at the end of each step
    long_share: np.ndarray  # NaN where no reading is known

    def __len__(self) -> int:
        return len(self.open_time)

    def window(self, mask: np.ndarray) -> StepArrays:
        return StepArrays(*(getattr(self, name)[mask] for name in self.__dataclass_fields__))


def as_of(step_end_ms: np.ndarray, reading_ms: np.ndarray, values: np.ndarray, max_age_ms: int) -> np.ndarray:
    """For each step end, the newest reading at or before it, NaN when none is fresh enough."""
    if len(reading_ms) == 0:
        return np.full(len(step_end_ms), np.nan)
    index = np.searchsorted(reading_ms, step_end_ms, side="right") - 1
    found = index >= 0
    picked = np.full(len(step_end_ms), np.nan)
    picked[found] = values[index[found]]
    age = np.where(found, step_end_ms - reading_ms[np.maximum(index, 0)], np.iinfo(np.int64).max)
    picked[age > max_age_ms] = np.nan
    return picked


def _ms(times) -> np.ndarray:
    return np.fromiter((int(t.timestamp() * MS) for t in times), dtype=np.int64, count=len(times))


def _readings(model, market: Market, interval: str, field: str) -> tuple[np.ndarray, np.ndarray]:
    """Readings stored for ``interval``, else the finest stored cadence of the series."""
    rows = model.objects.filter(market=market)
    # order_by() first: the model's default ordering would make DISTINCT return every row.
    intervals = set(rows.order_by().values_list("interval", flat=True).distinct())
    if not intervals:
        return np.empty(0, np.int64), np.empty(0)
    chosen = interval if interval in intervals else min(intervals, key=INTERVAL_SECONDS.__getitem__)
    pairs = list(rows.filter(interval=chosen).order_by("time").values_list("time", field))
    times, values = zip(*pairs, strict=True) if pairs else ((), ())
    return _ms(times), np.asarray(values, dtype=np.float64)


def _max_age(reading_ms: np.ndarray, step_ms: int) -> int:
    spacing = int(np.median(np.diff(reading_ms))) if len(reading_ms) > 1 else step_ms
    return 2 * max(spacing, step_ms)


def market_steps(market: Market, interval: str, *, since: datetime | None = None) -> StepArrays:
    """Every stored step of ``market`` at ``interval`` that has an open-interest reading."""
    candles = Candle.objects.filter(market=market, interval=interval).order_by("time")
    if since is not None:
        candles = candles.filter(time__gte=since)
    rows = list(candles.values_list("time", "open", "high", "low", "close", "volume", "taker_buy_volume"))
    step_ms = INTERVAL_SECONDS[interval] * MS
    if not rows:
        empty = np.empty(0)
        return StepArrays(np.empty(0, np.int64), *(empty,) * 8)
    times, o, h, lo, c, v, tb = zip(*rows, strict=True)
    open_time = _ms(times)
    step_end = open_time + step_ms
    oi_ms, oi = _readings(OpenInterest, market, interval, "open_interest")
    ls_ms, ls = _readings(LongShortRatio, market, interval, "long_share")
    steps = StepArrays(
        open_time,
        np.asarray(o, dtype=np.float64),
        np.asarray(h, dtype=np.float64),
        np.asarray(lo, dtype=np.float64),
        np.asarray(c, dtype=np.float64),
        np.asarray(v, dtype=np.float64),
        np.asarray([np.nan if x is None else x for x in tb], dtype=np.float64),
        as_of(step_end, oi_ms, oi, _max_age(oi_ms, step_ms)),
        as_of(step_end, ls_ms, ls, _max_age(ls_ms, step_ms)),
    )
    return steps.window(np.isfinite(steps.open_interest))
