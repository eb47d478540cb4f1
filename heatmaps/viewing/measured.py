"""Liquidations really reported, per column of a window, where they are known.

A liquidation stream only tells us about the time we were connected to it,
so a column counts as *measured* for a market when no coverage gap
(``liquidation_coverage_gaps``: the collector's connections and imported
files) touches it, or when imported per-step totals (``liquidation_totals``)
cover every step of it; a column is measured when it is for every market in
the view. Elsewhere the page shows the model's estimate, and says so; a
quiet, covered column is a measured zero, not a missing value.
"""

from __future__ import annotations

import numpy as np

from liqsite.exchanges.http import from_ms
from markets.liquidation_selectors import covered_mask, liquidation_totals
from markets.models import Liquidation, Market


def fill_measured(window, markets: list[Market]) -> None:
    """Set ``window.measured_long/short`` (USD per column, NaN where not covered)."""
    if not markets or not window.columns:
        return
    starts = window.times.astype(np.int64)
    ends = np.append(starts[1:], window.end_ms)
    measured = np.ones(window.columns, dtype=bool)
    long_usd = np.zeros(window.columns)
    short_usd = np.zeros(window.columns)
    for market in markets:
        totals = _total_columns(market, window, starts)
        by_totals = totals[2] if totals is not None else np.zeros(window.columns, dtype=bool)
        measured &= covered_mask(market=market, starts=starts, ends=ends) | by_totals
        if not measured.any():
            return
        records = _record_columns(market, starts, ends)
        for out, side in ((long_usd, 0), (short_usd, 1)):
            # An imported total is a complete measurement of its steps; records are a lower bound.
            out += np.where(by_totals, totals[side], records[side]) if totals is not None else records[side]
    window.measured_long = np.where(measured, long_usd, np.nan)
    window.measured_short = np.where(measured, short_usd, np.nan)


def _record_columns(market: Market, starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The market's liquidation records summed per column and side."""
    rows = np.array(
        Liquidation.objects.filter(market=market, time__gte=from_ms(starts[0]), time__lt=from_ms(ends[-1])).values_list(
            "time", "side", "usd"
        ),
        dtype=object,
    ).reshape(-1, 3)
    long_usd, short_usd = np.zeros(len(starts)), np.zeros(len(starts))
    if len(rows):
        ms = np.array([int(t.timestamp() * 1000) for t in rows[:, 0]], dtype=np.int64)
        column = np.searchsorted(starts, ms, side="right") - 1
        usd = rows[:, 2].astype(np.float64)
        is_long = rows[:, 1] == Liquidation.Side.LONG
        np.add.at(long_usd, column[is_long], usd[is_long])
        np.add.at(short_usd, column[~is_long], usd[~is_long])
    return long_usd, short_usd


def _total_columns(market: Market, window, starts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Imported totals per column and side, and which columns they cover step by step (None when there are none)."""
    opens = np.arange(int(starts[0]), int(window.end_ms), int(window.step_ms), dtype=np.int64)
    long_steps, short_steps = liquidation_totals(market=market, interval=window.interval, open_time=opens)
    known = np.isfinite(long_steps) & np.isfinite(short_steps)
    if not known.any():
        return None
    column = np.searchsorted(starts, opens, side="right") - 1
    complete = np.bincount(column, weights=(~known).astype(np.float64), minlength=len(starts)) == 0
    long_usd = np.bincount(column, weights=np.where(known, long_steps, 0.0), minlength=len(starts))
    short_usd = np.bincount(column, weights=np.where(known, short_steps, 0.0), minlength=len(starts))
    return long_usd, short_usd, complete
