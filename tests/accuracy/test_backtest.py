"""The backtest's parts: observed per step, baselines, the price lattice, the split."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from accuracy import backtest as bt
from accuracy.backtest import SOURCE_NONE, SOURCE_OI_DROP, SOURCE_RECORDS, Records, observed_per_step, run_backtest
from accuracy.baselines import bands_per_step, bands_rows, volatility_per_step, volatility_rows
from accuracy.maps import hour_rows, lattice_edges, record_credits
from accuracy.variants import VARIANTS, mix_candidates
from tests.accuracy.helpers import HOUR, sol_hourly


def test_observed_uses_records_only_on_covered_steps():
    inp = sol_hourly(6)
    oi = np.array([10.0, 8.0, 9.0, 5.0, 5.0, 4.0])
    close = np.array([100.0, 100.0, 101.0, 102.0, 103.0, 104.0])
    t0 = int(inp.open_time[0])
    records = Records(
        np.array([t0 + HOUR + 5, t0 + 3 * HOUR + 10, t0 + 5 * HOUR + 1], dtype=np.int64),
        np.array([99.0, 98.0, 103.0]),
        np.array([1000.0, 250.0, 40.0]),
    )
    covered = np.array([True, True, False, True, True, False])
    inp = replace(inp, steps=replace(inp.steps, open_interest=oi, close=close), covered=covered, records=records)
    observed, source = observed_per_step(inp)
    assert np.isnan(observed[0]) and source[0] == SOURCE_NONE  # no open interest before the first step
    assert observed[1] == 1000.0 and source[1] == SOURCE_RECORDS  # covered: the records (not the 2 × 100 OI drop)
    assert observed[2] == 0.0 and source[2] == SOURCE_OI_DROP  # not covered, OI rose: no drop
    assert observed[3] == 250.0 and source[3] == SOURCE_RECORDS
    assert observed[4] == 0.0 and source[4] == SOURCE_RECORDS  # covered and quiet: a real zero
    # Not covered: the record in it is ignored; the OI drop of 1 × 104 counts.
    assert observed[5] == pytest.approx(104.0) and source[5] == SOURCE_OI_DROP


def test_volatility_baseline_uses_the_previous_open_interest():
    got = volatility_per_step([10, 12, 11], [9, 10, 8], [5, 7, 100])
    assert got.tolist() == [0.0, 2 * 5, 3 * 7]


def test_fixed_bands_baseline_by_hand():
    # Previous close 100, OI 2: 10x bands at 90 (long) and 110 (short), each 0.5 × 2 × 100 = 100 USD.
    high = [100, 105, 111, 100]
    low = [100, 89, 100, 80]
    close = [100, 100, 100, 100]
    oi = [2, 2, 2, 2]
    got = bands_per_step(high, low, close, oi, [10.0], [1.0])
    assert got.tolist() == [0.0, 100.0, 100.0, 100.0]
    got = bands_per_step(high, low, close, oi, [10.0, 100.0], [0.5, 0.5])
    # Bands at 90 / 99 (longs) and 101 / 110 (shorts), 50 USD each. Step 1 (89..105) reaches 90, 99 and 101;
    # step 2 (100..111) reaches 101 and 110; step 3 (80..100) reaches 90 and 99.
    assert got.tolist() == [0.0, 150.0, 100.0, 100.0]


def test_baseline_maps_put_their_value_where_they_say():
    edges = np.array([80.0, 89.5, 90.5, 98.5, 99.5, 100.5, 101.5, 109.5, 110.5, 120.0])
    rows = bands_rows([0], [100.0], [2.0], edges, [10.0, 100.0], [0.5, 0.5])
    assert rows[0].tolist() == [0, 50, 0, 50, 0, 50, 0, 50, 0]
    vol = volatility_rows([0], [101.0], [99.0], [100.0], [3.0], edges)
    # Range 2 around 100: bins overlapping [98, 102] get OI × range = 6.
    assert vol[0].tolist() == [0, 0, 6, 6, 6, 6, 6, 0, 0]


def test_lattice_edges_do_not_depend_on_the_price_range():
    narrow = lattice_edges(90.0, 110.0)
    wide = lattice_edges(20.0, 500.0)
    common = np.intersect1d(narrow, wide)
    assert len(common) == len(narrow)  # every edge of the narrow lattice is bit-for-bit an edge of the wide one
    assert np.allclose(narrow[1:] / narrow[:-1], 1.0025)
    assert narrow[0] <= 45.0 and narrow[-1] >= 165.0


def test_record_credits_count_only_the_top_decile_near_the_price():
    edges = lattice_edges(50.0, 200.0)
    row = np.zeros(len(edges) - 1)
    peak = int(np.searchsorted(edges, 95.0, side="right") - 1)
    row[peak] = 10.0
    far = int(np.searchsorted(edges, 60.0, side="right") - 1)
    row[far] = 1e9  # outside ÷1.25 of the price: never counts
    got = record_credits(row, edges, 100.0, np.array([95.0, 60.0, 101.0]))
    assert got.tolist() == [1.0, 0.0, 0.0]


def test_hour_rows_are_the_steps_that_ended_in_the_hour_before():
    quarter = 900_000
    open_time = np.arange(10, dtype=np.int64) * quarter
    a, b = hour_rows(open_time, quarter, np.array([0, 3, 4, 9]))
    assert list(zip(a.tolist(), b.tolist())) == [(0, 0), (0, 3), (0, 4), (5, 9)]


def test_fit_and_held_out_steps_never_overlap_and_fits_see_only_the_fit_part(monkeypatch):
    inp = sol_hourly(120)
    seen = []
    real = bt._realized

    def spy(series):
        seen.append((len(series.open_time), int(series.open_time[-1])))
        return real(series)

    monkeypatch.setattr(bt, "_realized", spy)
    result = run_backtest(inp)
    fit_runs = [s for s in seen if s[0] < len(inp)]
    full_runs = [s for s in seen if s[0] == len(inp)]
    n_candidates = len(mix_candidates(None)) + 6  # the fitted mix and the ageing half-lives
    assert len(fit_runs) == n_candidates
    assert all(last < inp.split_time for _, last in fit_runs)
    assert len(full_runs) == sum(1 for v in VARIANTS if v.key != "mix_exchange")
    info = result.info
    observed, _ = observed_per_step(inp)
    assert info["fit_steps"] + info["held_out_steps"] == int(np.isfinite(observed).sum())
    assert info["held_out_from"] >= inp.split_time
    assert inp.open_time[inp.fit_stop - 1] < inp.split_time <= inp.open_time[inp.fit_stop]


def test_scores_read_only_the_held_out_steps():
    inp = sol_hourly(120)
    a = run_backtest(inp)
    # Changing only what was *observed* in the fit part (records instead of the OI fall: the model's inputs
    # stay the same) must not move the held-out scores of the rows that fit nothing.
    covered = np.zeros(len(inp), dtype=bool)
    covered[: inp.fit_stop] = True
    b = run_backtest(replace(inp, covered=covered))
    for key in ("reference", "taker", "long_short", "intrabar", "volatility", "bands"):
        assert a.row(key).spearman == b.row(key).spearman
        assert a.row(key).top_decile == b.row(key).top_decile


def test_a_too_short_period_is_refused():
    inp = sol_hourly(3)
    with pytest.raises(ValueError, match="at least 4 steps"):
        run_backtest(inp)
