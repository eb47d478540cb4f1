"""Every (market, leverage bucket) layer of a window, and its total, in one pass over the rows.

A page that filters leverage buckets adds up per-bucket parts of the grids, so
:func:`.window.window_grid` can return one part per (market, bucket). Each
market's side runs as a single stream whose bins are (bucket, bin)
(:meth:`.compute.MarketRun.layer_stream`): a block of it reshaped
(rows, P, nb) holds that market's P layers, and their sum over P is the
market's part of the total. Per side, a window of M markets thus runs M
streams, never a stream that draws nothing.

Both are then reduced into columns by the one column rule (per-bin maximum
over a column's rows, :mod:`.columns`). The total is reduced from the summed
blocks, not summed from the reduced layers: with several steps per column, the
maximum of a sum is not the sum of the maxima.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .columns import ColumnReducer, column_max
from .compute import MarketRun
from .grid import BLOCK_ROWS, GROUP_ROWS
from .timeline import UnionRows

__all__ = ["reduce_layers", "LayerColumns", "layer_block_rows", "LAYER_BLOCK_CELLS", "LAYER_DTYPE"]

SIDES = ("long", "short")
# The reduced layers' precision (see LayerColumns).
LAYER_DTYPE = np.float32

# Cells (rows × P × nb) per block of a market's layers: 128 rows of 5 buckets ×
# 400 bins, 2 MB at float64 per side. Wider layers get fewer rows per block, so
# a window's memory stays a few blocks per market whatever its buckets and bins
# (a year of 5m rows is streamed, never held). At 5 × 400 bins, 32- and 64-row
# blocks measured slower than 128 (more Python steps, no cache gain).
LAYER_BLOCK_CELLS = BLOCK_ROWS * 5 * 400


def layer_block_rows(cells_per_row: int) -> int:
    """Rows per block for layers of ``cells_per_row`` cells: within LAYER_BLOCK_CELLS, a multiple of 8, 8 to BLOCK_ROWS."""
    return max(GROUP_ROWS, min(BLOCK_ROWS, LAYER_BLOCK_CELLS // max(1, cells_per_row) // GROUP_ROWS * GROUP_ROWS))


class LayerColumns:
    """One market's P layers (blocks of rows × (P × nb) cells) reduced into columns, per-bin maximum.

    ``long``/``short`` are P × columns × bins, so each layer is one contiguous
    columns × bins array (what is stored, and what pages add up). Blocks may
    cut a column: its rows are merged with what earlier blocks left. Columns
    no row reaches stay NaN.

    The layers are kept as float32, the precision they are stored and shown in
    (``grids.codec``; the page shows 3 significant digits of USD): a 5m market's
    layers are 5 × 4,032 × 400 cells per side, and writing them at float64 only
    for the codec to halve them cost a quarter of a stored grid's compute. The
    streams and the total stay float64; each cell is rounded once, here.
    """

    def __init__(self, columns: np.ndarray, n_columns: int, buckets: int, nb: int, block_rows: int):
        self.columns = np.asarray(columns, dtype=np.int64)
        self.p, self.nb = buckets, nb
        # Every cell is written when every column has a row: no NaN fill first.
        every = len(self.columns) > 0 and bool(np.all(np.bincount(self.columns, minlength=n_columns) > 0))
        allocate = np.empty if every else (lambda shape, dtype: np.full(shape, np.nan, dtype=dtype))
        self.long = allocate((buckets, n_columns, nb), dtype=LAYER_DTYPE)
        self.short = allocate((buckets, n_columns, nb), dtype=LAYER_DTYPE)
        self.buffers = (np.empty((block_rows, buckets * nb)), np.empty((block_rows, buckets * nb)))
        self._last = -1  # the last column written (blocks come in row order)

    def __call__(self, a: int, b: int, long_rows: np.ndarray, short_rows: np.ndarray) -> None:
        cols = self.columns[a:b]
        starts = np.flatnonzero(np.r_[True, cols[1:] != cols[:-1]])
        run_cols = cols[starts]
        c0, c1 = int(run_cols[0]), int(run_cols[-1])
        carried = c0 == self._last
        self._last = c1
        for rows, out in ((long_rows, self.long), (short_rows, self.short)):
            red = column_max(rows, starts).reshape(len(starts), self.p, self.nb)
            if carried:
                # The column started in the previous block: merge its rows (rows may be a buffer reused later).
                np.maximum(red[0], out[:, c0], out=out[:, c0])
                red, run_cols_left = red[1:], run_cols[1:]
            else:
                run_cols_left = run_cols
            if len(run_cols_left) == 0:
                continue
            if c1 - int(run_cols_left[0]) + 1 == len(run_cols_left):
                out[:, int(run_cols_left[0]) : c1 + 1] = red.transpose(1, 0, 2)
            else:  # gap columns in between stay NaN
                out[:, run_cols_left] = red.transpose(1, 0, 2)


def reduce_layers(
    runs: Sequence[MarketRun],
    union: UnionRows,
    columns: np.ndarray,
    n_columns: int,
    nb: int,
    block_rows: int | None = None,
) -> tuple[list[LayerColumns], ColumnReducer]:
    """Stream every market's bucket layers over the union rows and reduce them into columns.

    ``columns`` is the column of each union row (non-decreasing). Returns one
    :class:`LayerColumns` per market, whose ``long[k]``/``short[k]`` are bucket
    k's layer (``n_columns × nb``), and a :class:`~.columns.ColumnReducer` of
    the total (``n_columns × nb``). A market with no row at a union row adds 0
    to its layers there (a column of union rows none of which is the market's
    holds 0 in its layers, not NaN); columns no union row reaches are NaN. Memory: a block of rows per market and side, of
    ``block_rows`` rows (by default :func:`layer_block_rows` of the widest market).
    """
    sizes = [len(r.series.params.leverage) for r in runs]
    if block_rows is None:
        block_rows = layer_block_rows(max(sizes) * nb)
    per_market = [LayerColumns(columns, n_columns, p, nb, block_rows) for p in sizes]
    total = ColumnReducer(columns, n_columns, nb, block_rows)
    n = len(union)
    if n == 0:
        return per_market, total
    streams = []
    for run, a in zip(runs, union.first):
        st = {side: run.layer_stream(side, block_rows) for side in SIDES}
        for s in st.values():
            s.seek(a)
        streams.append(st)
    cursor = [0] * len(runs)
    bounds = total.bounds()  # every reducer has the same columns and block rows, hence the same bounds
    for start, stop in zip(bounds[:-1], bounds[1:]):
        m = stop - start
        if m <= 0:
            continue
        summed = dict(zip(SIDES, total.buffers(start, stop)))
        written = False
        for i, pos in enumerate(union.positions):
            lo = cursor[i]
            hi = lo + int(np.searchsorted(pos[lo:], stop, side="left"))
            cursor[i] = hi
            out = {side: buf[:m] for side, buf in zip(SIDES, per_market[i].buffers)}
            for side in SIDES:
                if hi - lo == m:  # positions are increasing, so this is every row
                    streams[i][side].fill(out[side])
                else:
                    out[side].fill(0.0)
                    if hi > lo:
                        out[side][pos[lo:hi] - start] = streams[i][side].block(hi - lo)
                if hi > lo:
                    parts = out[side].reshape(m, sizes[i], nb)
                    if written:
                        summed[side] += parts.sum(axis=1)
                    else:
                        np.sum(parts, axis=1, out=summed[side])
            written = written or hi > lo
            per_market[i](start, stop, out["long"], out["short"])
        if not written:
            for side in SIDES:
                summed[side].fill(0.0)
        total(start, stop, summed["long"], summed["short"])
    return per_market, total
