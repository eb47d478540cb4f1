"""Binance USDⓈ-M: every endpoint, paging, faults and the liquidation stream, from recordings."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import httpx
import pytest

from liqsite.exchanges import Candle, ExchangeError, FundingRatePoint, Instrument, LongShortPoint, OpenInterestPoint
from liqsite.exchanges.testing import Expected, PluginContractTests, json_response, query, recorded
from plugins.binance import parse
from plugins.binance import plugin as binance_plugin
from plugins.binance.plugin import BinanceExchange
from tests.plugins.conftest import fixture_json, fixture_path


def utc(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def body(name: str) -> httpx.Response:
    return recorded(fixture_path("binance", name))


KLINES = fixture_json("binance", "klines.real-ccxt.json")


def klines_variant(change) -> httpx.Response:
    """The real klines body with one defect introduced (to test that it is refused)."""
    rows = copy.deepcopy(KLINES)
    change(rows)
    return json_response(rows)


class TestBinanceContract(PluginContractTests):
    plugin_class = BinanceExchange
    # A one-day cap keeps a new market's backfill to one window of each recording's day.
    settings = {"max_backfill_days": 1}
    symbol = "BTCUSDT"
    interval = "1m"
    now = datetime(2024, 4, 10, 8, 44, tzinfo=UTC)  # just after the three recorded 1m klines
    candles_path = "/fapi/v1/klines"
    resume_since = datetime(2024, 4, 10, 8, 42, tzinfo=UTC)
    paging_since = datetime(2024, 4, 10, 8, 41, tzinfo=UTC)
    page_size = (binance_plugin, "KLINE_LIMIT", 2)
    expected_instrument = Instrument("BTCUSDT", "BTC", "USDT", "linear", 1.0, 0.01)
    expected = {
        "candles": Expected(
            3,
            Candle(utc(1712738460000), 71481.9, 71481.9, 71481.9, 71481.9, 0.002, 0.002),
            Candle(utc(1712738580000), 71470.7, 71470.9, 70459.4, 70459.4, 1.542, 0.013),
        ),
        # Docs examples (2020-03-02, 5m apart): the clock is set just after them.
        "open_interest": Expected(
            2,
            OpenInterestPoint(utc(1583127900000), 20403.637, 150570784.07809979),
            OpenInterestPoint(utc(1583128200000), 20401.367, 149940752.14464448),
            now=datetime(2020, 3, 2, 6, 0, tzinfo=UTC),
        ),
        "long_short_ratios": Expected(
            2,
            LongShortPoint(utc(1583139600000), 0.6622),
            LongShortPoint(utc(1583139900000), 0.6617),
            now=datetime(2020, 3, 2, 9, 10, tzinfo=UTC),
        ),
        "funding_rates": Expected(
            2,
            FundingRatePoint(utc(1570608000000), -0.0375),
            FundingRatePoint(utc(1570636800000), 0.0001),
            now=datetime(2019, 10, 9, 17, 0, tzinfo=UTC),
        ),
    }
    # Binance answers an unknown symbol with HTTP 400 and this body (the issue did not show the status).
    error_response = recorded(fixture_path("binance", "error-invalid-symbol.real-ccxt-issue.json"), status=400)
    malformed_candles = {
        "missing field": (klines_variant(lambda rows: rows[1].__delitem__(slice(5, None))), "(field [1])"),
        "string for a number": (
            klines_variant(lambda rows: rows[0].__setitem__(1, "n/a")),
            "expected a number, got 'n/a' (field [0].open)",
        ),
        "NaN": (
            klines_variant(lambda rows: rows[2].__setitem__(4, "NaN")),
            "expected a finite number, got 'NaN' (field [2].close)",
        ),
        "out of order": (klines_variant(lambda rows: rows.reverse()), "times out of order"),
        "wrong envelope": (json_response({"data": KLINES}), "expected a list, got dict"),
        "bad timestamp": (klines_variant(lambda rows: rows[0].__setitem__(0, 1712738460)), "expected a millisecond timestamp"),
    }

    def routes(self):
        return {
            "/fapi/v1/exchangeInfo": body("exchange-info.real-cryptofeed.json"),
            "/fapi/v1/klines": body("klines.real-ccxt.json"),
            "/futures/data/openInterestHist": body("open-interest-hist.docs.json"),
            "/futures/data/globalLongShortAccountRatio": body("global-long-short-account-ratio.docs.json"),
            "/fapi/v1/fundingRate": body("funding-rate.docs.json"),
        }

    def paging_routes(self):
        # The same real body answers both 2-minute windows; each page keeps its window's rows.
        return {"/fapi/v1/klines": [body("klines.real-ccxt.json"), body("klines.real-ccxt.json")]}

    def requested_start(self, request):
        return utc(int(query(request)["startTime"]))


def test_requests_carry_binance_parameters_and_windows(monkeypatch):
    from liqsite.exchanges.testing import ReplayTransport, fake_clock

    fake_clock(monkeypatch, lambda: datetime(2024, 4, 10, 8, 44, tzinfo=UTC))
    transport = ReplayTransport({"/fapi/v1/klines": body("klines.real-ccxt.json")})
    with BinanceExchange(transport=transport) as plugin:
        list(plugin.candles("BTCUSDT", "1m", datetime(2024, 4, 10, 8, 41, tzinfo=UTC)))
    (request,) = transport.requests
    assert request.url.host == "fapi.binance.com" and "liqsite" in request.headers["User-Agent"]
    assert query(request) == {
        "symbol": "BTCUSDT",
        "interval": "1m",
        "startTime": "1712738460000",
        "endTime": str(1712738460000 + 1500 * 60_000 - 1),
        "limit": "1500",
    }


# CONSTRUCTED, not recorded: the HTTP-200 error envelope exactly as issue 13 quotes it. Its shape is the one
# several public Binance clients guard against (e.g. for /fapi/v1/fundingRate?limit=1001); no file recording it
# with a stated origin was found, so it is written here rather than added to fixtures/.
ILLEGAL_PARAMS = {"status": "ERROR", "type": "GENERAL", "code": "99099990", "errorData": "illegal params.", "data": None}


def test_an_http_200_error_envelope_is_a_permanent_error_carrying_binances_message(monkeypatch):
    from liqsite.exchanges.testing import ReplayTransport, fake_clock

    fake_clock(monkeypatch, lambda: datetime(2024, 4, 10, 8, 44, tzinfo=UTC))
    sleeps = []
    monkeypatch.setattr(binance_plugin.http, "sleep", sleeps.append)
    transport = ReplayTransport({"/fapi/v1/fundingRate": json_response(ILLEGAL_PARAMS)})
    with BinanceExchange(transport=transport) as plugin, pytest.raises(ExchangeError) as caught:
        list(plugin.funding_rates("BTCUSDT", datetime(2024, 4, 1, tzinfo=UTC)))
    assert caught.value.permanent
    assert "illegal params." in str(caught.value) and "99099990" in str(caught.value)
    assert "expected a list" not in str(caught.value)
    # Permanent: asked once, not retried.
    assert len(transport.to("/fapi/v1/fundingRate")) == 1 and sleeps == []


def test_statistics_never_ask_for_more_than_the_last_30_days(monkeypatch):
    from liqsite.exchanges.testing import ReplayTransport, fake_clock

    now = datetime(2020, 3, 2, 6, 0, tzinfo=UTC)
    fake_clock(monkeypatch, lambda: now)
    transport = ReplayTransport({"/futures/data/openInterestHist": body("open-interest-hist.docs.json")})
    with BinanceExchange(transport=transport) as plugin:
        list(plugin.open_interest("BTCUSDT", "5m", datetime(2019, 1, 1, tzinfo=UTC)))
    first = int(query(transport.requests[0])["startTime"])
    assert (now - utc(first)).days == 29 and query(transport.requests[0])["period"] == "5m"
    assert len(transport.requests) == 30 * 288 // 500 + 1


def test_an_8h_interval_keeps_the_4h_readings_on_8h_boundaries():
    assert binance_plugin.STATS_PERIOD["8h"] == "4h"
    assert binance_plugin.STATS_PERIOD["1m"] == "5m"


def test_bundled_tiers_feed_a_tier_lookup():
    tiers = BinanceExchange().margin_tiers("BTCUSDT")
    assert len(tiers) == 12
    assert (tiers[0].notional_floor, tiers[0].notional_cap, tiers[0].maintenance_margin_rate, tiers[0].max_leverage) == (
        0,
        50_000,
        0.004,
        125,
    )
    assert tiers[1].maintenance_amount == 50 and tiers[2].maintenance_amount == 950
    # Continuous maintenance margin across each boundary: the meaning of cum.
    for lower, upper in zip(tiers, tiers[1:]):
        at_cap = lower.notional_cap * lower.maintenance_margin_rate - lower.maintenance_amount
        assert at_cap == pytest.approx(upper.notional_floor * upper.maintenance_margin_rate - upper.maintenance_amount)
    assert BinanceExchange().margin_tiers("NOPEUSDT") == ()


def test_docs_klines_example_parses_too():
    from liqsite.exchanges.http import ResponseReader

    (candle,) = parse.klines(fixture_json("binance", "klines.docs.json"), ResponseReader("Binance", "/fapi/v1/klines"))
    assert candle.time == utc(1499040000000) and candle.taker_buy_volume == 1756.87402397 and candle.volume == 148976.11427815


# --- the force-order stream ------------------------------------------------------------------


def test_force_order_messages_from_the_combined_stream():
    (event,) = parse.force_order(fixture_path("binance", "ws-force-order.real-tiagosiebler.json").read_text())
    assert (event.symbol, event.side, event.time) == ("IOTXUSDT", "long", utc(1634653599180))
    # Average fill price, total filled quantity (not the last fill ``l``).
    assert (event.price, event.quantity) == (0.06669, 3661.0)
    assert event.usd == pytest.approx(0.06669 * 3661)


def test_force_order_raw_messages_and_symbol_filter():
    import json

    messages = fixture_json("binance", "ws-force-order.real-binance-forum.json")
    events = [event for message in messages for event in parse.force_order(json.dumps(message))]
    assert [(e.side, e.price, e.quantity) for e in events] == [("long", 39021.0, 0.288), ("long", 38986.5, 0.004)]
    buy = fixture_path("binance", "ws-force-order.ccxt-comment.json").read_text()
    (short,) = parse.force_order(buy)
    assert short.side == "short" and short.price == 34959.70
    assert parse.force_order(buy, frozenset({"ETHUSDT"})) == []
    assert parse.force_order('{"result":null,"id":1}') == []


def test_a_broken_force_order_message_names_the_field():
    with pytest.raises(ExchangeError, match=r"field o\.S"):
        parse.force_order(
            '{"e":"forceOrder","E":1,"o":{"s":"BTCUSDT","S":"HOLD","q":"1","p":"1","ap":"1","z":"1","T":1650898329196}}'
        )
    with pytest.raises(ExchangeError, match="not JSON"):
        parse.force_order("<html>")


def test_the_stream_covers_the_asked_symbols_with_the_one_per_second_notice():
    (stream,) = BinanceExchange().liquidation_streams(["BTCUSDT", "ETHUSDT"])
    assert stream.url == "wss://fstream.binance.com/stream?streams=btcusdt@forceOrder/ethusdt@forceOrder"
    assert "one liquidation per symbol per second" in BinanceExchange.liquidation_notice
