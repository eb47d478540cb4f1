"""Stored series become aligned engine inputs without inventing data."""

import numpy as np
import pytest

from grids.inputs import as_of, market_steps
from markets.models import Exchange, Market
from markets.refresh import market_refresh


def test_as_of_takes_the_newest_reading_at_or_before_each_step_end():
    readings = np.array([100, 200, 300], dtype=np.int64)
    values = np.array([1.0, 2.0, 3.0])
    ends = np.array([50, 100, 150, 299, 300, 450, 700], dtype=np.int64)
    picked = as_of(ends, readings, values, max_age_ms=200)
    np.testing.assert_array_equal(picked, [np.nan, 1.0, 1.0, 2.0, 3.0, 3.0, np.nan])


def test_as_of_without_readings_is_all_missing():
    assert np.isnan(as_of(np.array([1, 2], dtype=np.int64), np.empty(0, np.int64), np.empty(0), 10)).all()


@pytest.mark.django_db
def test_sample_btc_steps_take_open_interest_at_each_step_end():
    market = Market.objects.create(exchange=Exchange.objects.create(plugin="sample"), symbol="BTCUSDT", intervals=["15m"])
    market_refresh(market.pk)
    steps = market_steps(market, "15m")
    # The OI readings run 2024-05-09 16:15 .. 05-11 12:00 on 15m boundaries; a step is kept
    # while its end has a reading at most 30 min old (twice the 15m spacing).
    assert len(steps) == 178
    assert np.all(np.diff(steps.open_time) == 900_000)
    first_end_ms = steps.open_time[0] + 900_000
    assert first_end_ms == 1715271300000  # 16:15, the first reading on a 15m boundary
    assert steps.open_interest[0] == pytest.approx(71165.804)  # that reading, in BTC
    assert np.all(np.isfinite(steps.long_share)) and np.all((steps.long_share > 0.5) & (steps.long_share < 0.8))
    assert np.all(steps.taker_buy_volume <= steps.volume)


@pytest.mark.django_db
def test_only_the_newest_candles_are_read_when_a_grid_needs_no_more():
    # A grid needs its window and warm-up: reading all history on every computation
    # would make each one slower as the market ages.
    market = Market.objects.create(exchange=Exchange.objects.create(plugin="sample"), symbol="BTCUSDT", intervals=["15m"])
    market_refresh(market.pk)
    every = market_steps(market, "15m")
    newest = market_steps(market, "15m", newest=60)
    assert 0 < len(newest) <= 60
    tail = every.window(every.open_time >= newest.open_time[0])
    for name in ("open_time", "high", "low", "close", "open_interest", "long_share", "taker_buy_volume"):
        np.testing.assert_array_equal(getattr(newest, name), getattr(tail, name), err_msg=name)


@pytest.mark.django_db
def test_asking_for_no_candles_or_a_market_without_any_reads_nothing():
    market = Market.objects.create(exchange=Exchange.objects.create(plugin="sample"), symbol="BTCUSDT", intervals=["15m"])
    assert len(market_steps(market, "15m")) == 0  # nothing stored yet
    market_refresh(market.pk)
    none = market_steps(market, "15m", newest=0)  # Django knows this query is empty and runs none
    assert len(none) == 0 and none.open_time.dtype == np.int64
