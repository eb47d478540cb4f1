"""Nothing a reading decided at or before step t may depend on data after t; the fit never sees the held-out part."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from accuracy import readings_backtest as rb
from accuracy.readings_backtest import CANDIDATES, READING_KEYS, SCORERS, ReadingsInput, _fit_key, prepare
from liqengine import ReadingSettings
from tests.accuracy.helpers import sol_hourly


def perturbed_after(inp: ReadingsInput, t: int, seed: int = 3) -> ReadingsInput:
    rng = np.random.default_rng(seed)
    s = inp.steps
    later = np.arange(len(s)) > t
    m = int(later.sum())
    close = s.close.copy()
    close[later] *= rng.uniform(0.85, 1.15, m)
    high, low, oi = s.high.copy(), s.low.copy(), s.open_interest.copy()
    high[later] = close[later] * rng.uniform(1.0, 1.04, m)
    low[later] = close[later] * rng.uniform(0.96, 1.0, m)
    oi[later] *= rng.uniform(0.5, 1.5, m)
    liq = None if inp.liquidations is None else np.where(later, rng.uniform(0, 1e7, len(s)), inp.liquidations)
    return replace(inp, steps=replace(s, close=close, high=high, low=low, open_interest=oi), liquidations=liq)


@pytest.fixture(scope="module")
def inp():
    base = sol_hourly(400)
    liq = np.random.default_rng(1).uniform(0, 1e6, len(base))
    return ReadingsInput(base.steps, base.step_ms, base.split_time, liquidations=liq)


@pytest.mark.parametrize("t", [150, 260, 398])
def test_every_reading_up_to_t_stays_when_data_after_t_changes(inp, t):
    settings = ReadingSettings()
    a, b = prepare(inp, settings), prepare(perturbed_after(inp, t), settings)
    for name in ("thin_up_pct", "thin_down_pct", "long_below", "short_above"):
        assert np.array_equal(getattr(a.series, name)[: t + 1], getattr(b.series, name)[: t + 1]), name
    for pct in settings.pressure_pcts:
        assert np.array_equal(a.series.pressure[pct][: t + 1], b.series.pressure[pct][: t + 1])
        assert np.array_equal(a.series.pressure_rank[pct][: t + 1], b.series.pressure_rank[pct][: t + 1], equal_nan=True)
    assert np.array_equal(a.magnet_price[: t + 1], b.magnet_price[: t + 1], equal_nan=True)
    # The change reached the rows after t (so the comparison compared something real).
    assert t == len(inp) - 1 or not np.array_equal(a.series.long_below[t + 1 :], b.series.long_below[t + 1 :])


def test_the_fit_part_sees_nothing_from_the_held_out_part(inp):
    settings = ReadingSettings()
    other = perturbed_after(inp, inp.fit_stop - 1)
    pa, pb = prepare(inp, settings), prepare(other, settings)
    for key in READING_KEYS:
        for p in CANDIDATES[key]:
            fa, ha = SCORERS[key](inp, pa, settings, p)
            fb, hb = SCORERS[key](other, pb, settings, p)
            assert _fit_key(key, fa) == _fit_key(key, fb), (key, p)
            assert repr(fa) == repr(fb), (key, p)
    # ... while the held-out scores did move (the perturbation reached them).
    ra, rb_ = rb.run_readings_backtest(inp), rb.run_readings_backtest(other)
    assert {k: ra["readings"][k]["params"] for k in READING_KEYS} == {k: rb_["readings"][k]["params"] for k in READING_KEYS}
    assert any(ra["readings"][k]["reading"] != rb_["readings"][k]["reading"] for k in READING_KEYS)


def test_the_check_catches_a_leak(inp, monkeypatch):
    # A pressure that peeks at the next row must be caught by the same comparison.
    real = rb.reading_series

    def leaky(long_grid, short_grid, edges, close, open_time, settings):
        out = real(long_grid, short_grid, edges, close, open_time, settings)
        out.long_below[:-1] = out.long_below[1:]
        return out

    monkeypatch.setattr(rb, "reading_series", leaky)
    t = 200
    a, b = prepare(inp, ReadingSettings()), prepare(perturbed_after(inp, t), ReadingSettings())
    assert not np.array_equal(a.series.long_below[: t + 1], b.series.long_below[: t + 1])
