"""The sample exchange's benchmark options: shifted copies of the SOL recording and the replay clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from liqsite.exchanges import ExchangeError
from plugins.sample.plugin import SampleExchange


def rows(batches) -> list:
    return [row for batch in batches for row in batch]


def test_a_copy_is_the_recording_moved_later_by_its_hours():
    sample = SampleExchange()
    original = rows(sample.candles("SOL-USDT-SWAP", "15m", None))
    copy = rows(sample.candles("SOL-USDT-SWAP+30h", "15m", None))
    assert len(copy) == len(original) > 2000
    assert [c.time for c in copy] == [c.time + timedelta(hours=30) for c in original]
    assert [c.close for c in copy] == [c.close for c in original]
    oi = rows(sample.open_interest("SOL-USDT-SWAP+30h", "1h", None))
    assert oi[0].time == rows(sample.open_interest("SOL-USDT-SWAP", "1h", None))[0].time + timedelta(hours=30)
    instrument = sample.instrument("SOL-USDT-SWAP+30h")
    assert (instrument.symbol, instrument.base, instrument.quote) == ("SOL-USDT-SWAP+30h", "SOL", "USDT")


def test_since_is_read_on_the_copys_own_clock():
    sample = SampleExchange()
    first = rows(sample.candles("SOL-USDT-SWAP+5h", "1h", None))
    later = rows(sample.candles("SOL-USDT-SWAP+5h", "1h", first[10].time))
    assert later == first[10:]


def test_the_replay_clock_serves_only_what_was_recorded_before_it_on_every_copy():
    until = datetime(2026, 6, 10, tzinfo=UTC)
    sample = SampleExchange({"replay_until": until.isoformat()})
    original = rows(sample.candles("SOL-USDT-SWAP", "5m", None))
    copy = rows(sample.candles("SOL-USDT-SWAP+24h", "5m", None))
    assert original and original[-1].time < until and original[-1].time + timedelta(minutes=5) == until
    assert len(copy) == len(original) and copy[-1].time == original[-1].time + timedelta(hours=24)
    assert all(p.time < until for p in rows(sample.funding_rates("SOL-USDT-SWAP", None)))
    assert len(rows(SampleExchange().candles("SOL-USDT-SWAP", "5m", None))) > len(original)


@pytest.mark.parametrize(
    ("settings", "symbol", "interval", "message"),
    [
        ({}, "SOL-USDT-SWAP+0h", "1h", "shifted by 1 to 8760 hours"),
        ({}, "SOL-USDT-SWAP+9999h", "1h", "shifted by 1 to 8760 hours"),
        ({}, "SOL-USDT-SWAP+3h", "4h", "off their boundaries"),
        ({}, "BTCUSDT+3h", "15m", "unknown symbol"),
        ({"replay_until": "2026-06-10"}, "SOL-USDT-SWAP", "1h", "UTC offset"),
        ({"replay_until": "soon"}, "SOL-USDT-SWAP", "1h", "ISO 8601"),
    ],
)
def test_bad_copies_and_clocks_are_permanent_errors(settings, symbol, interval, message):
    with pytest.raises(ExchangeError, match=message) as error:
        rows(SampleExchange(settings).candles(symbol, interval, None))
    assert error.value.permanent


def test_unknown_settings_are_still_refused():
    with pytest.raises(ExchangeError, match="unknown setting"):
        SampleExchange({"replay_at": "2026-06-10T00:00:00+00:00"})
