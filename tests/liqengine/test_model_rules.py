"""The model page's rules, one at a time, on series small enough to work out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from liqengine import INVERSE, default_bin_edges, liquidation_grid
from tests.liqengine.helpers import assert_matches_reference, run_reference

# One bucket, 10x, no maintenance margin: a long level sits at 0.9 × entry,
# a short level at 1.1 × entry.
ONE_BUCKET = {"leverage": (10,), "weights": (1.0,), "mmr": (0.0,)}
EDGES = np.arange(50.0, 151.0, 1.0)  # 1-dollar bins from 50 to 150


def bin_of(price):
    return int(np.searchsorted(EDGES, price, side="right") - 1)


def test_hand_worked_example_all_three_steps():
    # t=0: nothing is added. t=1: OI 0 -> 10 at E=100, all long: a level of 10 at 90 (USD 900).
    # t=2: OI 10 -> 20 at E=100: another long level of 10 at 90 (same bin); nothing crossed.
    # t=3: low 89 reaches 90: both levels are liquidated (USD 1800); Lq = 20 = OI_2, so f = 0.
    h = [100, 100, 100, 100]
    lo = [100, 100, 100, 89]
    c = [100, 100, 100, 100]
    oi = [0, 10, 20, 20]
    r = liquidation_grid(h, lo, c, oi, EDGES, long_share=[1.0] * 4, **ONE_BUCKET)
    b = bin_of(90.0)
    assert r.long_grid[1, b] == pytest.approx(900.0)
    assert r.long_grid[2, b] == pytest.approx(1800.0)
    assert r.long_grid[3].sum() == 0.0
    assert r.realized_long.tolist() == pytest.approx([0, 0, 0, 1800.0])
    assert r.pending_long.tolist() == pytest.approx([0, 900.0, 1800.0, 0])
    # f_1 = 0 too: OI_0 - Lq_1 = 0 <= 0 (nothing was pending, so it changes nothing).
    assert r.closing_factor.tolist() == [1.0, 0.0, 1.0, 0.0]
    assert r.short_grid.sum() == 0.0 and r.realized_short.sum() == 0.0


def test_level_is_crossed_only_from_the_next_step():
    # E_1 = (110 + 85 + 100) / 3; the long level at 0.9 E_1 is above low_1 = 85 but was
    # created after step 1's crossing, so it survives step 1.
    h = [100, 110, 100]
    lo = [100, 85, 99]
    c = [100, 100, 100]
    oi = [0, 10, 10]
    r = liquidation_grid(h, lo, c, oi, EDGES, long_share=[1.0] * 3, **ONE_BUCKET)
    price = (110 + 85 + 100) / 3 * (1 - 1 / 10) / (1 - 0.0)
    assert r.pending_long[1] == pytest.approx(10 * price)
    assert r.pending_long[2] == pytest.approx(10 * price)
    assert r.realized_long.sum() == 0.0


def test_low_exactly_at_the_level_crosses_it():
    price = 100 * 0.9
    r = liquidation_grid(
        [100, 100, 100], [100, 100, price], [100, 100, 100], [0, 10, 10], EDGES, long_share=[1.0] * 3, **ONE_BUCKET
    )
    assert r.realized_long[2] == pytest.approx(10 * price)
    assert r.pending_long[2] == 0.0


def test_crossing_comes_before_closing_and_closing_before_opening():
    # Two long levels: A at 0.9 × 100 = 90 (t=1) and B at 0.9 × 95 = 85.5 (t=2).
    # t=3: low 88 crosses A only (Lq = 10); OI 20 -> 5, so D = 20 - 5 - 10 = 5 and
    # f = 1 - 5 / (20 - 10) = 0.5: B keeps half. A is realised at its full quantity.
    h = [100, 100, 95, 100]
    lo = [100, 100, 95, 88]
    c = [100, 100, 95, 100]
    oi = [0, 10, 20, 5]
    r = liquidation_grid(h, lo, c, oi, EDGES, long_share=[1.0] * 4, **ONE_BUCKET)
    assert r.realized_long[3] == pytest.approx(10 * 90.0)
    assert r.closing_factor[3] == pytest.approx(0.5)
    assert r.pending_long[3] == pytest.approx(0.5 * 10 * 85.5)
    # Opening comes after closing: an OI rise at the next step is not scaled by f.
    r2 = liquidation_grid(h + [100], lo + [100], c + [100], oi + [9], EDGES, long_share=[1.0] * 5, **ONE_BUCKET)
    assert r2.pending_long[4] == pytest.approx(0.5 * 10 * 85.5 + 4 * 90.0)


def test_closing_factor_zero_when_crossed_quantity_reaches_previous_oi():
    # Pending quantity can exceed OI (shorts and longs both count ΔOI once):
    # crossing 10 when OI_{t-1} = 10 leaves OI_{t-1} - Lq = 0, so f = 0 even though OI rose.
    h = [100, 100, 100, 100, 100]
    lo = [100, 100, 100, 100, 89]
    c = [100, 100, 100, 100, 100]
    oi = [0, 10, 4, 10, 30]
    r = liquidation_grid(h, lo, c, oi, EDGES, long_share=[1.0, 1.0, 1.0, 0.0, 1.0], **ONE_BUCKET)
    ref = run_reference(h, lo, c, oi, EDGES, long_share=[1.0, 1.0, 1.0, 0.0, 1.0], **ONE_BUCKET)
    assert_matches_reference(r, ref)
    assert r.closing_factor[4] == ref["f"][4]


def test_oi_falling_to_zero_wipes_pending_levels_and_they_rebuild():
    h = [100] * 6
    lo = [100] * 6
    c = [100] * 6
    oi = [0, 10, 0, 0, 5, 5]
    r = liquidation_grid(h, lo, c, oi, EDGES, **ONE_BUCKET)
    assert r.closing_factor[2] == 0.0
    assert r.closing_factor[3] == 0.0  # OI_{t-1} = 0: f = 0 by the page's rule
    assert r.pending_long[2] == 0 and r.pending_short[2] == 0
    assert r.pending_long[4] == pytest.approx(2.5 * 90.0)
    assert r.pending_short[4] == pytest.approx(2.5 * 110.0)


def test_level_on_an_edge_belongs_to_the_bin_above_and_last_edge_is_outside():
    price = 90.0
    edges = np.array([80.0, 85.0, price, 95.0])
    r = liquidation_grid([100, 100], [100, 100], [100, 100], [0, 1], edges, long_share=[1, 1], **ONE_BUCKET)
    assert r.long_grid[1].tolist() == [0.0, 0.0, pytest.approx(90.0)]
    # A level exactly on the last edge is tracked but not shown.
    r2 = liquidation_grid(
        [100, 100], [100, 100], [100, 100], [0, 1], np.array([80.0, 85.0, price]), long_share=[1, 1], **ONE_BUCKET
    )
    assert r2.long_grid.sum() == 0.0
    assert r2.pending_long[1] == pytest.approx(90.0)


def test_levels_outside_the_edges_are_tracked_and_come_into_view_when_crossed_later():
    edges = np.array([95.0, 100.0, 105.0])  # neither the long (90) nor the short (110) level shows
    h = [100, 100, 111]
    lo = [100, 100, 100]
    c = [100, 100, 100]
    r = liquidation_grid(h, lo, c, [0, 10, 10], edges, **ONE_BUCKET)
    assert r.long_grid.sum() == 0.0 and r.short_grid.sum() == 0.0
    assert r.pending_long[1] == pytest.approx(5 * 90.0)
    assert r.pending_short[1] == pytest.approx(5 * 110.0)
    assert r.realized_short[2] == pytest.approx(5 * 110.0)


def test_nothing_is_added_at_t0_and_single_row_is_valid():
    r = liquidation_grid([100], [100], [100], [1000], EDGES)
    assert r.long_grid.shape == (1, len(EDGES) - 1)
    assert r.long_grid.sum() == 0 and r.pending_long[0] == 0


def test_empty_series_gives_empty_outputs():
    r = liquidation_grid([], [], [], [], EDGES)
    assert r.long_grid.shape == (0, len(EDGES) - 1)
    assert r.realized_long.shape == (0,)


def test_inverse_short_with_leverage_one_creates_no_level():
    # Inverse short level = E (1 - m) / (1 - 1/L): no level when L <= 1.
    r = liquidation_grid(
        [100, 100], [100, 100], [100, 100], [0, 10], EDGES, leverage=(1, 10), weights=(0.5, 0.5), mmr=(0.0, 0.0), formula=INVERSE
    )
    assert r.pending_short[1] == pytest.approx(2.5 * 100 * (1 - 0) / (1 - 1 / 10))
    assert r.pending_long[1] == pytest.approx(2.5 * 100 / 2 + 2.5 * 100 / 1.1)


def test_brief_call_signature_with_defaults():
    rng = np.random.default_rng(7)
    c = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, 300)))
    h, lo = c * 1.004, c * 0.996
    oi = 1000 + np.cumsum(rng.normal(0, 10, 300))
    edges = default_bin_edges(lo, h, bins=400)
    r = liquidation_grid(
        h,
        lo,
        c,
        oi,
        edges,
        long_share=None,
        leverage=(5, 10, 25, 50, 100),
        weights=(0.10, 0.25, 0.30, 0.20, 0.15),
        mmr=(0.004,) * 5,
    )
    assert r.long_grid.dtype == np.float64 and r.long_grid.shape == (300, 400)
    assert_matches_reference(r, run_reference(h, lo, c, oi, edges))


def test_default_bin_edges():
    edges = default_bin_edges([10, 8, 12], [20, 30, 25], bins=4)
    assert len(edges) == 5
    assert edges[0] == pytest.approx(4.0) and edges[-1] == pytest.approx(45.0)
    ratios = edges[1:] / edges[:-1]
    assert np.allclose(ratios, ratios[0])  # log-spaced
    with pytest.raises(ValueError, match="bins must be a positive integer"):
        default_bin_edges([1], [2], bins=0)
