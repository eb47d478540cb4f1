"""Each plugin's open-interest stamp ("open" or "close") is declared, and real recorded data agree with it.

The recorded data are the three-exchange sample (plugins/sample/data/multi-exchange-btc-sol-1h-2026-01_03/,
MIT): hourly candles and open interest from Binance openInterestHist, Bybit /v5/market/open-interest and
OKX rubik open-interest-history, each row at the exchange's own stamp. For the live plugins they are put back
into each endpoint's response layout and read by the plugin's own parser, so what is checked is the time
the plugin gives a reading, against the declaration the core acts on.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from liqsite.exchanges import Candle, OpenInterestPoint
from liqsite.exchanges.http import ResponseReader
from liqsite.exchanges.oi_stamps import at_reading_time, stamp_shown_by
from liqsite.exchanges.registry import BUNDLED_PLUGINS, _import_target, _load
from markets.series_kinds import SERIES
from plugins.binance import parse as binance_parse
from plugins.binance.plugin import BinanceExchange
from plugins.bybit import parse as bybit_parse
from plugins.bybit.plugin import BybitExchange
from plugins.okx import parse as okx_parse
from plugins.okx.plugin import OkxExchange
from plugins.sample.recorded import SampleBinance, SampleBybit, SampleOkx, recorded_candles, recorded_open_interest

HOUR = timedelta(hours=1)
# The column each exchange reports itself; the other one is derived with the hour's open price.
NATIVE_USD = {"binance": True, "bybit": False, "okx": True}
# A clear call, not a coin toss: the recorded data separate the two readings by 0.2 to 0.6.
MIN_MARGIN = 0.1


def _ms(time) -> int:
    return int(time.timestamp() * 1000)


def _check(candles, points, *, usd: bool, declared: str) -> None:
    evidence = stamp_shown_by(candles, points, usd=usd)
    assert evidence.margin > MIN_MARGIN, evidence
    assert evidence.stamp == declared, evidence
    # The same readings stamped the other way (each with the open of the step it closes) read
    # "close", so this check can fail: it tells the two stamps apart on these data.
    other = [replace(p, time=p.time - HOUR) for p in points]
    assert stamp_shown_by(candles, other, usd=usd).stamp == "close"


def test_every_bundled_plugin_declares_a_stamp():
    for key, target in BUNDLED_PLUGINS.items():
        assert _import_target(target).open_interest_stamp in ("open", "close"), key


@pytest.mark.parametrize(
    ("plugin", "symbol", "native"),
    [
        (SampleBinance, "BTCUSDT", "binance"),
        (SampleBinance, "SOLUSDT", "binance"),
        (SampleBybit, "BTCUSDT", "bybit"),
        (SampleBybit, "SOLUSDT", "bybit"),
        (SampleOkx, "BTC-USDT-SWAP", "okx"),
        (SampleOkx, "SOL-USDT-SWAP", "okx"),
    ],
)
def test_the_sample_stand_ins_serve_readings_at_the_stamp_their_data_show(plugin, symbol, native):
    with plugin() as client:
        candles = [c for batch in client.candles(symbol, "1h", None) for c in batch]
        points = [p for batch in client.open_interest(symbol, "1h", None) for p in batch]
    _check(candles, points, usd=NATIVE_USD[native], declared=plugin.open_interest_stamp)
    assert plugin.open_interest_stamp == "open"


@pytest.mark.parametrize("folder", ["binance-BTCUSDT", "binance-SOLUSDT"])
def test_binance_open_interest_hist_timestamp_is_the_snapshot_at_the_open(folder):
    symbol = folder.split("-")[1]
    klines = [
        [
            _ms(c.time),
            str(c.open),
            str(c.high),
            str(c.low),
            str(c.close),
            str(c.volume),
            _ms(c.time) + 3_599_999,
            "0",
            0,
            "0",
            "0",
            "0",
        ]
        for c in recorded_candles(folder)
    ]
    hist = [
        {
            "symbol": symbol,
            "sumOpenInterest": str(p.open_interest),
            "sumOpenInterestValue": str(p.open_interest_usd),
            "timestamp": _ms(p.time),
        }
        for p in recorded_open_interest(folder)
    ]
    candles = binance_parse.klines(klines, ResponseReader("Binance", "/fapi/v1/klines"))
    points = binance_parse.open_interest_hist(hist, ResponseReader("Binance", "/futures/data/openInterestHist"))
    _check(candles, points, usd=True, declared=BinanceExchange.open_interest_stamp)


@pytest.mark.parametrize("folder", ["bybit-BTCUSDT", "bybit-SOLUSDT"])
def test_bybit_open_interest_timestamp_is_the_snapshot_at_the_open(folder):
    # Bybit sends both lists newest first.
    kline = {
        "list": [
            [str(_ms(c.time)), str(c.open), str(c.high), str(c.low), str(c.close), str(c.volume), "0"]
            for c in reversed(recorded_candles(folder))
        ]
    }
    oi = {
        "list": [
            {"openInterest": str(p.open_interest), "timestamp": str(_ms(p.time))}
            for p in reversed(recorded_open_interest(folder))
        ]
    }
    candles = bybit_parse.klines(kline, ResponseReader("Bybit", "/v5/market/kline"), inverse=False)
    raw = bybit_parse.open_interest(oi, ResponseReader("Bybit", "/v5/market/open-interest"))
    points = bybit_parse.open_interest_points(raw, inverse=False, contract_size=1.0, price_at={})
    _check(candles, points, usd=False, declared=BybitExchange.open_interest_stamp)


@pytest.mark.parametrize("folder", ["okx-BTC-USDT-SWAP", "okx-SOL-USDT-SWAP"])
def test_okx_open_interest_history_ts_is_the_snapshot_at_the_open(folder):
    # OKX sends both newest first; oiCcy is base coin, oi contracts (not read).
    data = [
        [str(_ms(c.time)), str(c.open), str(c.high), str(c.low), str(c.close), "0", str(c.volume), "0", "1"]
        for c in reversed(recorded_candles(folder))
    ]
    history = [
        [str(_ms(p.time)), "0", str(p.open_interest), str(p.open_interest_usd)] for p in reversed(recorded_open_interest(folder))
    ]
    candles = okx_parse.candles(data, ResponseReader("OKX", "/api/v5/market/history-candles"))
    points = okx_parse.open_interest_history(history, ResponseReader("OKX", "/api/v5/rubik/stat/contracts/open-interest-history"))
    _check(candles, points, usd=True, declared=OkxExchange.open_interest_stamp)


class CloseStampedBybit(SampleBybit):
    """The Bybit stand-in as if its stamps were the open of the step at whose close the reading was taken."""

    open_interest_stamp = "close"


def test_the_core_stores_close_stamped_readings_one_step_later_and_resumes_without_gaps():
    fetch = SERIES["open_interest"].fetch
    with SampleBybit() as plugin:
        as_is = [p for batch in fetch(plugin, "BTCUSDT", "1h", None) for p in batch]
    with CloseStampedBybit() as plugin:
        moved = [p for batch in fetch(plugin, "BTCUSDT", "1h", None) for p in batch]
        # Resuming from the newest stored time asks for exactly the stamps not stored yet.
        resumed = [p for batch in fetch(plugin, "BTCUSDT", "1h", moved[100].time) for p in batch]
    assert as_is == list(recorded_open_interest("bybit-BTCUSDT"))
    assert [p.time for p in moved] == [p.time + HOUR for p in as_is]
    assert [p.open_interest for p in moved] == [p.open_interest for p in as_is]
    assert resumed[0].time == moved[101].time
    assert resumed == moved[101:]


def test_a_plugin_with_an_unknown_stamp_is_listed_with_the_reason_instead_of_loaded():
    class Midway(SampleBybit):
        open_interest_stamp = "middle"

    info = _load("midway", "test", "tests:Midway", lambda: Midway)
    assert not info.loadable
    assert "open_interest_stamp is 'middle'; it must be one of open, close" in info.error


def test_stamp_helpers_refuse_what_they_cannot_read():
    point = OpenInterestPoint(recorded_candles("okx-BTC-USDT-SWAP")[0].time, 1.0)
    with pytest.raises(ValueError, match="must be 'open'"):
        list(at_reading_time([point], "end", HOUR))
    candles: list[Candle] = list(recorded_candles("okx-BTC-USDT-SWAP")[:10])
    with pytest.raises(ValueError, match="need 30"):
        stamp_shown_by(candles, list(recorded_open_interest("okx-BTC-USDT-SWAP")[:10]))
