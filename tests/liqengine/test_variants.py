"""The engine's options (liqengine/options.py) against their own plain loop.

Each option is spelled out in the reference loop (``reference.py``); the engine must
equal it to the model page's tolerance on random series, alone and together,
and with every option off the loop must be the page's reference loop.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from liqengine import MarketRun, MarketSeries, ModelParams, default_bin_edges, liquidation_grid, window_grid
from liqengine.options import (
    HIGH_FIRST,
    LOW_FIRST,
    UNKNOWN_ORDER,
    direction_order,
    intrabar_order,
    log_age_per_step,
)
from tests.liqengine.helpers import assert_matches_reference, okx_sol_5m, run_reference
from tests.liqengine.reference import level_price
from tests.liqengine.test_properties import assert_closing_factors_match, scenarios

SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
HALF_LIVES = st.sampled_from([None, 0.25, 1.0, 3.0, 12.0, 1e4])
TURNOVERS = st.sampled_from([None, 0.0, 0.3, 1.0, 3.0, 40.0])
ENTRY_POINTS = st.sampled_from([1, 2, 3, 5])


def _orders(draw, n):
    return np.asarray(draw(st.lists(st.sampled_from([UNKNOWN_ORDER, LOW_FIRST, HIGH_FIRST]), min_size=n, max_size=n)))


def _engine(s, **options):
    return liquidation_grid(
        s["h"], s["lo"], s["c"], s["oi"], s["edges"], s["long_share"], s["lev"], s["w"], s["mmr"], formula=s["formula"], **options
    )


def _loop(s, **options):
    if options.get("high_first") is not None:
        options["high_first"] = [int(x) for x in options["high_first"]]
    return run_reference(
        s["h"],
        s["lo"],
        s["c"],
        s["oi"],
        s["edges"],
        long_share=s["long_share"],
        leverage=s["lev"],
        weights=s["w"],
        mmr=s["mmr"],
        contract=s["formula"].contract,
        basis=s["formula"].maintenance_basis,
        **options,
    )


@SETTINGS
@given(scenarios(), st.sampled_from([0.25, 1.0, 3.0, 12.0, 1e4]))
def test_ageing_equals_its_loop(s, half_life):
    r = _engine(s, half_life_steps=half_life)
    ref = _loop(s, half_life_steps=half_life)
    assert_matches_reference(r, ref)
    assert_closing_factors_match(r, ref, s["oi"])


@SETTINGS
@given(scenarios(), st.data())
def test_intrabar_order_equals_its_loop(s, data):
    order = _orders(data.draw, len(s["h"]))
    r = _engine(s, high_first=order)
    ref = _loop(s, high_first=order)
    assert_matches_reference(r, ref)
    assert_closing_factors_match(r, ref, s["oi"])


@SETTINGS
@given(scenarios(), TURNOVERS.filter(lambda x: x is not None))
def test_turnover_equals_its_loop(s, turnover):
    r = _engine(s, turnover=turnover)
    ref = _loop(s, turnover=turnover)
    assert_matches_reference(r, ref)
    assert_closing_factors_match(r, ref, s["oi"])


@SETTINGS
@given(scenarios(), ENTRY_POINTS)
def test_entry_points_equal_their_loop(s, points):
    r = _engine(s, entry_points=points)
    ref = _loop(s, entry_points=points)
    assert_matches_reference(r, ref)
    assert_closing_factors_match(r, ref, s["oi"])


@SETTINGS
@given(scenarios(), TURNOVERS, ENTRY_POINTS)
def test_turnover_never_holds_more_than_the_open_interest(s, turnover, points):
    # Re-opening at most ρ × min(OI before, OI after) keeps the page's invariant, on which
    # the f = 0 edge (everything pending crossed) rests.
    ref = _loop(s, turnover=turnover, entry_points=points)
    assert np.all(np.asarray(ref["pending_q"]) <= np.asarray(s["oi"]) * (1 + 1e-9) + 1e-12)


@SETTINGS
@given(scenarios(), HALF_LIVES, TURNOVERS, ENTRY_POINTS, st.data())
def test_options_together_equal_their_loop(s, half_life, turnover, points, data):
    order = _orders(data.draw, len(s["h"])) if data.draw(st.booleans()) else None
    options = {"half_life_steps": half_life, "high_first": order, "turnover": turnover, "entry_points": points}
    r = _engine(s, **options)
    ref = _loop(s, **options)
    assert_matches_reference(r, ref)
    assert_closing_factors_match(r, ref, s["oi"])


@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))  # speed checks depend on the machine's load
@given(scenarios(min_rows=130, max_rows=300), HALF_LIVES, TURNOVERS, ENTRY_POINTS, st.data())
def test_options_over_several_blocks(s, half_life, turnover, points, data):
    order = _orders(data.draw, len(s["h"]))
    options = {"half_life_steps": half_life, "high_first": order, "turnover": turnover, "entry_points": points}
    r = _engine(s, **options)
    assert_matches_reference(r, _loop(s, **options))


def test_all_unknown_order_and_no_ageing_change_nothing():
    d = okx_sol_5m()
    h, lo, c, oi = d["high"][:2000], d["low"][:2000], d["close"][:2000], d["open_interest"][:2000]
    edges = default_bin_edges(lo, h, 100)
    plain = liquidation_grid(h, lo, c, oi, edges)
    unknown = liquidation_grid(h, lo, c, oi, edges, high_first=np.full(len(h), UNKNOWN_ORDER))
    for name in ("long_grid", "short_grid", "realized_long", "realized_short", "pending_long", "pending_short"):
        assert np.array_equal(getattr(plain, name), getattr(unknown, name)), name


def test_a_long_opened_in_a_falling_candle_is_liquidated_in_that_candle():
    # Step 1 opens 10 of OI at typical price 100; its 100x long sits near 99.4.
    # The candle's high came first, so its low of 98 (after the opening) takes it.
    h = np.array([100.0, 102.0, 100.5])
    lo = np.array([100.0, 98.0, 99.9])
    c = np.array([100.0, 100.0, 100.2])
    oi = np.array([0.0, 10.0, 10.0])
    edges = default_bin_edges(lo, h, 50)
    plain = liquidation_grid(h, lo, c, oi, edges, leverage=[100], weights=[1.0], mmr=[0.004])
    assert plain.realized_long[1] == 0.0 and plain.pending_long[1] > 0
    order = np.array([UNKNOWN_ORDER, HIGH_FIRST, UNKNOWN_ORDER])
    r = liquidation_grid(h, lo, c, oi, edges, leverage=[100], weights=[1.0], mmr=[0.004], high_first=order)
    entry = (102.0 + 98.0 + 100.0) / 3
    level = entry * (1 - 1 / 100) / (1 - 0.004)
    assert r.realized_long[1] == pytest.approx(5.0 * level, rel=1e-12)
    assert r.pending_long[1] == 0.0 and r.long_grid[1].sum() == 0.0
    # The short opened in the same candle is not crossed: the high came before it.
    assert r.realized_short[1] == 0.0 and r.pending_short[1] > 0


def test_turnover_by_hand():
    # OI stays at 8 through a candle from 99 to 100: (99/100) ** 1 = 99 % of the level stays, and
    # 1 % of the open interest (0.08) opens again at the candle's entry prices.
    h = np.array([100.0, 100.0, 100.0])
    lo = np.array([100.0, 100.0, 99.0])
    c = np.array([100.0, 100.0, 99.5])
    oi = np.array([0.0, 8.0, 8.0])
    edges = default_bin_edges(lo, h, 20)
    r = liquidation_grid(h, lo, c, oi, edges, leverage=[10], weights=[1.0], mmr=[0.0], turnover=1.0)
    first = 4.0 * 100.0 * 0.9  # half of the new OI is long, at 10x: level at 90
    entry = (100.0 + 99.0 + 99.5) / 3
    assert r.pending_long[1] == pytest.approx(first, rel=1e-12)
    assert r.pending_long[2] == pytest.approx(first * 0.99 + 0.04 * entry * 0.9, rel=1e-12)
    # A candle with no range turns nothing over; without the option nothing opens when OI is flat.
    plain = liquidation_grid(h, lo, c, oi, edges, leverage=[10], weights=[1.0], mmr=[0.0])
    assert plain.pending_long[2] == pytest.approx(first, rel=1e-12)


def test_entry_points_spread_over_the_range_by_hand():
    h = np.array([100.0, 110.0])
    lo = np.array([100.0, 90.0])
    c = np.array([100.0, 95.0])
    oi = np.array([0.0, 6.0])
    edges = default_bin_edges(lo, h, 200)
    r = liquidation_grid(h, lo, c, oi, edges, leverage=[10], weights=[1.0], mmr=[0.0], entry_points=3)
    # 6 of new OI: 3 long, 1 at each of 90, 100 and 110, liquidated at 81, 90 and 99.
    assert r.pending_long[1] == pytest.approx(81.0 + 90.0 + 99.0, rel=1e-12)
    assert r.pending_short[1] == pytest.approx(99.0 + 110.0 + 121.0, rel=1e-12)
    rows = np.flatnonzero(r.long_grid[1])
    assert len(rows) == 3


def test_ageing_halves_an_untouched_level_every_half_life():
    h = np.array([100.0, 100.0, 100.0, 100.0, 100.0])
    lo = h.copy()
    c = h.copy()
    oi = np.array([0.0, 8.0, 8.0, 8.0, 8.0])
    edges = default_bin_edges(lo, h, 20)
    r = liquidation_grid(h, lo, c, oi, edges, leverage=[10], weights=[1.0], mmr=[0.0], half_life_steps=1.0)
    level_value = 4.0 * 100.0 * 0.9  # half of the new OI is long, at 10x
    assert r.pending_long[1:] == pytest.approx(level_value * np.array([1, 0.5, 0.25, 0.125]), rel=1e-12)
    assert log_age_per_step(None) == 0.0
    assert log_age_per_step(2.0) == pytest.approx(np.log(0.5) / 2)


def test_bucket_parts_still_add_up_with_instant_levels():
    d = okx_sol_5m()
    n = 1500
    series = MarketSeries(
        d["high"][:n],
        d["low"][:n],
        d["close"][:n],
        d["open_interest"][:n],
        d["open_time"][:n],
        high_first=direction_order(np.r_[d["close"][0], d["close"][: n - 1]], d["close"][:n]),
        params=ModelParams(half_life_steps=288.0),
    ).checked()
    run = MarketRun(series, default_bin_edges(series.low, series.high, 60))
    lg = run.ledger
    assert len(lg.instant_long.t) + len(lg.instant_short.t) > 0
    for side in ("long", "short"):
        total = sum(run.only_buckets([k]).realized(side) for k in range(5))
        np.testing.assert_allclose(total, run.realized(side), rtol=1e-12, atol=1e-9)


def test_windows_carry_the_options_through_warm_up_slices():
    d = okx_sol_5m()
    n = 1200
    ot = d["open_time"][:n]
    order = direction_order(np.r_[d["close"][0], d["close"][: n - 1]], d["close"][:n])
    params = ModelParams(half_life_steps=100.0)
    series = MarketSeries(
        d["high"][:n], d["low"][:n], d["close"][:n], d["open_interest"][:n], ot, high_first=order, params=params
    )
    edges = default_bin_edges(series.low, series.high, 40)
    full = liquidation_grid(
        series.high, series.low, series.close, series.open_interest, edges, open_time=ot, high_first=order, half_life_steps=100.0
    )
    start = int(ot[600])
    w = window_grid(
        series, edges, start=start, end=int(ot[-1]) + 300_000, warmup_ms=600 * 300_000, max_columns=n, interval_ms=300_000
    )
    np.testing.assert_allclose(w.realized_long, full.realized_long[600:], rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(w.long_grid, full.long_grid[600:], rtol=1e-9, atol=1e-6 * full.long_grid.max())


def test_intrabar_order_from_finer_candles():
    step = 3_600_000
    open_time = np.array([0, step, 2 * step, 3 * step], dtype=np.int64)
    # Coarse candles: all rising (open < close), so the guess alone says "low first" everywhere.
    o = np.array([10.0, 10.0, 10.0, 10.0])
    c = np.array([11.0, 11.0, 11.0, 11.0])
    five = 300_000
    fine_t = np.array(
        [
            0,
            five,
            2 * five,  # step 0: high in the 1st fine candle, low in the 3rd
            step,
            step + five,  # step 1: low first, high later
            2 * step,  # step 2: both extremes in one falling fine candle
            4 * step,
        ],
        dtype=np.int64,
    )  # outside every step: ignored (step 3 keeps the guess)
    fine_h = np.array([12.0, 11.0, 10.5, 10.6, 12.0, 12.0, 99.0])
    fine_l = np.array([10.0, 9.9, 9.0, 9.0, 10.0, 9.0, 1.0])
    fine_o = np.array([11.0, 11.0, 10.0, 10.0, 10.0, 11.5, 5.0])
    fine_c = np.array([11.0, 10.0, 10.0, 10.0, 11.0, 9.5, 5.0])
    got = intrabar_order(
        o,
        c,
        open_time=open_time,
        step_ms=step,
        fine_open_time=fine_t,
        fine_open=fine_o,
        fine_high=fine_h,
        fine_low=fine_l,
        fine_close=fine_c,
    )
    assert got.tolist() == [HIGH_FIRST, LOW_FIRST, HIGH_FIRST, LOW_FIRST]
    assert intrabar_order(o, c).tolist() == [LOW_FIRST] * 4
    assert direction_order([1.0, 2.0, 3.0], [2.0, 1.0, 3.0]).tolist() == [LOW_FIRST, HIGH_FIRST, UNKNOWN_ORDER]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"high_first": [0, 2, 1]}, "high_first must hold -1 .* row 1 is 2.0"),
        ({"high_first": [0, 1]}, "same length"),
        ({"half_life_steps": 0.0}, "half_life_steps must be a finite number of steps > 0"),
        ({"half_life_steps": float("inf")}, "half_life_steps must be a finite number"),
        ({"turnover": -1.0}, "turnover must be a finite number >= 0"),
        ({"turnover": "fast"}, "turnover must be a number >= 0 or None"),
        ({"entry_points": 0}, "entry_points must be a whole number >= 1"),
        ({"entry_points": 2.5}, "entry_points must be a whole number >= 1"),
    ],
)
def test_option_errors_name_the_problem(kwargs, message):
    h = np.array([2.0, 2.0, 2.0])
    with pytest.raises(ValueError, match=message):
        liquidation_grid(h, h, h, np.array([1.0, 2.0, 3.0]), default_bin_edges(h, h, 4), **kwargs)


@pytest.mark.parametrize("side", ["long", "short"])
def test_same_step_crossing_includes_a_level_exactly_on_the_extreme(side):
    # The page's crossing rule counts a level exactly at the low (high) as crossed; so does the option.
    h0, l0, c0 = 102.0, 98.0, 100.0
    entry = (h0 + l0 + c0) / 3
    level = level_price(entry, 50.0, 0.004, side)
    # Move the far extreme onto the level without moving the entry: keep h + l the same.
    if side == "long":
        lo1, h1 = level, h0 + (l0 - level)
        order = HIGH_FIRST
    else:
        h1, lo1 = level, l0 + (h0 - level)
        order = LOW_FIRST
    assert (h1 + lo1 + c0) / 3 == entry
    h = np.array([100.0, h1, 100.0])
    lo = np.array([100.0, lo1, 100.0])
    c = np.array([100.0, c0, 100.0])
    oi = np.array([0.0, 4.0, 4.0])
    edges = default_bin_edges(lo, h, 10)
    r = liquidation_grid(
        h, lo, c, oi, edges, leverage=[50], weights=[1.0], mmr=[0.004], high_first=np.array([UNKNOWN_ORDER, order, UNKNOWN_ORDER])
    )
    assert getattr(r, "realized_" + side)[1] == pytest.approx(2.0 * level, rel=1e-12)
