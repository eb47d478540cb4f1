"""The database computes stored times as epoch milliseconds exactly as Python would."""

from datetime import UTC, datetime

import pytest

from liqsite.exchanges.http import to_ms
from markets.epoch_ms import EpochMs
from markets.models import Candle, Exchange, Market

MOMENTS = [
    datetime(1970, 1, 1, tzinfo=UTC),
    datetime(2019, 9, 8, 17, 0, tzinfo=UTC),
    datetime(2024, 5, 9, 16, 15, 0, 1000, tzinfo=UTC),  # 1 ms past the minute
    datetime(2026, 3, 31, 23, 59, 59, 999000, tzinfo=UTC),
    datetime(2026, 12, 4, 12, 0, 0, 123456, tzinfo=UTC),  # sub-millisecond: rounds to .123
    datetime(2099, 12, 31, 23, 59, 59, 998000, tzinfo=UTC),
]


@pytest.mark.django_db
def test_epoch_ms_matches_python_to_the_millisecond():
    market = Market.objects.create(exchange=Exchange.objects.create(plugin="sample"), symbol="X", intervals=["5m"])
    for moment in MOMENTS:
        Candle.objects.create(market=market, interval="5m", time=moment, open=1, high=1, low=1, close=1, volume=0)
    stored = list(Candle.objects.order_by("time").values_list(EpochMs("time"), flat=True))
    assert stored == [round(moment.timestamp() * 1000) for moment in MOMENTS]
    assert stored[1:4] == [to_ms(moment) for moment in MOMENTS[1:4]]
    assert all(isinstance(value, int) for value in stored)
