"""The one rule for merging consecutive steps into a column, used wherever a grid is shown coarser.

A column merges a run of consecutive rows (steps):

* pending USD per bin (the grids): the **max** over the merged rows. Pending
  levels are a stock: the brightest moment of the column is what a trader needs
  to see;
* realised liquidations: the **sum** (a flow);
* pending totals, close and open interest: the **last** row;
* open: the **first** row; high: the **max**; low: the **min**.

Columns are given by the index of their first row (``starts``, ascending, the
first one 0). The engine's windows (:func:`.window.window_grid`, columns of a
fixed span from a start time, streamed block by block), the stored snapshot
(one step per column) and the pages (columns counted back from the last step)
all lay out their columns their own way and reduce them here.
"""

from __future__ import annotations

import numpy as np

__all__ = ["RULES", "reduce_rows", "column_max", "ColumnReducer"]

# Field → how its rows merge into a column.
RULES = {
    "grid": "max",
    "realized": "sum",
    "pending": "last",
    "open": "first",
    "high": "max",
    "low": "min",
    "close": "last",
    "open_interest": "last",
}

_UFUNCS = {"max": np.fmax, "min": np.fmin, "sum": np.add}

# Past this many runs of equal-length columns in a block, one reduceat beats a call per run.
_MAX_RUNS = 16


def reduce_rows(values: np.ndarray, starts: np.ndarray, how: str) -> np.ndarray:
    """Merge the rows of ``values`` (rows first: a series or a rows × bins grid) into columns.

    ``starts`` holds each column's first row. "max" and "min" skip NaN (a
    column is NaN only where all its rows are), "sum" does not.
    """
    values = np.asarray(values)
    starts = np.asarray(starts, dtype=np.int64)
    if len(starts) == 0:
        return values[:0]
    if len(starts) == len(values):
        return values  # one row per column: nothing to merge
    if how == "first":
        return values[starts]
    if how == "last":
        return values[np.r_[starts[1:], len(values)] - 1]
    try:
        ufunc = _UFUNCS[how]
    except KeyError:
        raise ValueError(f"unknown column rule {how!r}; expected one of first, last, max, min, sum") from None
    return ufunc.reduceat(values, starts, axis=0)


class ColumnReducer:
    """Grids (rows × bins) reduced into columns (per-bin maximum) as blocks of rows arrive.

    ``columns`` gives the column of each row (non-decreasing). Blocks may cut a
    column: its rows are merged with what earlier blocks left. Columns no row
    reaches stay NaN. With one row per column, blocks are written straight into
    the output (``buffers`` hands out its slices), so nothing is copied.
    """

    def __init__(self, columns: np.ndarray, n_columns: int, nb: int, block_rows: int):
        self.columns = np.asarray(columns, dtype=np.int64)
        self.block_rows = block_rows
        self.direct = len(self.columns) == n_columns and bool(np.all(self.columns == np.arange(n_columns)))
        # With one row per column the blocks write every cell themselves (``bounds`` covers every row):
        # filling the output first would write it twice.
        allocate = np.empty if self.direct else (lambda shape: np.full(shape, np.nan))
        self.long = allocate((n_columns, nb))
        self.short = allocate((n_columns, nb))
        self._buf = None if self.direct else (np.empty((block_rows, nb)), np.empty((block_rows, nb)))

    def bounds(self) -> list[int]:
        """Block boundaries that follow the columns: whole columns up to ``block_rows``
        rows per block, and columns longer than that cut into ``block_rows`` pieces."""
        n = len(self.columns)
        if self.direct:
            return list(range(0, n, self.block_rows)) + [n]
        col_starts = np.flatnonzero(np.r_[True, self.columns[1:] != self.columns[:-1]]).tolist() + [n]
        out = [0]
        for a, b in zip(col_starts[:-1], col_starts[1:]):
            if b - out[-1] <= self.block_rows:
                continue  # the column fits in the current block
            if a > out[-1]:
                out.append(a)  # close the block before this column
            while b - out[-1] > self.block_rows:
                out.append(out[-1] + self.block_rows)
        out.append(n)
        return sorted(set(out))

    def buffers(self, a: int, b: int) -> tuple[np.ndarray, np.ndarray]:
        if self.direct:
            return self.long[a:b], self.short[a:b]
        return self._buf[0][: b - a], self._buf[1][: b - a]

    def __call__(self, a: int, b: int, long_rows: np.ndarray, short_rows: np.ndarray) -> None:
        if self.direct:
            return  # the rows were written in place
        cols = self.columns[a:b]
        starts = np.flatnonzero(np.r_[True, cols[1:] != cols[:-1]])
        run_cols = cols[starts]
        for rows, out in ((long_rows, self.long), (short_rows, self.short)):
            red = column_max(rows, starts)
            # A column may have started in the previous block: merge its rows.
            c0 = run_cols[0]
            if not np.isnan(out[c0, 0]):
                red = red.copy() if red is rows else red
                np.maximum(red[0], out[c0], out=red[0])
            out[run_cols] = red


def column_max(rows: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Per-bin maximum of a block of rows (rows × bins) over each column (``starts``: first row of each).

    Returns ``rows`` itself when every column is one row. The same values as
    ``np.maximum.reduceat(rows, starts, axis=0)``.
    """
    if len(starts) == len(rows):
        return rows  # one row per column: nothing to merge
    red = np.empty((len(starts), rows.shape[1]))
    if len(starts) <= 4:
        # A block is usually one or two long columns: one reduction per
        # column, without the bookkeeping below (~30 µs a block).
        bounds = starts.tolist() + [len(rows)]
        for i, (x, y) in enumerate(zip(bounds[:-1], bounds[1:])):
            np.maximum.reduce(rows[x:y], axis=0, out=red[i])
        return red
    lengths = np.diff(starts, append=len(rows))
    # Runs of columns with the same number of rows (all of a block's columns
    # but a cut first or last one, unless there are gaps): each run is one
    # maximum over the middle axis of a (columns, rows, bins) view.
    # np.maximum.reduceat walks each column's few rows per bin and measured
    # ~20x slower on 128 × 400 blocks of 3-row columns.
    runs = np.flatnonzero(np.diff(lengths)) + 1
    if len(runs) >= _MAX_RUNS:
        return np.maximum.reduceat(rows, starts, axis=0)
    bounds = [0, *runs.tolist(), len(starts)]
    for a, b in zip(bounds[:-1], bounds[1:]):
        s, x = int(lengths[a]), int(starts[a])
        block = rows[x : x + (b - a) * s].reshape(b - a, s, rows.shape[1])
        np.maximum.reduce(block, axis=1, out=red[a:b])
    return red
