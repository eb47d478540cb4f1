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
from .columns import RULES, ColumnReducer, reduce_rows
from .compute import MarketRun
from .grid import BLOCK_ROWS
from .layers import reduce_layers
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
    steps = np.bincount(columns, minlength=n_columns).astype(np.int64)
    has = steps > 0
    # First union row of each non-empty column.
    starts = (np.cumsum(steps) - steps)[has]

    def per_column(per_row, rule, empty=np.nan):
        out = np.full(n_columns, empty)
        if len(per_row):
            out[has] = reduce_rows(per_row, starts, RULES[rule])
        return out

    def per_run(attr):
        # Pending totals live on the run; prices and OI on its series.
        return [getattr(r, attr) if attr.startswith("pending_") else getattr(r.series, attr) for r in runs]

    def gather(attr, how="sum"):
        return union.gather(per_run(attr), how)

    def reduce_stream(views):
        reducer = ColumnReducer(columns, n_columns, nb, BLOCK_ROWS)
        if len(union):
            stream_union(views, union, reducer.buffers, reducer, bounds=reducer.bounds())
        return reducer

    layers = []
    if bucket_layers and len(union):
        # One stream per market and side draws all of its buckets at once; the
        # total is reduced from the layers' sum (see .layers).
        per_market, total = reduce_layers(runs, union, columns, n_columns, nb)
        for i, (run, part) in enumerate(zip(runs, per_market)):
            for k, leverage in enumerate(run.series.params.leverage):
                bucket = run.only_buckets([k])
                # This market's bucket k alone; the other markets add nothing.
                realized = {
                    side: union.gather([bucket.realized(side) if j == i else np.zeros(r.n) for j, r in enumerate(runs)])
                    for side in ("long", "short")
                }
                layers.append(
                    ReducedLayer(
                        market_index=i,
                        bucket_index=k,
                        leverage=float(leverage),
                        long_grid=part.long[k],
                        short_grid=part.short[k],
                        realized_long=per_column(realized["long"], "realized", 0.0),
                        realized_short=per_column(realized["short"], "realized", 0.0),
                    )
                )
    else:
        total = reduce_stream(runs)
    long_total, short_total = total.long, total.short

    return ReducedGrid(
        long_grid=long_total,
        short_grid=short_total,
        realized_long=per_column(union.gather([r.realized("long") for r in runs]), "realized", 0.0),
        realized_short=per_column(union.gather([r.realized("short") for r in runs]), "realized", 0.0),
        pending_long=per_column(gather("pending_long"), "pending"),
        pending_short=per_column(gather("pending_short"), "pending"),
        bin_edges=edges,
        column_open_time=start + np.arange(n_columns, dtype=np.int64) * width,
        column_ms=int(width),
        column_steps=steps,
        high=per_column(gather("high", "first"), "high"),
        low=per_column(gather("low", "first"), "low"),
        close=per_column(gather("close", "first"), "close"),
        open_interest=per_column(gather("open_interest"), "open_interest"),
        layers=tuple(layers),
    )
