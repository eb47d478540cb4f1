"""Ingest: validated, atomic, idempotent; gaps stay gaps."""

import math
from datetime import UTC, datetime, timedelta

import pytest

from liqsite.exchanges import types
from markets.ingest import IngestError, ingest_batch, last_stored_time
from markets.models import Candle, Exchange, FundingRate, Market, OpenInterest

pytestmark = pytest.mark.django_db

T0 = datetime(2024, 5, 9, tzinfo=UTC)
STEP = timedelta(minutes=15)


@pytest.fixture
def market():
    exchange = Exchange.objects.create(plugin="sample")
    return Market.objects.create(exchange=exchange, symbol="BTCUSDT", intervals=["15m"])


def candle(index, **changes):
    values = dict(time=T0 + index * STEP, open=100.0, high=102.0, low=99.0, close=101.0, volume=5.0, taker_buy_volume=2.0)
    values.update(changes)
    return types.Candle(**values)


def stored(market):
    return list(
        Candle.objects.filter(market=market).order_by("time").values_list("time", "open", "high", "low", "close", "volume")
    )


def test_ingesting_twice_changes_nothing(market):
    batch = [candle(i) for i in range(10)]
    first = ingest_batch(market, "candles", "15m", batch)
    rows_after_first = stored(market)
    ids_after_first = list(Candle.objects.order_by("time").values_list("pk", flat=True))
    second = ingest_batch(market, "candles", "15m", batch)
    assert (first.created, first.updated, first.unchanged) == (10, 0, 0)
    assert (second.created, second.updated, second.unchanged) == (0, 0, 10)
    assert stored(market) == rows_after_first
    assert list(Candle.objects.order_by("time").values_list("pk", flat=True)) == ids_after_first


def test_a_changed_step_is_updated_in_place(market):
    ingest_batch(market, "candles", "15m", [candle(i) for i in range(3)])
    result = ingest_batch(market, "candles", "15m", [candle(2, close=101.5), candle(3)])
    assert (result.created, result.updated, result.unchanged) == (1, 1, 0)
    assert Candle.objects.get(market=market, time=T0 + 2 * STEP).close == 101.5
    assert Candle.objects.filter(market=market).count() == 4


@pytest.mark.parametrize(
    ("bad_row", "message"),
    [
        (candle(5, high=98.0), "high 98.0 is below low 99.0"),
        (candle(5, close=math.nan), "close=nan not a finite number"),
        (candle(5, volume=math.inf), "volume=inf not a finite number"),
        (candle(5, open=-1.0, low=-2.0), "prices must be positive"),
        (candle(5, taker_buy_volume=9.0), "taker_buy_volume 9.0 outside"),
        (candle(5, time=T0 + 5 * STEP + timedelta(minutes=1)), "not on a 15m boundary"),
        (candle(5, time=(T0 + 5 * STEP).replace(tzinfo=None)), "timezone-aware"),
        (candle(3), "times must increase"),
    ],
)
def test_a_malformed_batch_is_rejected_whole_and_earlier_data_stays(market, bad_row, message):
    ingest_batch(market, "candles", "15m", [candle(i) for i in range(4)])
    before = stored(market)
    batch = [candle(i) for i in range(4, 9)]
    batch[1] = bad_row
    with pytest.raises(IngestError) as caught:
        ingest_batch(market, "candles", "15m", batch)
    assert message in str(caught.value)
    assert "BTCUSDT candles 15m" in str(caught.value)
    assert "row 2" in str(caught.value)
    assert "nothing written" in str(caught.value)
    assert stored(market) == before


def test_gaps_are_kept_as_gaps(market):
    ingest_batch(market, "candles", "15m", [candle(i) for i in (0, 1, 2, 6, 7)])
    times = [row[0] for row in stored(market)]
    assert times == [T0 + i * STEP for i in (0, 1, 2, 6, 7)]


def test_series_are_kept_apart_by_interval_and_kind(market):
    ingest_batch(market, "candles", "15m", [candle(i) for i in range(4)])
    ingest_batch(market, "open_interest", "15m", [types.OpenInterestPoint(T0, 10.0, 1000.0)])
    ingest_batch(market, "open_interest", "1h", [types.OpenInterestPoint(T0, 11.0, None)])
    ingest_batch(market, "funding", None, [types.FundingRatePoint(T0, 0.0001)])
    assert OpenInterest.objects.filter(market=market).count() == 2
    assert FundingRate.objects.get(market=market).rate == 0.0001
    assert last_stored_time("candles", market, "15m") == T0 + 3 * STEP
    assert last_stored_time("candles", market, "1h") is None


def test_long_share_and_open_interest_rules(market):
    with pytest.raises(IngestError, match="long_share 1.2 outside"):
        ingest_batch(market, "long_short", "15m", [types.LongShortPoint(T0, 1.2)])
    with pytest.raises(IngestError, match="open_interest -1.0 is negative"):
        ingest_batch(market, "open_interest", "15m", [types.OpenInterestPoint(T0, -1.0)])
    with pytest.raises(IngestError, match="expected OpenInterestPoint, got Candle"):
        ingest_batch(market, "open_interest", "15m", [candle(0)])
