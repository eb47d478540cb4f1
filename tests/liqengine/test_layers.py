"""Bucket layers of a window from one stream per market: the same results as one stream per layer.

``window_grid(..., bucket_layers=True)`` runs, per side, one stream per market
whose bins are (bucket, bin). These tests hold it to the way the layers were
computed before (kept here as the reference: every layer its own stream over
all markets, the other markets' views drawing nothing; the total its own stream,
or the layers' sum when every column is one step) on single markets, aggregates,
gaps, several steps per column and open interest that empties.
"""

from __future__ import annotations

import numpy as np
import pytest

from liqengine import INVERSE, MarketRun, MarketSeries, ModelParams, default_bin_edges, window_grid
from liqengine.columns import RULES, ColumnReducer, reduce_rows
from liqengine.grid import BLOCK_ROWS
from liqengine.layers import LAYER_DTYPE, layer_block_rows, reduce_layers
from liqengine.timeline import UnionRows, stream_union
from liqengine.window import DEFAULT_WARMUP_MS, column_layout
from tests.liqengine.helpers import emptying_oi, okx_sol_5m

STEP = 300_000  # 5 minutes in ms
TOLERANCE = 1e-9  # relative to the largest value of the array compared
FLOAT32_TOLERANCE = 1e-6  # the same for float32 layers: a few units in their last place
GRID_FIELDS = ("long_grid", "short_grid")
LAYER_FIELDS = ("long_grid", "short_grid", "realized_long", "realized_short")
TOTAL_FIELDS = (
    "long_grid",
    "short_grid",
    "realized_long",
    "realized_short",
    "pending_long",
    "pending_short",
    "high",
    "low",
    "close",
    "open_interest",
)


def per_layer_reference(markets, edges, *, start, end, warmup_ms=DEFAULT_WARMUP_MS, max_columns, interval_ms=STEP):
    """The layers and total grids as computed before: one stream per (market, bucket) layer over all markets."""
    runs = []
    for m in markets:
        a = int(np.searchsorted(m.open_time, start - warmup_ms, side="left"))
        b = int(np.searchsorted(m.open_time, end, side="left"))
        runs.append(MarketRun(m.slice(a, b), edges))
    union = UnionRows([r.series.open_time for r in runs], start, end)
    nb = len(edges) - 1
    width, n_columns = column_layout(start, end, interval_ms, max_columns)
    columns = (union.open_time - start) // width
    steps = np.bincount(columns, minlength=n_columns)
    starts = (np.cumsum(steps) - steps)[steps > 0]

    def reduce_stream(views):
        reducer = ColumnReducer(columns, n_columns, nb, BLOCK_ROWS)
        stream_union(views, union, reducer.buffers, reducer, bounds=reducer.bounds())
        return reducer

    def realized(per_row):
        out = np.zeros(n_columns)
        out[steps > 0] = reduce_rows(per_row, starts, RULES["realized"])
        return out

    layers = []
    for i, run in enumerate(runs):
        for k in range(len(run.series.params.leverage)):
            views = [r.only_buckets([k] if j == i else []) for j, r in enumerate(runs)]
            part = reduce_stream(views)
            layers.append(
                {
                    "key": (i, k, float(run.series.params.leverage[k])),
                    "long_grid": part.long,
                    "short_grid": part.short,
                    "realized_long": realized(union.gather([v.realized("long") for v in views])),
                    "realized_short": realized(union.gather([v.realized("short") for v in views])),
                }
            )
    if steps.max() <= 1:
        total = {name: sum(layer[name] for layer in layers) for name in GRID_FIELDS}
    else:
        whole = reduce_stream(runs)
        total = {"long_grid": whole.long, "short_grid": whole.short}
    return layers, total


def assert_same(got, want, label):
    got, want = np.asarray(got), np.asarray(want)
    if got.dtype == np.float32:
        # The reduced layers are float32 (their stored precision): the reference, rounded the same way once.
        assert got.dtype == LAYER_DTYPE, label
        want = want.astype(np.float32)
        return _assert_close(got.astype(np.float64), want.astype(np.float64), label, FLOAT32_TOLERANCE)
    return _assert_close(got, want, label, TOLERANCE)


def _assert_close(got, want, label, tolerance):
    assert got.shape == want.shape, f"{label}: shape {got.shape} != {want.shape}"
    assert np.array_equal(np.isnan(got), np.isnan(want)), f"{label}: NaN cells differ"
    finite = ~np.isnan(want)
    if not finite.any():
        return
    scale = float(np.abs(want[finite]).max())
    err = float(np.abs(got[finite] - want[finite]).max())
    assert err <= tolerance * scale + 1e-300, f"{label}: max error {err!r} > {tolerance} × {scale!r}"
    # Empty bins stay exactly empty (band thresholds count positive bins).
    assert np.array_equal(got[finite] == 0, want[finite] == 0), f"{label}: zero cells differ"


def check_against_reference(markets, edges, **window):
    got = window_grid(markets, edges, bucket_layers=True, **window)
    layers, total = per_layer_reference(markets, edges, **window)
    assert [(layer.market_index, layer.bucket_index, layer.leverage) for layer in got.layers] == [lay["key"] for lay in layers]
    for layer, want in zip(got.layers, layers):
        # Each layer is one contiguous array (the codec stores it without a copy).
        assert layer.long_grid.flags.c_contiguous and layer.short_grid.flags.c_contiguous
        for name in LAYER_FIELDS:
            assert_same(getattr(layer, name), want[name], f"layer {want['key']} {name}")
    for name in GRID_FIELDS:
        assert_same(getattr(got, name), total[name], f"total {name}")
    # Everything but the layers is what the window without layers gives.
    plain = window_grid(markets, edges, **window)
    for name in TOTAL_FIELDS:
        assert_same(getattr(got, name), getattr(plain, name), f"{name} against bucket_layers=False")
    assert np.array_equal(got.column_steps, plain.column_steps)
    return got


def sol(n, first=0, oi=None, keep=None, params=None, shift=0):
    """Real OKX SOL 5m rows ``first : first + n`` (optionally only ``keep``), timestamps moved by ``shift`` steps."""
    d = okx_sol_5m()
    sl = slice(first, first + n)
    oi = d["open_interest"][sl] if oi is None else oi
    keep = np.ones(n, dtype=bool) if keep is None else keep
    ot = d["open_time"][0] + (np.arange(n, dtype=np.int64) + shift) * STEP
    return MarketSeries(
        d["high"][sl][keep],
        d["low"][sl][keep],
        d["close"][sl][keep],
        oi[keep],
        open_time=ot[keep],
        params=params or ModelParams(),
    ).checked()


def window_of(markets, first_shown, n_shown, **kw):
    t0 = int(min(m.open_time[0] for m in markets))
    return {"start": t0 + first_shown * STEP, "end": t0 + (first_shown + n_shown) * STEP, **kw}


# 600 shown rows: 600 columns (one step each), 37 columns (17 steps: columns cut across blocks) and
# 2 columns (300 steps: columns longer than a block).
@pytest.mark.parametrize("max_columns", [600, 37, 2])
def test_single_market(max_columns):
    m = sol(900)
    edges = default_bin_edges(m.low, m.high, 80)
    check_against_reference([m], edges, **window_of([m], 250, 600, warmup_ms=200 * STEP, max_columns=max_columns))


@pytest.mark.parametrize("max_columns", [700, 50])
def test_single_market_with_gaps(max_columns):
    keep = np.ones(900, dtype=bool)
    keep[300:340] = False  # a gap of 40 steps: whole empty columns at both widths
    keep[::7] = False
    m = sol(900, keep=keep)
    edges = default_bin_edges(m.low, m.high, 60)
    got = check_against_reference([m], edges, **window_of([m], 200, 700, warmup_ms=200 * STEP, max_columns=max_columns))
    assert (got.column_steps == 0).any(), "the case must have gap columns"


@pytest.mark.parametrize("max_columns", [800, 61, 3])
def test_three_markets_aggregated(max_columns):
    # Different formulas and buckets, rows missing on two of them, one a step out of line with the others.
    keep_b = np.ones(1000, dtype=bool)
    keep_b[400:520] = False
    keep_b[::5] = False
    keep_c = np.ones(1000, dtype=bool)
    keep_c[:150] = False
    markets = [
        sol(1000),
        sol(1000, first=300, keep=keep_b, params=ModelParams(formula=INVERSE, leverage=(2, 20), weights=(0.5, 0.5))),
        sol(1000, first=600, keep=keep_c, shift=1, params=ModelParams(leverage=(3, 10, 50), weights=(0.2, 0.5, 0.3))),
    ]
    edges = default_bin_edges(np.concatenate([m.low for m in markets]), np.concatenate([m.high for m in markets]), 90)
    got = check_against_reference(markets, edges, **window_of(markets, 200, 800, warmup_ms=150 * STEP, max_columns=max_columns))
    assert len(got.layers) == 5 + 2 + 3
    # The market whose rows start late has empty columns in its layers: 0, not NaN, where the others have rows.
    late = [layer for layer in got.layers if layer.market_index == 2]
    assert all(np.isfinite(layer.long_grid).all() for layer in late)


@pytest.mark.parametrize("kind", ["alternate", "runs"])
@pytest.mark.parametrize("max_columns", [500, 45])
def test_open_interest_emptying(kind, max_columns):
    n = 700
    m = sol(n, oi=emptying_oi(kind, n, seed=4))
    edges = default_bin_edges(m.low, m.high, 120)
    got = check_against_reference([m], edges, **window_of([m], 200, 500, warmup_ms=200 * STEP, max_columns=max_columns))
    assert any(layer.long_grid.any() for layer in got.layers), "the case must draw something"


def test_aggregate_with_emptying_and_a_market_without_rows_in_the_window():
    # The second market's rows all lie in the warm-up: it has no union row, so its layers are all 0.
    a = sol(700, oi=emptying_oi("runs", 700, seed=4))
    b = sol(300, first=100)
    edges = default_bin_edges(np.r_[a.low, b.low], np.r_[a.high, b.high], 70)
    got = check_against_reference([a, b], edges, **window_of([a, b], 350, 350, warmup_ms=350 * STEP, max_columns=40))
    assert all(not layer.long_grid.any() for layer in got.layers if layer.market_index == 1)


def test_layer_stream_blocks_are_the_bucket_parts_and_add_up_to_the_whole():
    m = sol(700, oi=emptying_oi("runs", 700, seed=4))
    edges = default_bin_edges(m.low, m.high, 50)
    run = MarketRun(m, edges)
    nb, n = run.nb, run.n
    for side in ("long", "short"):
        whole = run.full_grid(side)
        parts = [run.only_buckets([k]).full_grid(side) for k in range(5)]
        for stream_rows, first in ((8, 0), (64, 37), (128, 129)):
            st = run.layer_stream(side, stream_rows)
            st.seek(first)
            block = st.block(n - first).reshape(n - first, 5, nb)
            for k in range(5):
                assert_same(block[:, k], parts[k][first:], f"{side} bucket {k} from row {first}")
            assert_same(block.sum(axis=1), whole[first:], f"{side} sum from row {first}")
    # Drawing a subset of buckets leaves the others' bins empty.
    block = run.only_buckets([1, 3]).layer_stream("long").block(n).reshape(n, 5, nb)
    assert not block[:, [0, 2, 4]].any() and block[:, 1].any()


@pytest.mark.parametrize("block_rows", [8, 64, 200 - 200 % 8])
def test_block_sizes_do_not_change_the_layers(block_rows):
    markets = [sol(600), sol(600, first=200, shift=1)]
    edges = default_bin_edges(np.r_[markets[0].low, markets[1].low], np.r_[markets[0].high, markets[1].high], 40)
    runs = [MarketRun(mk, edges) for mk in markets]
    union = UnionRows([mk.open_time for mk in markets], int(markets[0].open_time[100]), int(markets[0].open_time[-1]))
    columns = np.arange(len(union)) // 7
    n_columns = int(columns[-1]) + 1
    base_parts, base_total = reduce_layers(runs, union, columns, n_columns, 40)
    parts, total = reduce_layers(runs, union, columns, n_columns, 40, block_rows=block_rows)
    for got, want in [*zip(parts, base_parts), (total, base_total)]:
        assert_same(got.long, want.long, "long")
        assert_same(got.short, want.short, "short")


def test_wide_layers_get_shorter_blocks():
    assert layer_block_rows(5 * 400) == BLOCK_ROWS
    assert layer_block_rows(5 * 1000) == 48  # 2 MB of float64 per block at most
    assert layer_block_rows(50 * 1000) == 8  # never below one group of rows
    assert layer_block_rows(1 * 60) == BLOCK_ROWS


@pytest.mark.parametrize("kind", ["real", "alternate", "runs"])
def test_summing_only_the_live_bins_gives_the_grid_of_every_bin(kind, monkeypatch):
    """A block summed on its live bins only (the default on sparse layers) equals the full-width block:
    the same cells exactly 0, the rest to float rounding; the same with OI emptying inside blocks."""
    import liqengine.grid as grid

    n = 900
    m = sol(n) if kind == "real" else sol(n, oi=emptying_oi(kind, n, seed=3))
    edges = default_bin_edges(m.low, m.high, 120)
    window = window_of([m], 250, 600, warmup_ms=200 * STEP, max_columns=600)
    results = {}
    # A block goes full width when its live bins × COMPACT_SHARE exceed all bins: force one way, then the other.
    for name, share in (("full width", 1e12), ("live bins only", 1e-12)):
        monkeypatch.setattr(grid, "COMPACT_SHARE", share)
        calls = {"compact": 0, "full": 0}
        live_bins = grid.GridStream._live_bins

        def counted(self, bins, live_bins=live_bins, calls=calls):
            live = live_bins(self, bins)
            calls["full" if live is None else "compact"] += 1
            return live

        monkeypatch.setattr(grid.GridStream, "_live_bins", counted)
        results[name] = window_grid([m], edges, bucket_layers=True, **window)
        assert calls["compact" if name == "live bins only" else "full"] > 0 and 0 in calls.values(), (name, calls)
    full, compact = results["full width"], results["live bins only"]
    for name in GRID_FIELDS:
        assert_same(getattr(compact, name), getattr(full, name), f"total {name}")
    for a, b in zip(compact.layers, full.layers, strict=True):
        for name in LAYER_FIELDS:
            assert_same(getattr(a, name), getattr(b, name), f"layer {a.bucket_index} {name}")
