"""Open interest that empties again and again: a grid-scale restart at nearly every row.

When OI drops to zero, the closing factor is 0 and every pending level is
gone; at the next step OI_{t-1} = 0, so f is 0 again. A series that is zero on
half its steps therefore restarts the grid's running sum at almost every row,
inside the blocks the grid is built in. These tests hold that case to the
plain reference loop on real prices, and check that streaming it from any row,
in blocks of any size, gives the same rows.
"""

from __future__ import annotations

import numpy as np
import pytest

from liqengine import MarketRun, MarketSeries, default_bin_edges, liquidation_grid
from tests.liqengine.helpers import assert_matches_reference, emptying_oi, okx_sol_5m, run_reference


def _prices(n, start=0):
    d = okx_sol_5m()
    sl = slice(start, start + n)
    return d["high"][sl], d["low"][sl], d["close"][sl]


@pytest.mark.parametrize("kind", ["alternate", "random-half", "runs"])
def test_oi_empty_on_half_the_steps_matches_reference(kind):
    n = 700  # crosses the grid's 256-row blocks and 8-row groups
    h, lo, c = _prices(n)
    oi = emptying_oi(kind, n)
    edges = default_bin_edges(lo, h, 400)
    r = liquidation_grid(h, lo, c, oi, edges)
    assert_matches_reference(r, run_reference(h, lo, c, oi, edges), exact_empty_bins=True)
    assert (r.long_grid[oi == 0] == 0).all() and (r.pending_short[oi == 0] == 0).all()


def test_alternating_oi_restarts_the_grid_at_almost_every_row():
    # Guard for the test above: the case really has segments of one row.
    n = 700
    h, lo, c = _prices(n)
    run = MarketRun(MarketSeries(h, lo, c, emptying_oi("alternate", n)).checked(), default_bin_edges(lo, h, 50))
    assert len(run.ledger.segment_starts) >= n - 2


@pytest.mark.parametrize("block_rows, first", [(8, 0), (24, 37), (128, 5), (256, 255)])
def test_streaming_from_any_row_in_any_block_size_gives_the_same_rows(block_rows, first):
    n = 600
    h, lo, c = _prices(n, start=2000)
    oi = emptying_oi("runs", n, seed=3)
    run = MarketRun(MarketSeries(h, lo, c, oi).checked(), default_bin_edges(lo, h, 120))
    for side in ("long", "short"):
        full = run.full_grid(side)
        st = run.stream(side, block_rows=block_rows)
        st.seek(first)
        got = np.vstack([st.block(k) for k in (1, 50, 7, n - first - 58)])
        want = full[first:]
        assert np.abs(got - want).max() <= 1e-12 * np.abs(want).max()
        assert ((got == 0) == (want == 0)).all()
