"""Several markets on one grid, warm-up windows and reduction to N columns."""

from __future__ import annotations

import numpy as np
import pytest

from liqengine import (
    INVERSE,
    MarketSeries,
    ModelParams,
    aggregate_grid,
    column_layout,
    default_bin_edges,
    liquidation_grid,
    window_grid,
)

STEP = 300_000  # 5 minutes in ms
T0 = 1_780_000_000_000


def market(n, seed, scale=1.0, keep=None, params=None):
    rng = np.random.default_rng(seed)
    c = 100 * scale * np.exp(np.cumsum(rng.normal(0, 0.004, n)))
    h = c * (1 + rng.uniform(0, 0.004, n))
    lo = c * (1 - rng.uniform(0, 0.004, n))
    oi = np.maximum(0.0, 5000 + np.cumsum(rng.normal(0, 40, n)))
    ot = T0 + np.arange(n, dtype=np.int64) * STEP
    keep = np.ones(n, dtype=bool) if keep is None else keep
    return MarketSeries(h[keep], lo[keep], c[keep], oi[keep], open_time=ot[keep], params=params or ModelParams())


def single(m, edges):
    return liquidation_grid(
        m.high,
        m.low,
        m.close,
        m.open_interest,
        edges,
        m.long_share,
        m.params.leverage,
        m.params.weights,
        m.params.mmr,
        formula=m.params.formula,
    )


def test_aggregate_sums_markets_on_the_union_time_index():
    n = 700
    a = market(n, 1)
    gaps = np.ones(n, dtype=bool)
    gaps[200:260] = False  # a gap of 5 hours
    gaps[::9] = False
    b = market(
        n, 2, scale=1.01, keep=gaps, params=ModelParams(formula=INVERSE, leverage=(2, 20), weights=(0.5, 0.5), mmr=(0.005, 0.005))
    )
    edges = default_bin_edges(np.r_[a.low, b.low], np.r_[a.high, b.high], 150)
    agg = aggregate_grid([a, b], edges)
    ra, rb = single(a, edges), single(b, edges)
    assert np.array_equal(agg.open_time, a.open_time)  # a has every step
    for name in ("long_grid", "short_grid", "realized_long", "realized_short", "pending_long", "pending_short"):
        want = getattr(ra, name).copy()
        want[gaps] += getattr(rb, name)  # b adds nothing where it has no row
        got = getattr(agg, name)
        assert np.abs(got - want).max() <= 1e-9 * np.abs(want).max(), name


def test_aggregate_of_disjoint_times_interleaves_rows():
    a = market(300, 3)
    b = MarketSeries(a.high, a.low, a.close, a.open_interest, open_time=a.open_time + STEP // 2)
    edges = default_bin_edges(a.low, a.high, 60)
    agg = aggregate_grid([a, b], edges)
    ra = single(a, edges)
    assert len(agg.open_time) == 600
    assert np.allclose(agg.long_grid[0::2], ra.long_grid) and np.allclose(agg.long_grid[1::2], ra.long_grid)


def _reduce_reference(full, rows, columns, n_columns):
    """Straightforward column reduction of a full-resolution result."""
    out = {k: np.full((n_columns,) + getattr(full, k).shape[1:], np.nan) for k in ("long_grid", "short_grid", "pending_long")}
    realized = np.zeros(n_columns)
    for col in range(n_columns):
        sel = rows[columns == col]
        if len(sel) == 0:
            continue
        out["long_grid"][col] = full.long_grid[sel].max(axis=0)
        out["short_grid"][col] = full.short_grid[sel].max(axis=0)
        out["pending_long"][col] = full.pending_long[sel[-1]]
        realized[col] = full.realized_long[sel].sum()
    return out, realized


@pytest.mark.parametrize("max_columns", [1, 7, 100, 5000])
def test_window_equals_reducing_the_full_grid(max_columns):
    n = 1500
    m = market(n, 4)
    edges = default_bin_edges(m.low, m.high, 80)
    start, end = int(m.open_time[400]), int(m.open_time[-1]) + STEP
    # Warm-up longer than the history: the model runs from row 0.
    w = window_grid(m, edges, start=start, end=end, warmup_ms=10**13, max_columns=max_columns)
    full = single(m, edges)
    width, n_columns = column_layout(start, end, STEP, max_columns)
    assert w.long_grid.shape == (n_columns, 80) and n_columns <= max_columns
    rows = np.arange(400, n)
    columns = (m.open_time[rows] - start) // width
    ref, realized = _reduce_reference(full, rows, columns, n_columns)
    for k in ref:
        assert np.allclose(getattr(w, k), ref[k], rtol=1e-9, atol=1e-9, equal_nan=True), k
    assert np.allclose(w.realized_long, realized, rtol=1e-9, atol=1e-9)
    assert w.column_steps.sum() == n - 400
    last = np.cumsum(w.column_steps) - 1
    assert np.array_equal(w.close, m.close[400:][last])
    assert np.array_equal(w.high, np.maximum.reduceat(m.high[400:], last - w.column_steps + 1))


def test_warmup_is_capped_and_dropped():
    n = 1200
    m = market(n, 5)
    edges = default_bin_edges(m.low, m.high, 50)
    start = int(m.open_time[600])
    day = 24 * 3600 * 1000
    w = window_grid(m, edges, start=start, end=int(m.open_time[-1]) + STEP, warmup_ms=day, max_columns=10_000)
    # The model starts 288 rows (one day of 5m) before the window.
    full = single(m.slice(600 - 288, n), edges)
    assert np.allclose(w.long_grid, full.long_grid[288:], rtol=1e-9, atol=1e-9)
    assert np.allclose(w.pending_short, full.pending_short[288:], rtol=1e-9, atol=1e-9)
    # Without warm-up, levels opened before the window are missing.
    cold = window_grid(m, edges, start=start, end=int(m.open_time[-1]) + STEP, warmup_ms=0, max_columns=10_000)
    assert cold.pending_long[0] < w.pending_long[0]


def test_gaps_come_out_as_empty_columns():
    n = 600
    keep = np.ones(n, dtype=bool)
    keep[100:160] = False
    m = market(n, 6, keep=keep)
    edges = default_bin_edges(m.low, m.high, 30)
    w = window_grid(m, edges, start=T0, end=T0 + n * STEP, max_columns=n)
    empty = w.column_steps == 0
    assert empty.sum() == 60
    assert np.isnan(w.long_grid[empty]).all() and np.isnan(w.close[empty]).all()
    assert (w.realized_long[empty] == 0).all()
    assert not np.isnan(w.long_grid[~empty]).any()


def test_window_of_several_markets_equals_reduced_aggregate():
    n = 900
    a, b = market(n, 7), market(n, 8, scale=0.99)
    edges = default_bin_edges(np.r_[a.low, b.low], np.r_[a.high, b.high], 40)
    start, end = int(a.open_time[300]), int(a.open_time[-1]) + STEP
    w = window_grid([a, b], edges, start=start, end=end, warmup_ms=10**13, max_columns=50)
    agg = aggregate_grid([a, b], edges)
    width, n_columns = column_layout(start, end, STEP, 50)
    rows = np.arange(300, n)
    columns = (agg.open_time[rows] - start) // width
    ref, realized = _reduce_reference(agg, rows, columns, n_columns)
    assert np.allclose(w.long_grid, ref["long_grid"], rtol=1e-9, atol=1e-9)
    assert np.allclose(w.realized_long, realized, rtol=1e-9, atol=1e-9)
    # Open interest of an aggregate is the sum over the markets.
    last = np.cumsum(w.column_steps) - 1 + 300
    assert np.allclose(w.open_interest, a.open_interest[last] + b.open_interest[last])


def test_the_heatmap_is_the_sum_of_both_sides():
    m = market(200, 9)
    edges = default_bin_edges(m.low, m.high, 20)
    full = liquidation_grid(m.high, m.low, m.close, m.open_interest, edges, open_time=m.open_time)
    assert np.allclose(full.grid, full.long_grid + full.short_grid)
