"""Result objects: plain dataclasses of numpy arrays, floats and strings.

They carry no behaviour, so the Django side stores them as it likes
(``grids/computation.py``: grids as compressed float32 arrays, readings as JSON
through ``to_dict()`` on :mod:`.bands` and :mod:`.squeeze` results).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["LiquidationGrid", "ReducedGrid", "ReducedLayer"]


@dataclass(frozen=True)
class LiquidationGrid:
    """The model's outputs for one market (or an aggregate), one row per step.

    ``long_grid``/``short_grid``: T × bins, USD of pending levels per bin after
    each step. ``realized_*``: USD liquidated by crossing at each step.
    ``pending_*``: USD of all pending levels, in view or not. ``closing_factor``
    is the model's f_t (1 at t = 0; empty for aggregates, where it has no
    meaning). ``open_time`` is the step start (int64 ms) when known.
    """

    long_grid: np.ndarray
    short_grid: np.ndarray
    realized_long: np.ndarray
    realized_short: np.ndarray
    pending_long: np.ndarray
    pending_short: np.ndarray
    bin_edges: np.ndarray
    closing_factor: np.ndarray
    open_time: np.ndarray | None = None

    @property
    def grid(self) -> np.ndarray:
        """What the heatmap shows: ``long_grid + short_grid``."""
        return self.long_grid + self.short_grid


@dataclass(frozen=True)
class ReducedLayer:
    """The part of a reduced window that one leverage bucket of one market makes up."""

    market_index: int  # position of the market in the window's market list
    bucket_index: int
    leverage: float
    long_grid: np.ndarray  # columns × bins, float32 (per-column maxima of this part; see .layers.LayerColumns)
    short_grid: np.ndarray
    realized_long: np.ndarray  # columns
    realized_short: np.ndarray


@dataclass(frozen=True)
class ReducedGrid:
    """A displayed window at reduced resolution: at most N time columns.

    Each column merges the steps whose ``open_time`` falls in
    ``[column_open_time[i], column_open_time[i] + column_ms)``: grids take the
    maximum over the merged steps, ``realized_*`` the sum, ``pending_*`` and the
    price/OI columns the last step's value (high: max, low: min). A column with
    no step (a gap) has ``column_steps == 0``, NaN grids, pending, prices and OI,
    and zero realized.
    """

    long_grid: np.ndarray
    short_grid: np.ndarray
    realized_long: np.ndarray
    realized_short: np.ndarray
    pending_long: np.ndarray
    pending_short: np.ndarray
    bin_edges: np.ndarray
    column_open_time: np.ndarray
    column_ms: int
    column_steps: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    open_interest: np.ndarray
    layers: tuple[ReducedLayer, ...] = ()  # per (market, bucket) parts, when asked for

    @property
    def grid(self) -> np.ndarray:
        """What the heatmap shows: ``long_grid + short_grid`` (max per side, then summed)."""
        return self.long_grid + self.short_grid
