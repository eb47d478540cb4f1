"""Liquidations the exchanges reported, per column of a window, where we were listening.

A liquidation stream only tells us about the time we were connected to it,
so a column counts as *measured* only when the collector's recorded
connections (``LiquidationCoverage``) cover the whole column for every
exchange in the view. Elsewhere the page shows the model's estimate, and says
so; a quiet, covered column is a measured zero, not a missing value.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from heatmaps.models import Liquidation, LiquidationCoverage, Market


def fill_measured(window, markets: list[Market]) -> None:
    """Set ``window.measured_long/short`` (USD per column, NaN where not covered)."""
    if not markets or not window.columns:
        return
    starts = window.times.astype(np.int64)
    ends = np.append(starts[1:], window.end_ms)
    covered = np.ones(window.columns, dtype=bool)
    for exchange_id in {market.exchange_id for market in markets}:
        covered &= _covered_columns(exchange_id, starts, ends)
        if not covered.any():
            return
    rows = np.array(
        Liquidation.objects.filter(market__in=markets, time__gte=_dt(starts[0]), time__lt=_dt(ends[-1]))
        .values_list("time", "side", "usd"),
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


def _covered_columns(exchange_id: int, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Columns wholly inside one recorded connection to the exchange's stream."""
    covered = np.zeros(len(starts), dtype=bool)
    connections = LiquidationCoverage.objects.filter(exchange_id=exchange_id, connected_at__lt=_dt(ends[-1])).values_list(
        "connected_at", "last_message_at", "disconnected_at"
    )
    for connected_at, last_message_at, disconnected_at in connections:
        # An open connection counts up to its last message: a collector that
        # died without saying so must not turn silence into "no liquidations".
        until = disconnected_at or last_message_at or connected_at
        a, b = connected_at.timestamp() * 1000, until.timestamp() * 1000
        covered |= (starts >= a) & (ends <= b)
    return covered


def _dt(ms) -> datetime:
    return datetime.fromtimestamp(int(ms) / 1000, tz=UTC)
