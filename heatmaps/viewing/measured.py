"""Liquidations the exchanges reported, per column of a window, where we were listening.

A liquidation stream only tells us about the time we were connected to it,
so a column counts as *measured* only when no coverage gap of the collector
(``liquidation_coverage_gaps``) touches it, for every market in the view.
Elsewhere the page shows the model's estimate, and says so; a quiet, covered
column is a measured zero, not a missing value.
"""

from __future__ import annotations

import numpy as np

from liqsite.exchanges.http import from_ms
from markets.liquidation_selectors import covered_mask
from markets.models import Liquidation, Market


def fill_measured(window, markets: list[Market]) -> None:
    """Set ``window.measured_long/short`` (USD per column, NaN where not covered)."""
    if not markets or not window.columns:
        return
    starts = window.times.astype(np.int64)
    ends = np.append(starts[1:], window.end_ms)
    covered = np.ones(window.columns, dtype=bool)
    for market in markets:
        covered &= covered_mask(market=market, starts=starts, ends=ends)
        if not covered.any():
            return
    rows = np.array(
        Liquidation.objects.filter(market__in=markets, time__gte=from_ms(starts[0]), time__lt=from_ms(ends[-1])).values_list(
            "time", "side", "usd"
        ),
        dtype=object,
    ).reshape(-1, 3)
    long_usd = np.zeros(window.columns)
    short_usd = np.zeros(window.columns)
    if len(rows):
        ms = np.array([int(t.timestamp() * 1000) for t in rows[:, 0]], dtype=np.int64)
        column = np.searchsorted(starts, ms, side="right") - 1
        usd = rows[:, 2].astype(np.float64)
        is_long = rows[:, 1] == Liquidation.Side.LONG
        np.add.at(long_usd, column[is_long], usd[is_long])
        np.add.at(short_usd, column[~is_long], usd[~is_long])
    window.measured_long = np.where(covered, long_usd, np.nan)
    window.measured_short = np.where(covered, short_usd, np.nan)
