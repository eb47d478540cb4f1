"""Nothing the backtest scored for steps <= t may depend on data after t, for every variant and baseline.

Every input after step t is replaced by other values (prices, open interest,
long share, taker volume, finer candles, liquidation records after the step's
end); every per-step prediction up to t, every fitted parameter and the credit
of every liquidation record up to t must stay exactly the same.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from accuracy import backtest as bt
from accuracy.backtest import FineCandles, Records, run_backtest
from tests.accuracy.helpers import sol_hourly


def perturbed_after(inp, t: int, seed: int = 7):
    """``inp`` with everything after step ``t`` (and after its end, for finer data) changed."""
    rng = np.random.default_rng(seed)
    n = len(inp)
    later = np.arange(n) > t
    m = int(later.sum())
    scale = rng.uniform(0.7, 1.4, m)
    close = inp.close.copy()
    close[later] *= scale
    high = inp.high.copy()
    low = inp.low.copy()
    high[later] = close[later] * rng.uniform(1.0, 1.08, m)
    low[later] = close[later] * rng.uniform(0.92, 1.0, m)
    open_ = inp.open.copy()
    open_[later] = close[later] * rng.uniform(0.95, 1.05, m)
    open_[later] = np.clip(open_[later], low[later], high[later])
    oi = inp.open_interest.copy()
    oi[later] = oi[later] * rng.uniform(0.5, 1.5, m)
    ls = inp.long_share.copy()
    ls[later] = rng.uniform(0, 1, m)
    tb = inp.taker_buy_volume.copy()
    tb[later] = inp.volume[later] * rng.uniform(0, 1, m)
    end_t = int(inp.open_time[t]) + inp.step_ms
    f = inp.fine
    fl = f.open_time >= end_t
    k = int(fl.sum())
    fine_close = f.close.copy()
    fine_close[fl] *= rng.uniform(0.7, 1.4, k)
    fine = FineCandles(
        f.open_time,
        np.where(fl, fine_close * 1.01, f.open),
        np.where(fl, fine_close * 1.03, f.high),
        np.where(fl, fine_close * 0.97, f.low),
        fine_close,
        interval=f.interval,
    )
    r = inp.records
    rl = r.time >= end_t
    records = Records(
        r.time,
        np.where(rl, r.price * rng.uniform(0.8, 1.2, len(r.time)), r.price),
        np.where(rl, r.usd * rng.uniform(0, 10, len(r.time)), r.usd),
    )
    steps = replace(inp.steps, open=open_, high=high, low=low, close=close, open_interest=oi, long_share=ls, taker_buy_volume=tb)
    return replace(inp, steps=steps, fine=fine, records=records)


def assert_nothing_scored_up_to_t_moved(a, b, inp, t):
    end_t = int(inp.open_time[t]) + inp.step_ms
    rec_upto = inp.records.time < end_t
    for ra, rb in zip(a.rows, b.rows):
        assert ra.key == rb.key
        if ra.skipped:
            assert rb.skipped
            continue
        assert np.array_equal(ra.predicted[: t + 1], rb.predicted[: t + 1]), f"{ra.key}: predictions up to step {t} moved"
        for side in ("predicted_long", "predicted_short"):
            a_side, b_side = getattr(ra, side), getattr(rb, side)
            assert np.array_equal(a_side[: t + 1], b_side[: t + 1]), f"{ra.key}: {side} up to step {t} moved"
        assert ra.params == rb.params, f"{ra.key}: fitted parameters moved"
        if ra.fit is not None:
            assert ra.fit == rb.fit, f"{ra.key}: the fit moved"
        if ra.credits is not None:
            # Records are scored in time order; those up to t come first and must keep their credits.
            assert np.array_equal(a.record_index, b.record_index)
            upto = np.flatnonzero(rec_upto[a.record_index])
            assert np.array_equal(ra.credits[upto], rb.credits[upto]), f"{ra.key}: record credits up to step {t} moved"


@pytest.fixture(scope="module")
def inp():
    # 10 days of 1h steps; records collected (and steps covered) over the last 4 days.
    return sol_hourly(240, records_per_hour=6, covered_from=144)


@pytest.fixture(scope="module")
def baseline_result(inp):
    return run_backtest(inp)


@pytest.mark.parametrize("t", [125, 150, 200, 238])
def test_changing_data_after_t_changes_nothing_scored_up_to_t(inp, baseline_result, t):
    assert t >= inp.fit_stop
    other = run_backtest(perturbed_after(inp, t))
    assert_nothing_scored_up_to_t_moved(baseline_result, other, inp, t)
    # The change did reach the steps after t (so the check compared something real).
    ref = baseline_result.row("reference")
    assert not np.array_equal(ref.predicted[t + 1 :], other.row("reference").predicted[t + 1 :]) or t == len(inp) - 1


def test_every_variant_and_the_map_score_were_exercised(inp, baseline_result):
    for row in baseline_result.rows:
        assert not row.skipped or row.key == "mix_exchange", row.key
        if not row.skipped:
            assert row.credits is not None and len(row.credits) > 0
            assert row.bins is not None
    fitted = baseline_result.row("mix_fitted")
    assert fitted.fit and fitted.fit["candidates"] > 70
    assert baseline_result.row("ageing").params["half_life_hours"] in (6.0, 12.0, 24.0, 48.0, 96.0, 192.0)
    assert baseline_result.row("intrabar").params["intrabar_source"] == "5m"


def test_the_check_catches_a_leak(inp, baseline_result, monkeypatch):
    # A volatility baseline that peeks at the next step's open interest must be caught.
    def leaky(high, low, open_interest):
        out = np.zeros(len(high))
        out[1:-1] = (high[1:-1] - low[1:-1]) * open_interest[2:]
        return out

    monkeypatch.setattr(bt.baselines, "volatility_per_step", leaky)
    t = 150
    a = run_backtest(inp)
    b = run_backtest(perturbed_after(inp, t))
    with pytest.raises(AssertionError, match="volatility: predictions up to step 150 moved"):
        assert_nothing_scored_up_to_t_moved(a, b, inp, t)


def test_a_fit_that_peeks_past_the_split_is_caught(inp, monkeypatch):
    # A bug that fits on the wrong rows (the held-out part's prices and open interest) must be caught.
    right_head = bt.BacktestInput.head

    def wrong_head(self, stop):
        names = ("open", "high", "low", "close", "open_interest")
        head = right_head(self, stop)
        return replace(head, steps=replace(head.steps, **{name: getattr(self, name)[-stop:] for name in names}))

    monkeypatch.setattr(bt.BacktestInput, "head", wrong_head)
    t = inp.fit_stop + 1
    a = run_backtest(inp)
    b = run_backtest(perturbed_after(inp, t, seed=3))
    with pytest.raises(AssertionError, match="fit"):
        assert_nothing_scored_up_to_t_moved(a, b, inp, t)
