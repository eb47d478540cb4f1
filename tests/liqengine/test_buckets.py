"""Per-bucket parts of a grid: what the page's "leverage buckets shown" control adds up."""

from __future__ import annotations

import numpy as np
import pytest

from liqengine import MarketSeries, default_bin_edges, window_grid
from liqengine.compute import MarketRun
from tests.liqengine.helpers import RELATIVE_TOLERANCE, okx_sol_5m, run_reference

STEPS = 400


@pytest.fixture(scope="module")
def sol():
    data = okx_sol_5m()
    cut = {name: values[:STEPS] for name, values in data.items()}
    edges = default_bin_edges(cut["low"], cut["high"], 60)
    series = MarketSeries(cut["high"], cut["low"], cut["close"], cut["open_interest"], cut["open_time"]).checked()
    return cut, edges, series


def _close(got, want, label):
    want = np.asarray(want, dtype=np.float64)
    scale = float(np.abs(want).max()) if want.size else 0.0
    assert float(np.abs(np.asarray(got) - want).max()) <= RELATIVE_TOLERANCE * scale + 1e-300, label


@pytest.mark.parametrize("bucket", range(5))
def test_a_bucket_part_equals_the_reference_counting_only_that_bucket(sol, bucket):
    cut, edges, series = sol
    run = MarketRun(series, edges).only_buckets([bucket])
    ref = run_reference(cut["high"], cut["low"], cut["close"], cut["open_interest"], edges, only_bucket=bucket)
    _close(run.full_grid("long"), ref["long_grid"], "long_grid")
    _close(run.full_grid("short"), ref["short_grid"], "short_grid")
    _close(run.realized("long"), ref["realized_long"], "realized_long")
    _close(run.realized("short"), ref["realized_short"], "realized_short")
    assert np.asarray(ref["long_grid"]).any(), "the bucket must have levels in view for the test to mean something"


def test_bucket_parts_add_up_to_the_whole(sol):
    _, edges, series = sol
    run = MarketRun(series, edges)
    parts = [run.only_buckets([k]) for k in range(5)]
    for side in ("long", "short"):
        whole = run.full_grid(side)
        np.testing.assert_allclose(sum(p.full_grid(side) for p in parts), whole, rtol=1e-9, atol=1e-9 * whole.max())
        np.testing.assert_allclose(sum(p.realized(side) for p in parts), run.realized(side), rtol=1e-9)
    with pytest.raises(ValueError, match="bucket indices must lie in 0..4"):
        run.only_buckets([5])


def test_window_layers_are_the_bucket_parts_column_by_column(sol):
    cut, edges, series = sol
    start, end = int(cut["open_time"][100]), int(cut["open_time"][-1]) + 300_000
    reduced = window_grid(series, edges, start=start, end=end, warmup_ms=100 * 300_000, max_columns=STEPS, bucket_layers=True)
    assert [(layer.market_index, layer.bucket_index, layer.leverage) for layer in reduced.layers] == [
        (0, k, lev) for k, lev in enumerate((5.0, 10.0, 25.0, 50.0, 100.0))
    ]
    # One step per column: the parts add up to the total (the grid parts to float32, their stored precision).
    for name, rtol in (("long_grid", 1e-6), ("short_grid", 1e-6), ("realized_long", 1e-9), ("realized_short", 1e-9)):
        total = getattr(reduced, name)
        parts = sum(getattr(layer, name).astype(np.float64) for layer in reduced.layers)
        np.testing.assert_allclose(parts, total, rtol=rtol, atol=rtol * np.nanmax(total))
    assert window_grid(series, edges, start=start, end=end, max_columns=STEPS).layers == ()
