"""The readings backtest's rules: events one at a time, verdicts from Wilson bounds, outcomes on known paths."""

from __future__ import annotations

import numpy as np

from accuracy.readings_backtest import (
    MIN_EVENTS,
    ReadingsInput,
    _magnet,
    _spaced,
    _verdict,
    run_readings_backtest,
)
from accuracy.readings_table import short_record, text_table
from tests.accuracy.helpers import sol_hourly


def rate(hits, n):
    from accuracy.readings_backtest import _rate

    return _rate(hits, n)


def test_events_are_taken_one_at_a_time():
    kept = _spaced(np.array([0, 1, 2, 5, 6, 9]), np.array([3, 4, 5, 8, 9, 12]))
    assert kept.tolist() == [0, 5, 9]


def test_verdicts():
    assert _verdict(rate(80, 100), rate(40, 100)) == "beats"
    assert _verdict(rate(20, 100), rate(60, 100)) == "worse"
    assert _verdict(rate(55, 100), rate(45, 100)) == "no_better"
    assert _verdict(rate(5, MIN_EVENTS - 1), rate(1, 100)) == "not_enough"
    assert _verdict(rate(70, 100), {"fixed": 0.5, "events": 100}) == "beats"
    assert _verdict(rate(52, 100), {"fixed": 0.5, "events": 100}) == "no_better"


def test_magnet_scores_the_band_against_the_mirror_level():
    # A path that only ever rises 3 %: a band above at +2 % is reached, the mirror at −2 % never.
    inp = sol_hourly(120)
    s = inp.steps
    n = len(s)
    close = np.linspace(100, 103, n)
    steps = type(s)(
        s.open_time, close, close * 1.001, close * 0.999, close, s.volume, s.taker_buy_volume, s.open_interest, s.long_share
    )
    ri = ReadingsInput(steps, inp.step_ms, int(s.open_time[n // 2]))

    class Prep:
        magnet_side = np.ones(n, dtype=np.int8)
        magnet_price = close * 1.002

    _, held = _magnet(ri, Prep, None, {"horizon_hours": 12})
    assert held["reading"]["events"] > 0
    assert held["reading"]["rate"] == 1.0 and held["baseline"]["rate"] == 0.0


def test_a_whole_run_on_real_data_gives_four_readings_in_words():
    inp = sol_hourly(400)
    results = run_readings_backtest(ReadingsInput(inp.steps, inp.step_ms, inp.split_time))
    assert list(results["readings"]) == ["fakeout", "volatility", "lean", "magnet"]
    table = text_table(results)
    for title in ("Fakeout risk", "Volatility ahead", "Squeeze lean", "Magnet"):
        assert title in table
    for reading in results["readings"].values():
        r = reading["reading"]
        assert r["events"] == 0 or r["low"] <= r["rate"] <= r["high"]
        text = short_record(reading)
        assert text == "not enough history yet" or "came true" in text
        if reading["verdict"] in ("no_better", "worse"):
            assert "does not beat" in text or "does worse" in text
