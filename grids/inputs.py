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
from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import QuerySet

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


def _table(rows: QuerySet) -> np.ndarray:
    """The rows of a ``values_list`` query as one float64 array (rows × fields; NULL is NaN).

    Run on the connection's cursor, past Django's per-value converters: a grid
    reads tens of thousands of values per series, and the converters cost as
    much as the database (every field read here is a float or an EpochMs
    integer, which float64 holds exactly up to 2**53 ms).
    """
    try:
        sql, params = rows.query.get_compiler(using=rows.db).as_sql()
    except EmptyResultSet:  # Django knows no row can match (a slice of nothing, an empty IN)
        return np.empty((0, len(rows.query.annotation_select) + len(rows.query.values_select)))
    with connections[rows.db].cursor() as cursor:
        cursor.execute(sql, params)
        fetched = cursor.fetchall()
        width = len(cursor.description)
    return np.array(fetched, dtype=np.float64).reshape(len(fetched), width)


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
    table = _table(rows.order_by("time").values_list(EpochMs("time"), field))
    return table[:, 0].astype(np.int64), table[:, 1].copy()


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
        table = _table(candles.order_by("-time").values_list(*fields)[:newest])[::-1]
    else:
        table = _table(candles.order_by("time").values_list(*fields))
    step_ms = INTERVAL_SECONDS[interval] * MS
    if not len(table):
        empty = np.empty(0)
        return StepArrays(np.empty(0, np.int64), *(empty,) * 8)
    open_time = table[:, 0].astype(np.int64)
    o, h, lo, c, v, tb = (np.ascontiguousarray(table[:, k]) for k in range(1, 7))
    step_end = open_time + step_ms
    # Readings older than the first step matter only as that step's "as of" reading.
    bounded = since is not None or newest is not None
    readings_since = from_ms(int(open_time[0])) - READINGS_LOOKBACK if bounded else None
    oi_ms, oi = _readings(OpenInterest, market, interval, "open_interest", readings_since)
    ls_ms, ls = _readings(LongShortRatio, market, interval, "long_share", readings_since)
    steps = StepArrays(
        open_time,
        o,
        h,
        lo,
        c,
        v,
        tb,  # NULL (no taker volume offered) is NaN
        as_of(step_end, oi_ms, oi, _max_age(oi_ms, step_ms)),
        as_of(step_end, ls_ms, ls, _max_age(ls_ms, step_ms)),
    )
    return steps.window(np.isfinite(steps.open_interest))
