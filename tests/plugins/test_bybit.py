"""Bybit v5: every endpoint, paging, faults, risk limits and the liquidation stream, from recordings."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import httpx
import pytest

from liqsite.exchanges import Candle, ExchangeError, FundingRatePoint, Instrument, LongShortPoint, OpenInterestPoint
from liqsite.exchanges.http import ResponseReader
from liqsite.exchanges.testing import Expected, PluginContractTests, ReplayTransport, fake_clock, json_response, query, recorded
from plugins.bybit import parse
from plugins.bybit import plugin as bybit_plugin
from plugins.bybit.plugin import BybitExchange
from tests.plugins.conftest import fixture_json, fixture_path


def utc(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def body(name: str) -> httpx.Response:
    return recorded(fixture_path("bybit", name))


KLINE = fixture_json("bybit", "kline.real-ccxt.json")


def kline_variant(change) -> httpx.Response:
    """The real kline body with one defect introduced (to test that it is refused)."""
    payload = copy.deepcopy(KLINE)
    change(payload)
    return json_response(payload)


class TestBybitContract(PluginContractTests):
    plugin_class = BybitExchange
    settings = {"max_backfill_days": 1}
    symbol = "BTCUSDT"
    interval = "1h"
    now = datetime(2024, 1, 30, 19, 0, tzinfo=UTC)  # just after the three recorded 1h klines
    candles_path = "/v5/market/kline"
    resume_since = datetime(2024, 1, 30, 17, 0, tzinfo=UTC)
    paging_since = datetime(2024, 1, 30, 16, 0, tzinfo=UTC)
    page_size = (bybit_plugin, "KLINE_LIMIT", 2)
    expected_instrument = Instrument("BTCUSDT", "BTC", "USDT", "linear", 1.0, 0.1)
    expected = {
        "candles": Expected(
            3,
            Candle(utc(1706630400000), 43350.7, 43492.5, 43204.5, 43488.0, 1341.261),
            Candle(utc(1706637600000), 43376.1, 43474.1, 43264.8, 43352.8, 1575.305),
        ),
        "open_interest": Expected(
            1,
            OpenInterestPoint(utc(1739725200000), 62129.455),
            OpenInterestPoint(utc(1739725200000), 62129.455),
            now=datetime(2025, 2, 16, 17, 30, tzinfo=UTC),
        ),
        "long_short_ratios": Expected(
            2,
            LongShortPoint(utc(1696258800000), 0.4927),
            LongShortPoint(utc(1696262400000), 0.49),
            now=datetime(2023, 10, 2, 17, 0, tzinfo=UTC),
        ),
        # The docs example is of ETHPERP (Bybit's USDC perpetual); the parser does not care which symbol.
        "funding_rates": Expected(
            1,
            FundingRatePoint(utc(1672041600000), 0.0001),
            FundingRatePoint(utc(1672041600000), 0.0001),
            now=datetime(2022, 12, 26, 9, 0, tzinfo=UTC),
        ),
    }
    # Bybit says errors with HTTP 200 and a retCode; this real body is retCode 10001 (params error).
    error_response = recorded(fixture_path("bybit", "error.real-ccxt-issue.json"))
    malformed_candles = {
        "missing field": (kline_variant(lambda p: p["result"]["list"][1].__delitem__(slice(4, None))), "(field list[1])"),
        "string for a number": (
            kline_variant(lambda p: p["result"]["list"][0].__setitem__(2, "high")),
            "expected a number, got 'high' (field list[0].high)",
        ),
        "NaN": (
            kline_variant(lambda p: p["result"]["list"][2].__setitem__(5, "NaN")),
            "expected a finite number, got 'NaN' (field list[2].volume)",
        ),
        "out of order": (kline_variant(lambda p: p["result"]["list"].reverse()), "times out of order"),
        "wrong envelope": (json_response(KLINE["result"]), "(field retCode)"),
        "missing list": (kline_variant(lambda p: p["result"].pop("list")), "(field result.list)"),
    }

    def routes(self):
        return {
            "/v5/market/instruments-info": body("instruments-info-linear.docs.json"),
            "/v5/market/kline": body("kline.real-ccxt.json"),
            "/v5/market/open-interest": body("open-interest.real-ccxt-linear.json"),
            "/v5/market/account-ratio": body("account-ratio.docs.json"),
            "/v5/market/funding/history": body("funding-history.docs.json"),
        }

    def paging_routes(self):
        return {
            "/v5/market/instruments-info": body("instruments-info-linear.docs.json"),
            "/v5/market/kline": [body("kline.real-ccxt.json"), body("kline.real-ccxt.json")],
        }

    def requested_start(self, request):
        return utc(int(query(request)["start"]))


def test_requests_name_the_category_and_both_ends(monkeypatch):
    fake_clock(monkeypatch, lambda: datetime(2024, 1, 30, 19, 0, tzinfo=UTC))
    transport = ReplayTransport(
        {
            "/v5/market/instruments-info": body("instruments-info-linear.docs.json"),
            "/v5/market/kline": body("kline.real-ccxt.json"),
        }
    )
    with BybitExchange(transport=transport) as plugin:
        list(plugin.candles("BTCUSDT", "1h", datetime(2024, 1, 30, 16, 0, tzinfo=UTC)))
    (listing,) = transport.to("/v5/market/instruments-info")
    assert query(listing) == {"category": "linear", "symbol": "BTCUSDT", "limit": "1000"}
    (kline,) = transport.to("/v5/market/kline")
    assert kline.url.host == "api.bybit.com"
    assert query(kline) == {
        "category": "linear",
        "symbol": "BTCUSDT",
        "interval": "60",
        "start": "1706630400000",
        "end": str(1706630400000 + 1000 * 3_600_000 - 1),
        "limit": "1000",
    }


def test_inverse_open_interest_is_converted_from_usd_contracts_to_coin():
    reader = ResponseReader("Bybit", "/v5/market/open-interest")
    raw = parse.open_interest(parse.unwrap(fixture_json("bybit", "open-interest.real-ccxt-inverse.json"), reader), reader)
    ((when, contracts),) = raw
    assert contracts == 1536179414.0  # USD: BTCUSD contracts are worth 1 USD each
    # The price comes from the candle starting at the reading (here a stand-in price, to show the arithmetic).
    (point,) = parse.open_interest_points(raw, inverse=True, contract_size=1.0, price_at={when: 97_000.0})
    assert point.open_interest == pytest.approx(1536179414 / 97_000) and point.open_interest_usd == 1536179414
    assert parse.open_interest_points(raw, inverse=True, contract_size=1.0, price_at={}) == []


def test_inverse_candles_take_base_volume_from_turnover():
    reader = ResponseReader("Bybit", "/v5/market/kline")
    candles = parse.klines(parse.unwrap(fixture_json("bybit", "kline.docs.json"), reader), reader, inverse=True)
    assert [c.time for c in candles] == [utc(1670601600000), utc(1670605200000), utc(1670608800000)]
    assert candles[-1].volume == 15.74462667  # BTC; the 268611 in "volume" is USD contracts


def test_docs_open_interest_example_with_newer_fields_parses():
    reader = ResponseReader("Bybit", "/v5/market/open-interest")
    raw = parse.open_interest(parse.unwrap(fixture_json("bybit", "open-interest.docs.json"), reader), reader)
    assert len(raw) == 5 and raw[0][0] < raw[-1][0]


def test_risk_limit_docs_example_becomes_a_tier_in_fractions():
    reader = ResponseReader("Bybit", "/v5/market/risk-limit")
    tiers, cursor = parse.risk_limits(parse.unwrap(fixture_json("bybit", "risk-limit.docs.json"), reader), reader, "BTCUSD")
    # Docs: maintenanceMargin "0.5" and initialMargin "1" with maxLeverage 100 → percent → 0.005.
    (tier,) = tiers
    assert (tier.notional_floor, tier.notional_cap, tier.maintenance_margin_rate, tier.max_leverage, tier.maintenance_amount) == (
        0,
        150,
        0.005,
        100,
        0,
    )
    assert cursor == ""


def test_margin_tiers_through_the_plugin(monkeypatch):
    transport = ReplayTransport(
        {
            "/v5/market/instruments-info": body("instruments-info-linear.docs.json"),
            "/v5/market/risk-limit": body("risk-limit.docs.json"),
        }
    )
    with BybitExchange(transport=transport) as plugin:
        # The docs example is BTCUSD's; asked for BTCUSDT the plugin keeps only the symbol's rows.
        assert plugin.margin_tiers("BTCUSDT") == ()
    assert query(transport.to("/v5/market/risk-limit")[0]) == {"category": "linear", "symbol": "BTCUSDT"}


def test_prelisting_and_unknown_symbols_are_not_served():
    transport = ReplayTransport({"/v5/market/instruments-info": body("instruments-info-linear-prelisting.docs.json")})
    with BybitExchange(transport=transport) as plugin, pytest.raises(ExchangeError) as caught:
        plugin.instrument("BIOUSDT")
    assert caught.value.permanent and "unknown symbol" in str(caught.value)


def test_a_busy_retcode_is_retried_then_transient(monkeypatch):
    fake_clock(monkeypatch, lambda: datetime(2024, 1, 30, 19, 0, tzinfo=UTC))
    sleeps = []
    monkeypatch.setattr("liqsite.exchanges.http.sleep", sleeps.append)
    busy = json_response({"retCode": 10006, "retMsg": "Too many visits!", "result": {}, "retExtInfo": {}, "time": 1})
    transport = ReplayTransport(
        {"/v5/market/instruments-info": body("instruments-info-linear.docs.json"), "/v5/market/kline": busy}
    )
    with BybitExchange(transport=transport) as plugin, pytest.raises(ExchangeError) as caught:
        list(plugin.candles("BTCUSDT", "1h", datetime(2024, 1, 30, 16, 0, tzinfo=UTC)))
    assert not caught.value.permanent and "10006" in str(caught.value) and len(transport.to("/v5/market/kline")) == 4


# --- the allLiquidation stream -----------------------------------------------------------------


def test_all_liquidation_docs_message():
    (event,) = parse.all_liquidation(fixture_path("bybit", "ws-all-liquidation.docs.json").read_text())
    # "S": "Sell" → a short position was liquidated (Bybit: "Buy" means a long was).
    assert (event.symbol, event.side, event.price, event.quantity, event.time) == (
        "ROSEUSDT",
        "short",
        0.04499,
        20000.0,
        utc(1739502302929),
    )
    assert event.usd == pytest.approx(0.04499 * 20000)


def test_housekeeping_messages_and_refusals():
    assert parse.all_liquidation('{"success":true,"ret_msg":"","conn_id":"x","op":"subscribe"}') == []
    assert parse.all_liquidation('{"success":true,"ret_msg":"pong","conn_id":"x","op":"ping"}') == []
    # The deprecated liquidation.<symbol> topic is not subscribed to and is ignored.
    assert parse.all_liquidation(fixture_path("bybit", "ws-liquidation.docs.json").read_text()) == []
    with pytest.raises(ExchangeError) as caught:
        parse.all_liquidation('{"success":false,"ret_msg":"error:handler not found","conn_id":"x","op":"subscribe"}')
    assert caught.value.permanent


def test_streams_split_by_category_with_ping():
    transport = ReplayTransport({"/v5/market/instruments-info": body("instruments-info-linear.docs.json")})
    with BybitExchange(transport=transport) as plugin:
        (stream,) = plugin.liquidation_streams(["BTCUSDT"])
    assert stream.url == "wss://stream.bybit.com/v5/public/linear"
    assert stream.subscribe == ['{"op":"subscribe","args":["allLiquidation.BTCUSDT"]}'] and stream.ping_message == '{"op":"ping"}'
