"""A displayed window: warm-up before it, and at most N time columns.

Levels opened before a window still matter, so a window ``[start, end)`` is
computed from ``start - warmup`` (7 days by default, capped by the history
available) and the warm-up rows are dropped. Pages then want at most ~1,000
columns: each column merges consecutive steps (grids: the maximum over the
merged steps, per bin; realized liquidations: the sum; pending totals, close
and open interest: the last step; high: max; low: min).

Rows are produced block by block and reduced as they come, so a year of 5m
steps (105,120 rows × 400 bins, 336 MB per side at float64) never exists in
memory at full resolution.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .aggregate import prepare_markets
from .compute import MarketRun
from .grid import BLOCK_ROWS
from .params import MarketSeries
from .results import ReducedGrid, ReducedLayer
from .timeline import UnionRows, stream_union
from .validate import check_bin_edges

__all__ = ["window_grid", "column_layout", "DEFAULT_WARMUP_MS", "DEFAULT_MAX_COLUMNS"]

DEFAULT_WARMUP_MS = 7 * 24 * 3600 * 1000
DEFAULT_MAX_COLUMNS = 1000


def column_layout(start: int, end: int, interval_ms: int, max_columns: int) -> tuple[int, int]:
    """Column width (ms, a whole number of steps) and column count for ``[start, end)``.

    The width is the smallest multiple of the step interval that fits the
    window in ``max_columns`` columns, so every column covers the same span
    and boundaries fall on step boundaries.
    """
    if interval_ms <= 0:
        raise ValueError(f"interval_ms must be > 0, got {interval_ms!r}")
    if max_columns < 1:
        raise ValueError(f"max_columns must be >= 1, got {max_columns!r}")
    if end <= start:
        raise ValueError(f"the window must end after it starts (start={start}, end={end})")
    slots = math.ceil((end - start) / interval_ms)
    steps_per_column = math.ceil(slots / max_columns)
    width = steps_per_column * interval_ms
    return width, math.ceil((end - start) / width)


def _infer_interval(times: Sequence[np.ndarray]) -> int:
    diffs = [np.diff(t) for t in times if len(t) > 1]
    if not diffs:
        raise ValueError("cannot infer the step interval from fewer than two rows; pass interval_ms")
    return int(min(d.min() for d in diffs))


class _ColumnReducer:
    """Reduces blocks of union rows into columns (per-bin maximum) as they arrive."""

    def __init__(self, columns: np.ndarray, n_columns: int, nb: int):
        self.columns = columns  # column of each union row (non-decreasing)
        self.long = np.full((n_columns, nb), np.nan)
        self.short = np.full((n_columns, nb), np.nan)
        self._buf = (np.empty((BLOCK_ROWS, nb)), np.empty((BLOCK_ROWS, nb)))

    def bounds(self) -> list[int]:
        """Block boundaries that follow the columns: whole columns up to BLOCK_ROWS
        rows per block, and columns longer than that cut into BLOCK_ROWS pieces."""
        n = len(self.columns)
        col_starts = np.flatnonzero(np.r_[True, self.columns[1:] != self.columns[:-1]]).tolist() + [n]
        out = [0]
        for a, b in zip(col_starts[:-1], col_starts[1:]):
            if b - out[-1] <= BLOCK_ROWS:
                continue  # the column fits in the current block
            if a > out[-1]:
                out.append(a)  # close the block before this column
            while b - out[-1] > BLOCK_ROWS:
                out.append(out[-1] + BLOCK_ROWS)
        out.append(n)
        return sorted(set(out))

    def buffers(self, a: int, b: int):
        return self._buf[0][: b - a], self._buf[1][: b - a]

    def __call__(self, a: int, b: int, long_rows: np.ndarray, short_rows: np.ndarray) -> None:
        cols = self.columns[a:b]
        starts = np.flatnonzero(np.r_[True, cols[1:] != cols[:-1]])
        run_cols = cols[starts]
        bounds = starts.tolist() + [b - a]
        for rows, out in ((long_rows, self.long), (short_rows, self.short)):
            if len(starts) == b - a:
                red = rows  # one row per column: nothing to merge
            elif len(starts) <= 4:
                # A block is usually one or two columns: reducing each slice is
                # ~3x faster than np.maximum.reduceat.
                red = np.empty((len(starts), rows.shape[1]))
                for i, (x, y) in enumerate(zip(bounds[:-1], bounds[1:])):
                    np.maximum.reduce(rows[x:y], axis=0, out=red[i])
            else:
                red = np.maximum.reduceat(rows, starts, axis=0)
            # A column may have started in the previous block: merge its rows.
            c0 = run_cols[0]
            if not np.isnan(out[c0, 0]):
                red = red.copy() if red is rows else red
                np.maximum(red[0], out[c0], out=red[0])
            out[run_cols] = red


def window_grid(
    markets: MarketSeries | Sequence[MarketSeries],
    bin_edges,
    *,
    start: int,
    end: int,
    warmup_ms: int = DEFAULT_WARMUP_MS,
    max_columns: int = DEFAULT_MAX_COLUMNS,
    interval_ms: int | None = None,
    bucket_layers: bool = False,
) -> ReducedGrid:
    """One market (or several, aggregated) over ``[start, end)`` (epoch ms), at most ``max_columns`` columns.

    Every market needs ``open_time``. The model runs on each market from its
    first row at or after ``start - warmup_ms`` (or its first row, if later);
    rows before ``start`` only build up the pending levels and are not shown.
    ``interval_ms`` is the step length; by default the smallest gap between
    consecutive rows of any market. Columns with no step (gaps) come out as NaN
    (see :class:`~.results.ReducedGrid`). For an aggregate, the price columns
    are those of the first market with a row at each step and open interest is
    the sum over the markets with a row.

    With ``bucket_layers``, the result also holds one :class:`~.results.ReducedLayer`
    per (market, leverage bucket): the part of the grids and realized
    liquidations that bucket's levels on that market make up (the model still
    runs with every bucket; the parts add up to the totals, the reduced grids'
    per-column maxima excepted). A page shows a subset by adding parts.
    """
    if isinstance(markets, MarketSeries):
        markets = [markets]
    markets = prepare_markets(markets)
    edges = check_bin_edges(bin_edges)
    if warmup_ms < 0:
        raise ValueError(f"warmup_ms must be >= 0, got {warmup_ms!r}")
    start, end = int(start), int(end)
    interval = int(interval_ms) if interval_ms is not None else _infer_interval([m.open_time for m in markets])
    width, n_columns = column_layout(start, end, interval, int(max_columns))

    # Each market is run on its warm-up + window rows only.
    runs = []
    for m in markets:
        a = int(np.searchsorted(m.open_time, start - warmup_ms, side="left"))
        b = int(np.searchsorted(m.open_time, end, side="left"))
        runs.append(MarketRun(m.slice(a, b), edges))
    union = UnionRows([r.series.open_time for r in runs], start, end)
    nb = len(edges) - 1
    columns = (union.open_time - start) // width
    reducer = _ColumnReducer(columns, n_columns, nb)
    if len(union):
        stream_union(runs, union, reducer.buffers, reducer, bounds=reducer.bounds())

    steps = np.bincount(columns, minlength=n_columns).astype(np.int64)
    has = steps > 0
    # Index of the last union row of each non-empty column.
    last = np.cumsum(steps)[has] - 1

    def col_sum(per_row):
        return np.bincount(columns, weights=per_row, minlength=n_columns)

    def col_last(per_row):
        out = np.full(n_columns, np.nan)
        out[has] = per_row[last]
        return out

    def col_reduce(per_row, ufunc):
        out = np.full(n_columns, np.nan)
        if len(per_row):
            first = np.cumsum(steps)[has] - steps[has]
            out[has] = ufunc.reduceat(per_row, first)
        return out

    def per_run(attr):
        # Pending totals live on the run; prices and OI on its series.
        return [getattr(r, attr) if attr.startswith("pending_") else getattr(r.series, attr) for r in runs]

    def gather(attr, how="sum"):
        return union.gather(per_run(attr), how)

    layers = []
    if bucket_layers and len(union):
        for i, run in enumerate(runs):
            for k in range(len(run.series.params.leverage)):
                # This market drawing bucket k alone; the other markets drawing nothing.
                views = [r.only_buckets([k] if j == i else []) for j, r in enumerate(runs)]
                part = _ColumnReducer(columns, n_columns, nb)
                stream_union(views, union, part.buffers, part, bounds=part.bounds())
                layers.append(ReducedLayer(
                    market_index=i,
                    bucket_index=k,
                    leverage=float(run.series.params.leverage[k]),
                    long_grid=part.long,
                    short_grid=part.short,
                    realized_long=col_sum(union.gather([v.realized("long") for v in views])),
                    realized_short=col_sum(union.gather([v.realized("short") for v in views])),
                ))

    return ReducedGrid(
        long_grid=reducer.long,
        short_grid=reducer.short,
        realized_long=col_sum(union.gather([r.realized("long") for r in runs])),
        realized_short=col_sum(union.gather([r.realized("short") for r in runs])),
        pending_long=col_last(gather("pending_long")),
        pending_short=col_last(gather("pending_short")),
        bin_edges=edges,
        column_open_time=start + np.arange(n_columns, dtype=np.int64) * width,
        column_ms=int(width),
        column_steps=steps,
        high=col_reduce(gather("high", "first"), np.maximum),
        low=col_reduce(gather("low", "first"), np.minimum),
        close=col_last(gather("close", "first")),
        open_interest=col_last(gather("open_interest")),
        layers=tuple(layers),
    )
