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

from datetime import datetime, timedelta

import numpy as np

from grids.steps import StepArrays
from liqsite.exchanges import INTERVAL_SECONDS
from liqsite.exchanges.http import from_ms
from markets.epoch_ms import EpochMs
from markets.models import Candle, LongShortRatio, Market, OpenInterest

MS = 1000
# How far before the first step readings are read: well past the oldest reading
# any step may take (twice the readings' spacing; OKX's are hourly, some daily).
READINGS_LOOKBACK = timedelta(days=3)


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


def _readings(model, market: Market, interval: str, field: str, since: datetime | None) -> tuple[np.ndarray, np.ndarray]:
    """Readings stored for ``interval`` (from ``since`` on), else the finest stored cadence of the series."""
    rows = model.objects.filter(market=market)
    # order_by() first: the model's default ordering would make DISTINCT return every row.
    intervals = set(rows.order_by().values_list("interval", flat=True).distinct())
    if not intervals:
        return np.empty(0, np.int64), np.empty(0)
    chosen = interval if interval in intervals else min(intervals, key=INTERVAL_SECONDS.__getitem__)
    rows = rows.filter(interval=chosen)
    if since is not None:
        rows = rows.filter(time__gte=since)
    pairs = list(rows.order_by("time").values_list(EpochMs("time"), field))
    if not pairs:
        return np.empty(0, np.int64), np.empty(0)
    times, values = zip(*pairs, strict=True)
    return np.asarray(times, dtype=np.int64), np.asarray(values, dtype=np.float64)


def _max_age(reading_ms: np.ndarray, step_ms: int) -> int:
    spacing = int(np.median(np.diff(reading_ms))) if len(reading_ms) > 1 else step_ms
    return 2 * max(spacing, step_ms)


def market_steps(market: Market, interval: str, *, since: datetime | None = None, newest: int | None = None) -> StepArrays:
    """The stored steps of ``market`` at ``interval`` that have an open-interest reading.

    Every step (from ``since``), or only those among the ``newest`` candles: a
    grid needs its window and warm-up, and reading a market's whole history on
    every computation would make each one slower than the last.
    """
    candles = Candle.objects.filter(market=market, interval=interval)
    if since is not None:
        candles = candles.filter(time__gte=since)
    fields = (EpochMs("time"), "open", "high", "low", "close", "volume", "taker_buy_volume")
    if newest is not None:
        rows = list(candles.order_by("-time").values_list(*fields)[:newest])[::-1]
    else:
        rows = list(candles.order_by("time").values_list(*fields))
    step_ms = INTERVAL_SECONDS[interval] * MS
    if not rows:
        empty = np.empty(0)
        return StepArrays(np.empty(0, np.int64), *(empty,) * 8)
    times, o, h, lo, c, v, tb = zip(*rows, strict=True)
    open_time = np.asarray(times, dtype=np.int64)
    step_end = open_time + step_ms
    # Readings older than the first step matter only as that step's "as of" reading.
    bounded = since is not None or newest is not None
    readings_since = from_ms(int(open_time[0])) - READINGS_LOOKBACK if bounded else None
    oi_ms, oi = _readings(OpenInterest, market, interval, "open_interest", readings_since)
    ls_ms, ls = _readings(LongShortRatio, market, interval, "long_share", readings_since)
    steps = StepArrays(
        open_time,
        np.asarray(o, dtype=np.float64),
        np.asarray(h, dtype=np.float64),
        np.asarray(lo, dtype=np.float64),
        np.asarray(c, dtype=np.float64),
        np.asarray(v, dtype=np.float64),
        np.asarray(tb, dtype=np.float64),  # None (no taker volume offered) becomes NaN
        as_of(step_end, oi_ms, oi, _max_age(oi_ms, step_ms)),
        as_of(step_end, ls_ms, ls, _max_age(ls_ms, step_ms)),
    )
    return steps.window(np.isfinite(steps.open_interest))
