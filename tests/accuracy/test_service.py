"""Loading a market's rows for the backtest, and storing its report."""

from __future__ import annotations

import json
from datetime import timedelta

import numpy as np
import pytest

from accuracy.models import AccuracyReport
from accuracy.service import BacktestUnavailable, backtest_input, backtest_interval, due_market_ids, market_backtest
from markets.models import Exchange, Market
from tests.accuracy.factories import liquidation, listen, stored_market, utc
from tests.accuracy.helpers import HOUR

pytestmark = pytest.mark.django_db


@pytest.fixture
def market():
    return stored_market(96)


def test_the_interval_follows_the_open_interest_cadence_and_finer_candles_give_the_order(market):
    assert backtest_interval(market) == "1h"  # 5m candles are stored too, but OI is read hourly
    inp = backtest_input(market, "1h")
    assert len(inp) == 96
    assert inp.fine is not None and inp.fine.interval == "5m"
    assert np.isfinite(inp.long_share).all()
    # The split is a time: half of the period.
    assert inp.split_time == int(inp.open_time[0]) + 48 * HOUR


def test_only_steps_inside_a_connection_read_liquidation_records(market):
    inp = backtest_input(market, "1h")
    t0 = int(inp.open_time[0])
    # Listening from the middle of step 60 to the end of step 80: steps 61..80 are covered, 60 is not.
    listen(market, utc(t0 + 60 * HOUR + 1_800_000), utc(t0 + 81 * HOUR))
    liquidation(market, utc(t0 + 60 * HOUR + 2_000_000), 150.0, 5e5)  # in the half-covered step
    liquidation(market, utc(t0 + 70 * HOUR + 60_000), float(inp.close[70]), 2e5)
    now = utc(t0 + 200 * HOUR)
    inp = backtest_input(market, "1h", now=now)
    assert np.flatnonzero(inp.covered).tolist() == list(range(61, 81))
    assert len(inp.records.time) == 2
    from accuracy.backtest import SOURCE_RECORDS, observed_per_step

    observed, source = observed_per_step(inp)
    assert source[60] != SOURCE_RECORDS  # half-covered: the OI drop, not "no liquidations"
    assert observed[70] == 2e5 and observed[71] == 0.0 and source[71] == SOURCE_RECORDS


def test_market_backtest_stores_one_json_report_per_market_and_interval(market):
    t0 = int(backtest_input(market, "1h").open_time[0])
    listen(market, utc(t0 + 50 * HOUR), utc(t0 + 96 * HOUR))
    inp = backtest_input(market, "1h")
    for step in range(52, 95, 3):
        liquidation(market, utc(t0 + step * HOUR + 600_000), float(inp.low[step]), 1e5 + step)
    run = market_backtest(market.pk)
    report = AccuracyReport.objects.get(market=market)
    assert report.interval == "1h" and report.variant == "reference"
    assert report.held_out_steps == run.result.info["held_out_steps"] == 48
    json.dumps(report.results, allow_nan=False)  # plain JSON: no NaN, no infinity, no numpy types
    rows = {r["key"]: r for r in report.results["rows"]}
    assert rows["reference"]["bins"]["records"] == 15
    assert rows["mix_exchange"]["skipped"]  # OKX recording: no prior written down
    market_backtest(market.pk)
    assert AccuracyReport.objects.filter(market=market).count() == 1


def test_a_market_without_data_cannot_be_backtested():
    exchange = Exchange.objects.create(plugin="sample")
    empty = Market.objects.create(exchange=exchange, symbol="BTCUSDT", intervals=["15m"])
    with pytest.raises(BacktestUnavailable, match="no candles stored"):
        market_backtest(empty.pk)


def test_due_markets_are_those_without_a_fresh_report(market):
    other = stored_market(10, symbol="OTHER")
    assert set(due_market_ids(every=timedelta(hours=20))) == {market.pk, other.pk}
    market_backtest(market.pk)
    assert due_market_ids(every=timedelta(hours=20)) == [other.pk]
    report = AccuracyReport.objects.get(market=market)
    assert market.pk in due_market_ids(every=timedelta(hours=20), now=report.computed_at + timedelta(hours=21))
