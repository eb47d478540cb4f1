"""Aggregate heatmaps: several markets on one bin grid and one time index."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .compute import MarketRun
from .params import MarketSeries
from .results import LiquidationGrid
from .timeline import UnionRows, stream_union
from .validate import check_bin_edges

__all__ = ["aggregate_grid", "prepare_markets"]


def prepare_markets(markets: Sequence[MarketSeries]) -> list[MarketSeries]:
    """Validate every market (each needs ``open_time``); raise ``ValueError`` naming the market."""
    if len(markets) == 0:
        raise ValueError("at least one market is needed")
    out = []
    for i, m in enumerate(markets):
        if not isinstance(m, MarketSeries):
            raise ValueError(f"market {i} must be a MarketSeries, got {type(m).__name__}")
        if m.open_time is None:
            raise ValueError(f"market {i} needs open_time (int64 ms) to be aligned with the others")
        try:
            out.append(m.checked())
        except ValueError as exc:
            raise ValueError(f"market {i}: {exc}") from None
    return out


def aggregate_grid(markets: Sequence[MarketSeries], bin_edges) -> LiquidationGrid:
    """Run the model on each market with its own parameters and formula, then sum them.

    The rows of the result are the union of the markets' ``open_time``; a
    market with no row at a step adds nothing to it. ``closing_factor`` is
    empty (each market has its own).
    """
    markets = prepare_markets(markets)
    edges = check_bin_edges(bin_edges)
    runs = [MarketRun(m, edges) for m in markets]
    union = UnionRows([m.open_time for m in markets])
    n, nb = len(union), len(edges) - 1
    long_grid = np.empty((n, nb))
    short_grid = np.empty((n, nb))
    stream_union(runs, union, lambda a, b: (long_grid[a:b], short_grid[a:b]))
    return LiquidationGrid(
        long_grid=long_grid,
        short_grid=short_grid,
        realized_long=union.gather([r.ledger.realized_long for r in runs]),
        realized_short=union.gather([r.ledger.realized_short for r in runs]),
        pending_long=union.gather([r.pending_long for r in runs]),
        pending_short=union.gather([r.pending_short for r in runs]),
        bin_edges=edges,
        closing_factor=np.zeros(0),
        open_time=union.open_time,
    )
