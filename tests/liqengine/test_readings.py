"""The four readings' numbers (liqengine/readings.py) on hand-made rows whose answers are known."""

from __future__ import annotations

import numpy as np
import pytest

from liqengine import ReadingSettings, read_map
from liqengine.readings import magnet_band, near_sums, run_start, thin_distances, trailing_rank

EDGES = np.arange(90.0, 110.5, 1.0)  # 20 bins of 1.0 from 90 to 110


def row(**bins):
    r = np.zeros(len(EDGES) - 1)
    for price, usd in bins.items():
        r[int(price[1:]) - 90] = usd
    return r


def test_near_sums_count_bins_by_the_part_inside():
    r = row(b98=10.0, b99=20.0, b100=40.0, b101=80.0)  # bins [98,99), [99,100), [100,101), [101,102)
    below, above = near_sums(r, EDGES, [100.0], 1.5)  # [98.5, 100] and [100, 101.5]
    assert below[0] == pytest.approx(0.5 * 10 + 20)
    assert above[0] == pytest.approx(40 + 0.5 * 80)


def test_thin_distances_find_the_first_dense_bin_each_way():
    r = np.full(len(EDGES) - 1, 1.0)
    r[104 - 90] = 10.0  # dense above: bin [104, 105)
    r[93 - 90] = 10.0  # dense below: bin [93, 94)
    up, down = thin_distances(r, EDGES, [100.5], band_factor=3.0)
    assert up[0] == pytest.approx((104 - 100.5) / 100.5 * 100)
    assert down[0] == pytest.approx((100.5 - 94) / 100.5 * 100)
    flat_up, flat_down = thin_distances(np.full(len(EDGES) - 1, 1.0), EDGES, [100.5])
    assert np.isinf(flat_up[0]) and np.isinf(flat_down[0])


def test_trailing_rank_uses_only_the_past_and_needs_history():
    values = np.array([5.0, 1.0, 2.0, 3.0, 10.0, 0.0])
    times = np.arange(6, dtype=np.int64) * 1000
    ranks = trailing_rank(values, times, window_ms=10_000, min_rows=3)
    assert np.isnan(ranks[:2]).all()
    assert ranks[4] == 1.0 and ranks[5] == 0.0
    changed = values.copy()
    changed[4:] = [-1.0, 99.0]
    assert np.array_equal(trailing_rank(changed, times, 10_000, 3)[:4], ranks[:4], equal_nan=True)


def test_run_start():
    assert run_start([True, False, True, True]) == 2
    assert run_start([True, True]) == 0
    assert run_start([True, False]) is None


def test_magnet_prefers_the_nearest_big_band():
    r = np.full(len(EDGES) - 1, 1.0)
    r[103 - 90] = 60.0  # big, 3 % up
    r[98 - 90] = 40.0  # big too (>= half of 60), 1.5 % down: nearer
    r[101 - 90] = 5.0  # a band, but small
    band = magnet_band(r, EDGES, 100.0, pct=5.0)
    assert band["price"] == pytest.approx(98.5) and band["distance_pct"] == pytest.approx(-1.5)
    assert magnet_band(r, EDGES, 100.0, pct=1.0) is None


def test_read_map_states_lean_and_pressure_rank():
    n = 100
    long_grid = np.zeros((n, len(EDGES) - 1))
    short_grid = np.zeros_like(long_grid)
    long_grid[:, 99 - 90] = np.linspace(2, 1, n)  # long fuel just below 100, fading (each row the lowest yet)
    short_grid[:, 100 - 90] = 1.0
    long_grid[-3:, 99 - 90] = 50.0  # the last three rows: far more pressure than ever before
    times = np.arange(n, dtype=np.int64) * 3_600_000
    close = np.full(n, 100.0)
    m = read_map(long_grid, short_grid, EDGES, close, times, ReadingSettings(min_history_rows=10))
    assert m.lean == "long" and m.lean_ratio == pytest.approx(50.0)
    p = m.pressure[2.0]
    # Tied with the two rows before it: 97 below, 2 equal (half each) out of 99 others.
    assert p["top"] and p["rank"] == pytest.approx(98 / 99) and p["since_row"] == n - 3
    with pytest.raises(ValueError, match="pressure_pct"):
        ReadingSettings(pressure_pct=4.0)
