"""When is each level crossed?

A long level created at row ``t`` at price ``P`` is liquidated at the first
later step ``u > t`` with ``low[u] <= P``; a short level at the first ``u > t``
with ``high[u] >= P``. That step depends only on prices, never on quantities,
so it can be found for every level at once, before the sequential part of the
model runs.

The search uses a sparse table of running minima (``table[j][i] = min(low[i :
i + 2**j])``) and binary lifting: starting at ``t + 1``, skip every block whose
minimum is still above ``P``, from the largest block size down. Each level
costs ``log2(T)`` vectorised comparisons, all exact (no arithmetic on prices),
so the crossing rows are exactly those of a step-by-step loop.
"""

from __future__ import annotations

import numpy as np

__all__ = ["RangeMinTable", "first_at_or_below", "first_at_or_above"]


class RangeMinTable:
    """Sparse table of range minima over ``values`` (levels of doubling width)."""

    def __init__(self, values: np.ndarray):
        v = np.ascontiguousarray(values, dtype=np.float64)
        self.n = len(v)
        self.levels = [v]
        width = 1
        while 2 * width <= self.n:
            prev = self.levels[-1]
            # level j covers [i, i + 2**j); valid for i <= n - 2**j.
            self.levels.append(np.minimum(prev[:-width], prev[width:]))
            width *= 2

    def first_at_or_below(self, start: np.ndarray, threshold: np.ndarray) -> np.ndarray:
        """For each query, the smallest ``i >= start`` with ``values[i] <= threshold`` (``n`` if none)."""
        pos = np.array(start, dtype=np.int64, copy=True)
        thr = np.asarray(threshold, dtype=np.float64)
        n = self.n
        if n == 0 or len(pos) == 0:
            return np.minimum(pos, n)
        idx = np.empty_like(pos)
        skip = np.empty(len(pos), dtype=bool)
        fits = np.empty(len(pos), dtype=bool)
        for j in range(len(self.levels) - 1, -1, -1):
            width = 1 << j
            level = self.levels[j]
            # Block [pos, pos + width) must lie inside the series to be skipped.
            np.less_equal(pos, n - width, out=fits)
            np.minimum(pos, n - width, out=idx)
            np.greater(level[idx], thr, out=skip)
            skip &= fits
            pos += skip * width
        return np.minimum(pos, n)


def first_at_or_below(values: np.ndarray, start: np.ndarray, threshold: np.ndarray) -> np.ndarray:
    """Smallest ``i >= start`` with ``values[i] <= threshold`` for each query; ``len(values)`` if none."""
    return RangeMinTable(values).first_at_or_below(start, threshold)


def first_at_or_above(values: np.ndarray, start: np.ndarray, threshold: np.ndarray) -> np.ndarray:
    """Smallest ``i >= start`` with ``values[i] >= threshold`` for each query; ``len(values)`` if none.

    Negation is exact in floating point, so this is the range-minimum search on
    ``-values`` with no rounding introduced.
    """
    return RangeMinTable(-np.asarray(values, dtype=np.float64)).first_at_or_below(start, -np.asarray(threshold, dtype=np.float64))
