"""Where a coin's bands come from: each exchange's share of the latest step, and its own open interest.

A coin's grid is the sum of its markets' grids (one layer per market and
leverage bucket). The compute task keeps, beside the total, every layer's
pending USD per bin at the latest step and every market's open interest
(``grids/codec.py``), so this split costs two small arrays, never the layer
grids. Read only; snapshots computed before those arrays existed give no split.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from django.core.cache import cache

from grids.models import GridSnapshot
from heatmaps.viewing.grid_source import GridSource
from heatmaps.viewing.heatmap_view import CACHE_SECONDS, HeatmapView
from heatmaps.viewing.window import HeatmapWindow

SPLIT_ARRAYS = (
    "bin_edges",
    "times",
    "layer_market_id",
    "layer_last_long",
    "layer_last_short",
    "market_ids",
    "market_open_interest",
)


@dataclass
class ExchangeSplit:
    """Per exchange (in ``labels`` order): the latest step's pending USD and open interest per column."""

    keys: tuple[str, ...]  # exchange plugin keys
    labels: tuple[str, ...]
    profile_long: np.ndarray  # float64 (E, R) pending long USD per row of the window at the latest step
    profile_short: np.ndarray  # float64 (E, R)
    open_interest: np.ndarray  # float64 (E, C) base units at each column's end; NaN where the exchange had no step
    bin_edges: np.ndarray  # float64 (B+1,) the stored bins, for bands given as price ranges
    last_bins: np.ndarray  # float64 (E, B) pending long + short USD per stored bin at the latest step

    def band_usd(self, low: float | None, high: float | None) -> list[tuple[str, float]]:
        """Each exchange's USD in the stored bins that lie within [low, high], largest first."""
        if low is None or high is None:
            return []
        centres = (self.bin_edges[:-1] + self.bin_edges[1:]) / 2
        inside = (centres >= low) & (centres <= high)
        usd = self.last_bins[:, inside].sum(axis=1)
        return sorted(zip(self.labels, usd.tolist()), key=lambda pair: -pair[1])


def exchange_split(view: HeatmapView) -> ExchangeSplit | None:
    """The split of a computed coin view (cached beside it), or None for markets and older snapshots."""
    if not (view.computed and view.target.is_coin and view.snapshot is not None):
        return None
    key = f"{view.cache_key}:by-exchange" if view.cache_key else ""
    if key:
        cached = cache.get(key)
        if cached is not None:
            return cached or None  # False: no split for this view, remembered
    split = _split(view)
    if key:
        cache.set(key, split or False, CACHE_SECONDS)
    return split


def _split(view: HeatmapView) -> ExchangeSplit | None:
    source = GridSource(GridSnapshot.objects.values_list("arrays", flat=True).get(pk=view.snapshot.pk))
    try:
        if not all(name in source for name in SPLIT_ARRAYS):
            return None
        arrays = {name: source[name] for name in SPLIT_ARRAYS}
    finally:
        source.close()
    by_id = {market.pk: market for market in view.markets}
    shown = set(view.query.exchanges)
    exchanges: dict[str, str] = {}
    for market_id in arrays["market_ids"].tolist():
        market = by_id.get(market_id)
        if market is not None and (not shown or market.exchange.plugin in shown):
            exchanges.setdefault(market.exchange.plugin, market.exchange.label)
    if not exchanges:
        return None
    keys = tuple(sorted(exchanges, key=exchanges.__getitem__))
    plugin_of = {market_id: by_id[market_id].exchange.plugin for market_id in by_id}
    layer_exchange = np.array([plugin_of.get(int(m), "") for m in arrays["layer_market_id"]])
    market_exchange = np.array([plugin_of.get(int(m), "") for m in arrays["market_ids"]])
    long_bins = np.stack([arrays["layer_last_long"][layer_exchange == k].sum(axis=0, dtype=np.float64) for k in keys])
    short_bins = np.stack([arrays["layer_last_short"][layer_exchange == k].sum(axis=0, dtype=np.float64) for k in keys])
    window = view.window
    rows = _rows(arrays["bin_edges"], window)
    columns = _column_ends(arrays["times"].astype(np.int64), window)
    oi = arrays["market_open_interest"].astype(np.float64)
    open_interest = np.stack([_nansum_or_nan(oi[market_exchange == k][:, columns]) for k in keys])
    return ExchangeSplit(
        keys=keys,
        labels=tuple(exchanges[k] for k in keys),
        profile_long=np.add.reduceat(long_bins[:, rows[0] : rows[1]], rows[2], axis=1),
        profile_short=np.add.reduceat(short_bins[:, rows[0] : rows[1]], rows[2], axis=1),
        open_interest=open_interest,
        bin_edges=arrays["bin_edges"].astype(np.float64),
        last_bins=long_bins + short_bins,
    )


def _rows(edges: np.ndarray, window: HeatmapWindow) -> tuple[int, int, np.ndarray]:
    """The stored bins [b0, b1) the window shows and the first bin of each of its rows (as ``reduce_window`` cut them)."""
    b0 = int(np.argmin(np.abs(edges - window.edges[0])))
    b1 = int(np.argmin(np.abs(edges - window.edges[-1])))
    return b0, b1, np.arange(0, b1 - b0, window.bins_per_row)


def _column_ends(times: np.ndarray, window: HeatmapWindow) -> np.ndarray:
    """Index of each column's last stored step: open interest is read at the column's end."""
    starts = np.searchsorted(times, window.times)
    return np.append(starts[1:] - 1, len(times) - 1)


def _nansum_or_nan(values: np.ndarray) -> np.ndarray:
    """Sum over an exchange's markets per column; NaN where none of them had a step."""
    present = np.isfinite(values).any(axis=0)
    return np.where(present, np.nansum(values, axis=0), np.nan)
