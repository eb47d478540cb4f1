"""Squeeze summary: how much would be liquidated if price moved X %.

Long levels sit below price (a fall liquidates them: long-squeeze fuel), short
levels above (a rise liquidates them: short-squeeze fuel). For each X the
summary gives the USD of long levels within X % below the price and of short
levels within X % above it, and which side is heavier.

The grid only knows bins, not exact level prices: a bin that straddles a
boundary counts in proportion to the part of its price range inside (levels
are taken as spread evenly across a bin).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .validate import as_series, check_bin_edges

__all__ = ["SqueezeLevel", "SqueezeSummary", "squeeze_summary", "DEFAULT_SQUEEZE_PCTS"]

DEFAULT_SQUEEZE_PCTS = (1.0, 2.0, 5.0, 10.0)


@dataclass(frozen=True)
class SqueezeLevel:
    """Cumulative USD liquidated by a move of ``pct`` % each way."""

    pct: float
    long_usd: float  # long levels in [price × (1 - pct/100), price]
    short_usd: float  # short levels in [price, price × (1 + pct/100)]
    heavier: str  # "long", "short" or "even"

    def to_dict(self) -> dict:
        """JSON-ready dict."""
        return {"pct": self.pct, "long_usd": self.long_usd, "short_usd": self.short_usd, "heavier": self.heavier}


@dataclass(frozen=True)
class SqueezeSummary:
    """The squeeze table for one row."""

    price: float
    levels: tuple[SqueezeLevel, ...]

    def to_dict(self) -> dict:
        """JSON-ready dict."""
        return {"price": self.price, "levels": [lv.to_dict() for lv in self.levels]}


def _in_range(values: np.ndarray, edges: np.ndarray, lo: float, hi: float) -> float:
    """Sum of ``values`` over [lo, hi], bins counted by the fraction of their width inside."""
    left = np.maximum(edges[:-1], lo)
    right = np.minimum(edges[1:], hi)
    frac = np.clip((right - left) / (edges[1:] - edges[:-1]), 0.0, 1.0)
    return float(np.dot(values, frac))


def squeeze_summary(long_row, short_row, bin_edges, price: float, pcts: Sequence[float] = DEFAULT_SQUEEZE_PCTS) -> SqueezeSummary:
    """Squeeze table for one row of ``long_grid``/``short_grid`` at ``price`` (usually the row's close)."""
    edges = check_bin_edges(bin_edges)
    lg = as_series("long_row", long_row)
    sg = as_series("short_row", short_row)
    nb = len(edges) - 1
    if len(lg) != nb or len(sg) != nb:
        raise ValueError(f"long_row and short_row need one value per bin (got {len(lg)}, {len(sg)}, bins {nb})")
    if not (np.isfinite(lg).all() and np.isfinite(sg).all()):
        raise ValueError("long_row and short_row must be finite (a NaN row is a gap: there is nothing to sum)")
    if not (np.isfinite(price) and price > 0):
        raise ValueError(f"price must be finite and > 0, got {price!r}")
    levels = []
    for pct in pcts:
        if not (np.isfinite(pct) and 0 < pct < 100):
            raise ValueError(f"each percentage must lie in (0, 100), got {pct!r}")
        long_usd = _in_range(lg, edges, price * (1 - pct / 100), price)
        short_usd = _in_range(sg, edges, price, price * (1 + pct / 100))
        heavier = "long" if long_usd > short_usd else "short" if short_usd > long_usd else "even"
        levels.append(SqueezeLevel(float(pct), long_usd, short_usd, heavier))
    return SqueezeSummary(float(price), tuple(levels))
