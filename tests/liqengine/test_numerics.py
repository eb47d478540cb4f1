"""Numerical safety over a year of 5m steps (105,120 rows).

The closing factor compounds for as long as a level lives. A naive
implementation divides by a cumulative product that underflows, or produces
NaN at f = 0. These tests run a full year with the factor compounding far past
float64's range and dropping to exactly zero, under ``np.errstate`` set to
raise, so any overflow, division by zero or invalid operation (0/0, inf - inf)
inside the engine fails the test. Underflow is raised too where every true
value is representable (the geometric decay); where the model's own numbers
fall below 1e-308 (0.5 ** 52,560), rounding them to 0 is the right answer and
only the other three are checked. A shorter version of each series is
checked against the plain reference loop.
"""

from __future__ import annotations

import numpy as np
import pytest

from liqengine import default_bin_edges, liquidation_grid
from liqengine.model import SEGMENT_DEPTH
from tests.liqengine.helpers import assert_matches_reference, okx_sol_5m, run_reference

YEAR = 105_120
EDGES = np.geomspace(50.0, 200.0, 41)


def _flat_prices(n, price=100.0):
    p = np.full(n, price)
    return p, p.copy(), p.copy()


def _wobbly_prices(n, seed=0):
    # Small moves: the 100x and 50x levels get crossed now and then, 5x never.
    rng = np.random.default_rng(seed)
    c = 100 * np.exp(np.cumsum(rng.normal(0, 0.002, n)))
    return c * 1.002, c * 0.998, c


def _geometric_decay_oi(n, total_log_drop):
    # OI rises for 10 steps (opening levels), then falls by the same factor every step.
    oi = np.empty(n)
    oi[:10] = np.linspace(100.0, 1000.0, 10)
    r = np.exp(-total_log_drop / (n - 10))
    oi[10:] = 1000.0 * r ** np.arange(1, n - 9)
    return oi


def _sawtooth_oi(n):
    # Halve, restore, halve, restore: old levels keep halving (0.5 ** 52,560 over a
    # year, far below float64's smallest number) while OI itself stays bounded.
    oi = np.where(np.arange(n) % 2 == 0, 1000.0, 500.0)
    oi[0] = 0.0
    return oi


def _zero_and_rebuild_oi(n, period=997):
    # Build up over a period, crash to exactly zero, build again.
    k = np.arange(n) % period
    return np.where(k == period - 1, 0.0, 10.0 * k)


def _check_finite(r):
    for name in ("long_grid", "short_grid", "realized_long", "realized_short", "pending_long", "pending_short"):
        arr = getattr(r, name)
        assert np.isfinite(arr).all(), name
        assert (arr >= 0).all(), name


def test_year_of_geometric_decay_matches_closed_form():
    # Flat prices: nothing is ever crossed, so every f_t = OI_t / OI_{t-1} and pending
    # USD must shrink exactly with OI: pending[t] = pending[9] × OI[t] / OI[9].
    # Total fall e**-575 (about 1e-250): OI stays representable, the factor compounds
    # across a grid-scale restart (SEGMENT_DEPTH = 300).
    assert 575 > SEGMENT_DEPTH
    h, lo, c = _flat_prices(YEAR)
    oi = _geometric_decay_oi(YEAR, 575.0)
    with np.errstate(all="raise"):
        r = liquidation_grid(h, lo, c, oi, EDGES)
    _check_finite(r)
    expected = r.pending_long[9] * oi / oi[9]
    assert np.allclose(r.pending_long[9:], expected[9:], rtol=1e-10, atol=0)
    # The grid row sums are the in-view part of the same totals.
    assert np.allclose(r.long_grid[9:].sum(axis=1), expected[9:], rtol=1e-10, atol=0)
    assert r.pending_long[-1] > 0  # about 1e-250 of its start, not flushed to 0


def test_year_of_halving_sawtooth_stays_finite():
    h, lo, c = _wobbly_prices(YEAR)
    oi = _sawtooth_oi(YEAR)
    with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
        r = liquidation_grid(h, lo, c, oi, EDGES)
    _check_finite(r)
    # Each rise opens 500 of new positions; pending can never exceed what OI allows.
    assert r.pending_long.max() < 2 * 1000 * 200


def test_year_of_zero_and_rebuild_stays_finite():
    h, lo, c = _wobbly_prices(YEAR, seed=1)
    oi = _zero_and_rebuild_oi(YEAR)
    with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
        r = liquidation_grid(h, lo, c, oi, EDGES)
    _check_finite(r)
    zero_rows = np.flatnonzero(oi == 0)
    assert (r.closing_factor[zero_rows[zero_rows > 0]] == 0).all()
    # Everything pending is gone right after OI hits zero.
    after = zero_rows[zero_rows > 0]
    assert (r.pending_long[after] == 0).all() and (r.pending_short[after] == 0).all()


@pytest.mark.parametrize(
    "oi_maker",
    [
        pytest.param(lambda n: _geometric_decay_oi(n, 700.0), id="decay-past-two-restarts"),
        pytest.param(_sawtooth_oi, id="halving-sawtooth"),
        pytest.param(lambda n: _zero_and_rebuild_oi(n, 61), id="zero-and-rebuild"),
    ],
)
def test_shorter_versions_match_the_reference(oi_maker):
    # 1,000 steps: the sawtooth compounds 0.5 ** 500 (e**-347), past a grid-scale
    # restart; the decay falls e**-700, past two; the rebuild hits zero 16 times.
    n = 1000
    h, lo, c = _wobbly_prices(n, seed=2)
    oi = oi_maker(n)
    with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
        r = liquidation_grid(h, lo, c, oi, EDGES)
    assert_matches_reference(r, run_reference(h, lo, c, oi, EDGES))


def test_the_short_versions_do_cross_grid_scale_restarts():
    # Guard for the test above: the series really compound past SEGMENT_DEPTH.
    from liqengine import MarketRun, MarketSeries

    h, lo, c = _wobbly_prices(1000, seed=2)
    for oi, at_least in ((_geometric_decay_oi(1000, 700.0), 3), (_sawtooth_oi(1000), 2)):
        run = MarketRun(MarketSeries(h, lo, c, oi).checked(), EDGES)
        assert len(run.ledger.segment_starts) >= at_least


def test_crossings_that_take_all_open_interest_empty_the_pool_whatever_the_rounding():
    # Found by hypothesis: every position opened at step 19 is short but for a
    # 1e-101 sliver of longs; step 20's spike crosses every short. The crossed
    # quantity equals the open interest mathematically, while its float sum lands
    # an ulp either side of it. Both implementations read that as "nothing left".
    n = 30
    c = np.where(np.arange(n) < 20, 1.0, np.exp(0.5))
    h, lo = c.copy(), c.copy()
    oi = np.zeros(n)
    oi[19], oi[20] = 1.0, 0.5
    vol = np.zeros(n)
    vol[19] = 1.0
    tb = np.zeros(n)
    tb[19] = 1.186423719217906e-101
    edges = default_bin_edges(lo, h, 20)
    r = liquidation_grid(h, lo, c, oi, edges, taker_buy_volume=tb, volume=vol, default_long_share=0.4)
    ref = run_reference(h, lo, c, oi, edges, taker_buy_volume=tb, volume=vol, default_long_share=0.4)
    assert_matches_reference(r, ref)
    assert r.closing_factor[20] == 0.0
    assert not r.long_grid[20:].any() and r.pending_long[20] == 0.0


def test_bins_left_by_every_level_are_exactly_zero_on_real_data():
    # Levels entering and leaving a bin leave a rounding residue in a running
    # sum; the grid must show exactly 0 there, or band thresholds (medians of
    # positive bins) would count residue as liquidity.
    steps = okx_sol_5m()
    edges = default_bin_edges(steps["low"], steps["high"], 400)
    r = liquidation_grid(steps["high"], steps["low"], steps["close"], steps["open_interest"], edges)
    for grid in (r.long_grid, r.short_grid):
        positive = grid[grid > 0]
        assert positive.min() > 1e-6 * grid.max()
