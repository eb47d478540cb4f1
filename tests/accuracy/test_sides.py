"""Per-side scores against real liquidations: the observable, the swing baseline, the intervals, the verdicts, aggregates."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from accuracy.backtest import (
    SOURCE_OI_DROP,
    SOURCE_RECORDS,
    SOURCE_TOTALS,
    Observed,
    Records,
    ScoreRow,
    StepTotals,
    observed_sides,
    run_aggregate_backtest,
    run_backtest,
    score_pairs,
    side_scores,
)
from accuracy.baselines import bands_per_side, swing_per_side, swing_rows
from accuracy.scores import block_bootstrap_intervals, spearman
from accuracy.table import text_side_table
from tests.accuracy.helpers import HOUR, sol_hourly


def test_totals_win_over_records_and_the_oi_drop_has_no_side():
    inp = sol_hourly(6)
    t0 = int(inp.open_time[0])
    records = Records(
        np.array([t0 + HOUR + 5, t0 + HOUR + 9, t0 + 2 * HOUR + 1, t0 + 3 * HOUR], dtype=np.int64),
        np.array([99.0, 98.0, 103.0, 101.0]),
        np.array([1000.0, 250.0, 40.0, 7.0]),
        np.array([True, False, True, False]),
    )
    covered = np.array([True, True, True, True, False, False])
    totals = StepTotals(np.array([5.0, np.nan, 30.0, np.nan, 8.0, np.nan]), np.array([5.0, np.nan, 1.0, np.nan, 0.0, np.nan]))
    obs = observed_sides(replace(inp, covered=covered, records=records, totals=totals))
    assert obs.source.tolist()[1:] == [SOURCE_RECORDS, SOURCE_TOTALS, SOURCE_RECORDS, SOURCE_TOTALS, SOURCE_OI_DROP]
    assert np.isnan(obs.total[0]) and np.isnan(obs.long[0])  # nothing before the first step: never scored
    assert (obs.long[1], obs.short[1], obs.total[1]) == (1000.0, 250.0, 1250.0)  # records, per side
    assert (obs.long[2], obs.short[2], obs.total[2]) == (30.0, 1.0, 31.0)  # the total, not the record of 40
    assert (obs.long[3], obs.short[3]) == (0.0, 7.0)
    assert (obs.long[4], obs.short[4]) == (8.0, 0.0)  # a total makes an uncovered step known
    assert np.isnan(obs.long[5]) and np.isfinite(obs.total[5])  # the OI drop counts in all, but has no side
    assert obs.sided.tolist() == [False, True, True, True, True, False]
    # Records without a side (older callers) count in all but not per side.
    unsided = observed_sides(replace(inp, covered=covered, records=replace(records, long=None)))
    assert unsided.total[1] == 1250.0 and np.isnan(unsided.long[1])


def test_the_swing_baseline_by_hand():
    longs, shorts = swing_per_side([10, 12, 11, 9], [9, 10, 8, 8.5], [10, 11, 9, 9], [5, 7, 100, 2])
    # Step 1: fell 10 -> 10 (0), rose to 12 (2) with OI 5; step 2: fell 11 -> 8 (3), rose 0 with OI 7.
    assert longs.tolist() == [0.0, 0.0, 21.0, 50.0]
    assert shorts.tolist() == [0.0, 10.0, 0.0, 0.0]
    edges = np.array([7.0, 8.5, 9.5, 10.5, 11.5, 12.5])
    rows = swing_rows([1, 2], [10, 12, 11, 9], [9, 10, 8, 8.5], [10, 11, 9, 9], [5, 7, 100, 2], edges)
    # Row 1 (close 11, rose 2): shorts on [11, 13) -> bins 3 and 4; row 2 (close 9, fell 3): longs on [6, 9] -> bins 0 and 1.
    assert rows.tolist() == [[0, 0, 0, 10, 10], [21, 21, 0, 0, 0]]


def test_fixed_bands_split_by_side():
    longs, shorts = bands_per_side([100, 105, 111, 100], [100, 89, 100, 80], [100] * 4, [2] * 4, [10.0], [1.0])
    assert longs.tolist() == [0.0, 100.0, 0.0, 100.0] and shorts.tolist() == [0.0, 0.0, 100.0, 0.0]


def test_bootstrap_intervals_are_deterministic_and_hold_the_estimate():
    rng = np.random.default_rng(1)
    observed = rng.lognormal(10, 1.5, 300)
    predicted = observed * rng.lognormal(0, 1.0, 300)
    a = block_bootstrap_intervals(predicted, observed)
    assert a == block_bootstrap_intervals(predicted, observed)
    lo, hi = a["spearman"]
    assert lo < spearman(predicted, observed) < hi and hi - lo < 0.3
    assert a["top_decile"][0] < a["top_decile"][1]
    assert block_bootstrap_intervals(predicted[:9], observed[:9]) == {"spearman": None, "top_decile": None}


def test_side_scores_read_only_the_masked_steps_with_sides():
    n = 60
    rng = np.random.default_rng(2)
    long_usd, short_usd = rng.lognormal(8, 1, n), rng.lognormal(8, 1, n)
    long_usd[:10] = np.nan  # unknown: not scored
    obs = Observed(long_usd + short_usd, long_usd, short_usd, np.ones(n, np.int8))
    mask = np.arange(n) >= 5
    s = side_scores(np.nan_to_num(long_usd), short_usd, obs, mask)
    assert s["steps"] == 50
    assert s["long"]["spearman"] == pytest.approx(1.0) and s["short"]["spearman"] == pytest.approx(1.0)
    assert s["together"]["spearman"] == pytest.approx(1.0) and s["short"]["top_decile"] > 0.1
    assert side_scores(short_usd, long_usd, obs, np.arange(n) >= 52) is None  # too few steps


def test_rows_with_sides_are_compared_per_side():
    def row(values, sides=True):
        keys = ("spearman", "top_decile")
        parts = {s: dict(zip(keys, values[2 * i : 2 * i + 2])) for i, s in enumerate(("long", "short"))}
        return ScoreRow("x", "x", "variant", spearman=0.0, top_decile=0.0, sides=parts if sides else None)

    a, b = row([0.8, 0.7, 0.6, 0.5]), row([0.7, 0.6, 0.5, 0.6])
    assert score_pairs(a, b) == [(0.8, 0.7), (0.7, 0.6), (0.6, 0.5), (0.5, 0.6)]  # shorts' top decile loses
    assert score_pairs(row([1, 1, 1, 1], sides=False), b) == [(0.0, 0.0), (0.0, 0.0)]


@pytest.fixture(scope="module")
def with_totals():
    inp = sol_hourly(240)
    rng = np.random.default_rng(3)
    # Synthetic "real" liquidations that follow each hour's fall and rise (never real data: its licence forbids it).
    longs, shorts = swing_per_side(inp.high, inp.low, inp.close, inp.open_interest)
    noise = rng.lognormal(0, 0.5, (2, len(inp)))
    totals = StepTotals(longs * noise[0] + 1.0, shorts * noise[1] + 1.0)
    return replace(inp, totals=totals)


def test_a_backtest_with_real_liquidations_scores_every_row_per_side(with_totals):
    result = run_backtest(with_totals)
    assert result.info["held_out_sided_steps"] == result.info["held_out_steps"] == 120
    for row in result.rows:
        if row.skipped:
            continue
        assert row.sides and row.sides["steps"] == 120, row.key
        assert row.sides["long"]["spearman_ci"][0] <= row.sides["long"]["spearman"] <= row.sides["long"]["spearman_ci"][1]
    swing = result.row("swing").sides
    assert swing["long"]["spearman"] > 0.5 and swing["short"]["spearman"] > 0.5
    verdicts = result.verdicts()
    assert set(verdicts["reference"]["versus"]) == {"volatility", "swing", "bands"}
    assert verdicts["reference"]["versus"]["swing"] is False  # these liquidations were made from the swing
    table = text_side_table(result.to_dict())
    assert "Spearman longs" in table and "Swing baseline" in table


def test_the_aggregate_sums_each_market_on_the_common_steps(with_totals):
    a = with_totals
    b = replace(a, steps=a.steps.window(slice(10, None)))  # a second market that starts later
    common = b.open_time
    at = np.searchsorted(a.open_time, common)
    long_usd, short_usd = a.totals.long_usd[at], a.totals.short_usd[at]
    obs = Observed(long_usd + short_usd, long_usd, short_usd, np.ones(len(common), np.int8))
    split = int(common[len(common) // 2])
    one = run_aggregate_backtest([a], obs, common, split)
    two = run_aggregate_backtest([a, b], obs, common, split)
    single = run_backtest(replace(a, split_time=split))
    for key in ("reference", "continuous", "swing"):
        np.testing.assert_array_equal(one.row(key).predicted_long, single.row(key).predicted_long[at])
        # b's own replay starts 10 steps later (less warm-up), so the sum is not simply twice a's.
        assert np.all(two.row(key).predicted_long >= one.row(key).predicted_long)
    assert "mix_fitted" not in {r.key for r in two.rows}  # fitted variants are per market
    assert two.info["held_out_sided_steps"] == int((common >= split).sum())
    with pytest.raises(ValueError, match="every market of an aggregate must have a row"):
        run_aggregate_backtest([b], obs, a.open_time[: len(common)], split)
