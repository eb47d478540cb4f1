"""Cut a stored grid down to what one page draws: a window, a price crop, ≤ 1,000 × 400 cells.

Pure numpy (no Django), so it can be tested and benchmarked on its own.

- **Time**: the window is the ``span`` ending at the snapshot's last step.
  When it has more than ``max_columns`` steps, consecutive steps are merged
  into one column by the engine's one column rule (:mod:`liqengine.columns`):
  pending USD by the **max** over the merged steps, realised liquidations by
  the **sum**, candles as open of the first / max high / min low / close of the
  last, open interest as its reading at the column's end. Columns are counted
  back from the last step, so the newest column is whole.
- **Price**: only the bins around the candles' range in the window are kept
  (``crop_margin`` beyond the lowest low and highest high, which covers the
  squeeze summary's ±10 %). When more than ``max_bins`` remain, adjacent bins
  are merged by **summing** their USD, so a cell still reads "USD pending in
  this price range".
- **Colour scale**: the top of the scale is the 99th percentile of the
  positive cells shown, so one extreme cell does not wash the rest out; cells
  above it are drawn in the top colour.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np

from grids.codec import pack_meta, unpack_meta
from heatmaps.viewing.grid_source import GridSource
from liqengine.columns import RULES, reduce_rows

CROP_MARGIN = 0.12  # beyond the window's lowest low and highest high
SCALE_PERCENTILE = 99.0

# Arrays of a window, by dtype, for storing it (frozen share links).
_ARRAY_FIELDS = (
    "times",
    "edges",
    "pending",
    "profile_long",
    "profile_short",
    "open",
    "high",
    "low",
    "close",
    "open_interest",
    "realized_long",
    "realized_short",
    "measured_long",
    "measured_short",
)


class EmptyGrid(ValueError):
    """The snapshot holds no steps."""


@dataclass
class HeatmapWindow:
    """Everything one heatmap view draws, already reduced."""

    interval: str
    step_ms: int  # length of one stored step
    steps_per_column: int
    times: np.ndarray  # int64 (C,) start of each column, ms since the epoch (UTC)
    edges: np.ndarray  # float64 (R+1,) price edges of the rows shown
    pending: np.ndarray  # float32 (C, R) USD of pending levels (long + short)
    profile_long: np.ndarray  # float32 (R,) USD of pending long levels at the last step
    profile_short: np.ndarray  # float32 (R,)
    open: np.ndarray  # float64 (C,) NaN when the snapshot holds closes only
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    open_interest: np.ndarray  # float64 (C,) base units at the column's end
    realized_long: np.ndarray  # float64 (C,) USD, the model's estimate
    realized_short: np.ndarray
    measured_long: np.ndarray  # float64 (C,) USD reported by the exchanges; NaN where not covered
    measured_short: np.ndarray
    scale_max: float  # top of the colour scale (99th percentile of positive cells)
    value_max: float  # the largest cell, for the legend
    bins_per_row: int

    @property
    def columns(self) -> int:
        return len(self.times)

    @property
    def rows(self) -> int:
        return len(self.edges) - 1

    @property
    def end_ms(self) -> int:
        """End of the last column (exclusive)."""
        return int(self.times[-1]) + self.step_ms * self.steps_per_column if self.columns else 0

    @property
    def has_ohlc(self) -> bool:
        return bool(np.isfinite(self.open).any())

    @property
    def has_measured(self) -> bool:
        return bool(np.isfinite(self.measured_long).any())

    # -- storage for frozen share links ---------------------------------------
    def to_bytes(self) -> bytes:
        meta = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in _ARRAY_FIELDS}
        return pack_meta(meta, {name: getattr(self, name) for name in _ARRAY_FIELDS})

    @classmethod
    def from_bytes(cls, blob: bytes) -> HeatmapWindow:
        meta, arrays = unpack_meta(blob)
        # Links frozen by an older version may carry fields this one no longer has.
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in meta.items() if k in known}, **{name: arrays[name] for name in _ARRAY_FIELDS})


def reduce_window(
    source: GridSource,
    *,
    interval: str,
    step_ms: int,
    span_ms: int,
    max_columns: int = 1000,
    max_bins: int = 400,
    layer_keep: np.ndarray | None = None,
    ohlc: dict[str, np.ndarray] | None = None,
) -> HeatmapWindow:
    """Reduce a stored grid to one window.

    ``layer_keep`` (a mask over the stored layers) draws the sum of those
    layers instead of the total grid. ``ohlc`` gives open/high/low/close rows
    aligned with the window's steps when the snapshot does not store them.
    """
    times = source["times"].astype(np.int64)
    if len(times) == 0:
        raise EmptyGrid("the stored grid has no steps")
    first = window_start(times, span_ms)
    window_times = times[first:]
    n = len(window_times)
    per_column = max(1, math.ceil(n / max_columns))
    # Columns are counted back from the last step, so the newest column is whole.
    col_last = np.arange(n - 1, -1, -per_column)[::-1]
    col_first = np.maximum(col_last - (per_column - 1), 0)

    prices = _window_prices(source, first, ohlc)
    edges = source["bin_edges"].astype(np.float64)
    b0, b1 = _crop(edges, prices)
    per_row = max(1, math.ceil((b1 - b0) / max_bins))
    row_first = np.arange(0, b1 - b0, per_row)
    shown_edges = np.append(edges[b0 + row_first], edges[b1])

    long_grid, short_grid, realized_long, realized_short = _window_grids(source, first, layer_keep)
    both = long_grid[:, b0:b1].astype(np.float32) + short_grid[:, b0:b1]
    by_row = np.add.reduceat(both, row_first, axis=1)
    pending = reduce_rows(by_row, col_first, RULES["grid"])
    pending = np.clip(np.nan_to_num(pending, nan=0.0, posinf=0.0), 0, None).astype(np.float32)
    profile_long = np.add.reduceat(long_grid[-1, b0:b1], row_first).astype(np.float32)
    profile_short = np.add.reduceat(short_grid[-1, b0:b1], row_first).astype(np.float32)

    positive = pending[pending > 0]
    value_max = float(positive.max()) if len(positive) else 0.0
    scale_max = float(np.percentile(positive, SCALE_PERCENTILE)) if len(positive) else 1.0

    nan = np.full(len(col_first), np.nan)
    return HeatmapWindow(
        interval=interval,
        step_ms=int(step_ms),
        steps_per_column=per_column,
        times=window_times[col_first],
        edges=shown_edges,
        pending=pending,
        profile_long=np.nan_to_num(profile_long),
        profile_short=np.nan_to_num(profile_short),
        open=reduce_rows(prices["open"], col_first, RULES["open"]),
        high=reduce_rows(prices["high"], col_first, RULES["high"]),
        low=reduce_rows(prices["low"], col_first, RULES["low"]),
        close=reduce_rows(prices["close"], col_first, RULES["close"]),
        open_interest=reduce_rows(source["open_interest"].astype(np.float64)[first:], col_first, RULES["open_interest"]),
        realized_long=reduce_rows(np.nan_to_num(realized_long.astype(np.float64)), col_first, RULES["realized"]),
        realized_short=reduce_rows(np.nan_to_num(realized_short.astype(np.float64)), col_first, RULES["realized"]),
        measured_long=nan,
        measured_short=nan.copy(),
        scale_max=max(scale_max, 1e-9),
        value_max=value_max,
        bins_per_row=per_row,
    )


def window_start(times: np.ndarray, span_ms: int) -> int:
    """Index of the first step of the ``span_ms`` ending at the last step (the last step included)."""
    return int(np.searchsorted(times, times[-1] - span_ms, side="right"))


def _window_grids(source: GridSource, first: int, layer_keep: np.ndarray | None):
    """Long grid, short grid and realised series from step ``first`` on: the total, or a sum of layers."""
    if layer_keep is None:
        return tuple(source[name][first:] for name in ("long_grid", "short_grid", "realized_long", "realized_short"))
    picked = np.flatnonzero(layer_keep)
    return tuple(
        source[name][picked, first:].sum(axis=0, dtype=np.float32)
        for name in ("layer_long_grid", "layer_short_grid", "layer_realized_long", "layer_realized_short")
    )


def _window_prices(source: GridSource, first: int, ohlc: dict[str, np.ndarray] | None) -> dict[str, np.ndarray]:
    """Open/high/low/close of the window's steps: stored, given, or closes only (NaN open/high/low)."""
    close = source["close"].astype(np.float64)[first:]
    if all(name in source for name in ("open", "high", "low")):
        return {name: source[name].astype(np.float64)[first:] for name in ("open", "high", "low")} | {"close": close}
    if ohlc is not None:
        return {name: np.asarray(ohlc[name], dtype=np.float64) for name in ("open", "high", "low", "close")}
    nan = np.full(len(close), np.nan)
    return {"open": nan, "high": close, "low": close, "close": close}


def _crop(edges: np.ndarray, prices: dict[str, np.ndarray]) -> tuple[int, int]:
    """The bins [b0, b1) within ``CROP_MARGIN`` of the window's price range (all bins if prices are unusable)."""
    nb = len(edges) - 1
    lows = prices["low"][np.isfinite(prices["low"]) & (prices["low"] > 0)]
    highs = prices["high"][np.isfinite(prices["high"]) & (prices["high"] > 0)]
    if not len(lows) or not len(highs):
        return 0, nb
    low, high = lows.min() / (1 + CROP_MARGIN), highs.max() * (1 + CROP_MARGIN)
    b0 = int(np.clip(np.searchsorted(edges, low, side="right") - 1, 0, nb - 1))
    b1 = int(np.clip(np.searchsorted(edges, high, side="left"), b0 + 1, nb))
    return b0, b1
