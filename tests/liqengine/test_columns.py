"""The one column rule: merging rows into columns, in one go or block by block."""

from __future__ import annotations

import numpy as np
import pytest

from liqengine.bands import _persistence, _Thresholds, analyse_map, row_thresholds
from liqengine.columns import RULES, ColumnReducer, column_max, reduce_rows


def test_each_field_merges_by_its_rule():
    values = np.array([1.0, 5.0, np.nan, 2.0, 7.0, 3.0])
    starts = np.array([0, 2, 5])
    assert RULES["grid"] == "max" and RULES["realized"] == "sum" and RULES["close"] == "last"
    np.testing.assert_array_equal(reduce_rows(values, starts, "first"), [1.0, np.nan, 3.0])
    np.testing.assert_array_equal(reduce_rows(values, starts, "last"), [5.0, 7.0, 3.0])
    np.testing.assert_array_equal(reduce_rows(values, starts, "max"), [5.0, 7.0, 3.0])  # NaN skipped
    np.testing.assert_array_equal(reduce_rows(values, starts, "min"), [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(reduce_rows(np.nan_to_num(values), starts, "sum"), [6.0, 9.0, 3.0])
    grid = np.arange(12.0).reshape(6, 2)
    np.testing.assert_array_equal(reduce_rows(grid, starts, "max"), [[2.0, 3.0], [8.0, 9.0], [10.0, 11.0]])
    with pytest.raises(ValueError, match="unknown column rule"):
        reduce_rows(values, starts, "mean")


@pytest.mark.parametrize("block", [1, 3, 4, 128])
def test_streamed_reduction_equals_one_reduction(block):
    rng = np.random.default_rng(5)
    columns = np.repeat(np.arange(12), rng.integers(1, 6, 12))
    rows = rng.random((len(columns), 6))
    n_columns = int(columns.max()) + 1
    reducer = ColumnReducer(columns, n_columns, 6, block)
    bounds = reducer.bounds()
    for a, b in zip(bounds[:-1], bounds[1:]):
        long_buf, short_buf = reducer.buffers(a, b)
        long_buf[:] = rows[a:b]
        short_buf[:] = -rows[a:b]
        reducer(a, b, long_buf, short_buf)
    starts = np.flatnonzero(np.r_[True, columns[1:] != columns[:-1]])
    np.testing.assert_array_equal(reducer.long, reduce_rows(rows, starts, "max"))
    np.testing.assert_array_equal(reducer.short, reduce_rows(-rows, starts, "max"))


@pytest.mark.parametrize(
    "lengths",
    [
        [3] * 40,  # equal columns: one run
        [2] + [4] * 30 + [1],  # a block's cut first and last columns
        [1, 2] * 20,  # more runs than are merged one by one: one reduceat
        [5, 5, 1, 1, 1, 7, 2, 2, 9],
        [128],
    ],
)
def test_merging_a_block_equals_reduceat(lengths):
    rng = np.random.default_rng(len(lengths))
    rows = rng.random((sum(lengths), 9))
    rows[rng.random(rows.shape) < 0.2] = 0.0
    starts = np.cumsum([0, *lengths[:-1]])
    np.testing.assert_array_equal(column_max(rows, starts), np.maximum.reduceat(rows, starts, axis=0))


def test_one_row_per_column_is_written_in_place():
    reducer = ColumnReducer(np.arange(5), 5, 3, 2)
    assert reducer.direct and reducer.bounds() == [0, 2, 4, 5]
    long_buf, _ = reducer.buffers(2, 4)
    long_buf[:] = 9.0
    assert (reducer.long[2:4] == 9.0).all()  # the output itself: no copy
    assert np.shares_memory(long_buf, reducer.long)


def _reference_persistence(g, r, a, z, factor):
    """The model page's definition, one row at a time with np.median (the code before vectorising)."""
    count, j = 0, r
    while j >= 0:
        pos = g[j][g[j] > 0]
        thr = float(factor * np.median(pos)) if len(pos) else 0.0
        if thr <= 0 or not (g[j, a : z + 1] >= thr).any():
            break
        count, j = count + 1, j - 1
    return count


def test_block_thresholds_and_persistence_match_the_row_by_row_definition():
    rng = np.random.default_rng(11)
    for trial in range(30):
        n, nb = int(rng.integers(1, 700)), int(rng.integers(1, 40))
        g = np.where(rng.random((n, nb)) < 0.6, 0.0, rng.lognormal(0, 1.5, (n, nb)))
        g[:, nb // 2] *= 50  # a standing band
        if trial % 3 == 0:
            g[rng.integers(0, n)] = np.nan  # a gap column
        for j in rng.integers(0, n, 5):
            pos = g[j][g[j] > 0]
            assert row_thresholds(g[j : j + 1], 3.0)[0] == (3.0 * np.median(pos) if len(pos) else 0.0)
        r = n - 1
        for a in range(0, nb, max(1, nb // 4)):
            z = min(nb - 1, a + int(rng.integers(0, 3)))
            assert _persistence(g, r, a, z, _Thresholds(g, 3.0)) == _reference_persistence(g, r, a, z, 3.0)
    edges = np.geomspace(10, 20, nb + 1)
    analysis = analyse_map(np.nan_to_num(g), edges, np.full(n, 15.0), np.ones(n), interval_seconds=300)
    assert analysis.threshold == row_thresholds(np.nan_to_num(g)[-1:], 3.0)[0]
