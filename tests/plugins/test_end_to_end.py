"""The Celery refresh of a market on each plugin, replayed at the HTTP seam, lands rows in the database.

Runs on whatever DATABASE_URL names; CI runs the suite on PostgreSQL (the
``services`` mark lets ``-m services`` select these too).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from liqsite.exchanges.testing import recorded
from markets.models import Candle, Exchange, FundingRate, LongShortRatio, Market, OpenInterest
from markets.tasks import refresh_market
from tests.plugins.conftest import fixture_path

pytestmark = [pytest.mark.django_db, pytest.mark.services]


def body(exchange, name):
    return recorded(fixture_path(exchange, name))


def refresh(plugin, symbol, interval, routes, now, replay):
    exchange = Exchange.objects.create(plugin=plugin, settings={"max_backfill_days": 1})
    market = Market.objects.create(exchange=exchange, symbol=symbol, intervals=[interval])
    transport = replay(routes, now=now)
    summary = refresh_market.delay(market.pk).get()
    market.refresh_from_db()
    return market, summary, transport


def counts(market):
    return {
        model.__name__: model.objects.filter(market=market).count()
        for model in (Candle, OpenInterest, LongShortRatio, FundingRate)
    }


def test_binance_refresh_lands_the_recorded_klines_and_tiers(replay):
    routes = {
        "/fapi/v1/exchangeInfo": body("binance", "exchange-info.real-cryptofeed.json"),
        "/fapi/v1/klines": body("binance", "klines.real-ccxt.json"),
        "/futures/data/openInterestHist": body("binance", "open-interest-hist.docs.json"),
        "/futures/data/globalLongShortAccountRatio": body("binance", "global-long-short-account-ratio.docs.json"),
        "/fapi/v1/fundingRate": body("binance", "funding-rate.docs.json"),
    }
    market, summary, transport = refresh("binance", "BTCUSDT", "1m", routes, datetime(2024, 4, 10, 8, 44, tzinfo=UTC), replay)
    assert market.last_error == "" and market.last_ingest_at is not None, market.last_error
    # The statistics and funding recordings are docs examples from 2019-2020, outside this day: nothing of theirs lands.
    assert counts(market) == {"Candle": 3, "OpenInterest": 0, "LongShortRatio": 0, "FundingRate": 0}
    candle = Candle.objects.filter(market=market).order_by("time").last()
    assert (candle.close, candle.volume, candle.taker_buy_volume) == (70459.4, 1.542, 0.013)
    assert len(market.margin_tiers) == 12 and market.margin_tiers[1]["maintenance_amount"] == 50
    assert "3 new" in summary

    # A second refresh resumes from the newest stored candle and changes nothing.
    before = len(transport.to("/fapi/v1/klines"))
    summary = refresh_market.delay(market.pk).get()
    assert "0 new" in summary and counts(market)["Candle"] == 3
    from liqsite.exchanges.testing import query

    assert query(transport.to("/fapi/v1/klines")[before])["startTime"] == "1712738580000"


def test_binance_funding_and_statistics_land_when_the_clock_is_at_their_recordings(replay):
    routes = {
        "/fapi/v1/exchangeInfo": body("binance", "exchange-info.real-cryptofeed.json"),
        "/fapi/v1/klines": body("binance", "klines.real-ccxt.json"),
        "/futures/data/openInterestHist": body("binance", "open-interest-hist.docs.json"),
        "/futures/data/globalLongShortAccountRatio": body("binance", "global-long-short-account-ratio.docs.json"),
        "/fapi/v1/fundingRate": body("binance", "funding-rate.docs.json"),
    }
    market, _, _ = refresh("binance", "BTCUSDT", "5m", routes, datetime(2020, 3, 2, 10, 0, tzinfo=UTC), replay)
    assert market.last_error == ""
    assert counts(market) == {"Candle": 0, "OpenInterest": 2, "LongShortRatio": 2, "FundingRate": 0}
    assert OpenInterest.objects.filter(market=market).order_by("time").first().open_interest == 20403.637


def test_bybit_refresh_lands_the_recorded_klines(replay):
    routes = {
        "/v5/market/instruments-info": body("bybit", "instruments-info-linear.docs.json"),
        "/v5/market/kline": body("bybit", "kline.real-ccxt.json"),
        "/v5/market/open-interest": body("bybit", "open-interest.real-ccxt-linear.json"),
        "/v5/market/account-ratio": body("bybit", "account-ratio.docs.json"),
        "/v5/market/funding/history": body("bybit", "funding-history.docs.json"),
        "/v5/market/risk-limit": body("bybit", "risk-limit.docs.json"),
    }
    market, _, _ = refresh("bybit", "BTCUSDT", "1h", routes, datetime(2024, 1, 30, 19, 0, tzinfo=UTC), replay)
    assert market.last_error == "", market.last_error
    assert counts(market) == {"Candle": 3, "OpenInterest": 0, "LongShortRatio": 0, "FundingRate": 0}
    assert Candle.objects.filter(market=market).order_by("time").first().open == 43350.7
    # The risk-limit recording is BTCUSD's (inverse): BTCUSDT gets no tiers from it.
    assert market.margin_tiers == []


def test_okx_refresh_lands_candles_and_position_tiers(replay):
    routes = {
        "/api/v5/public/instruments": body("okx", "instruments-swap.real-cryptofeed.json"),
        "/api/v5/market/history-candles": body("okx", "candles-swap-1m.nautilus.json"),
        "/api/v5/rubik/stat/contracts/open-interest-history": body(
            "okx", "open-interest-history.structural-docs-fields-real-values.json"
        ),
        "/api/v5/rubik/stat/contracts/long-short-account-ratio-contract": body(
            "okx", "long-short-account-ratio-contract.ccxt-comment.json"
        ),
        "/api/v5/public/funding-rate-history": body("okx", "funding-rate-history.structural-docs-fields-real-values.json"),
        "/api/v5/public/position-tiers": body("okx", "position-tiers.nautilus.json"),
    }
    market, _, _ = refresh("okx", "BTC-USDT-SWAP", "1m", routes, datetime(2025, 5, 12, 23, 54, 30, tzinfo=UTC), replay)
    assert market.last_error == "", market.last_error
    assert counts(market) == {"Candle": 2, "OpenInterest": 0, "LongShortRatio": 0, "FundingRate": 0}
    assert [c.volume for c in Candle.objects.filter(market=market).order_by("time")] == [71.6404, 10.4037]
    (tier,) = market.margin_tiers
    assert tier["notional_cap"] == pytest.approx(50 * 0.01 * 102820.4)


def test_an_unknown_symbol_stops_the_market_with_the_exchange_reason(replay):
    routes = {"/fapi/v1/klines": recorded(fixture_path("binance", "error-invalid-symbol.real-ccxt-issue.json"), status=400)}
    exchange = Exchange.objects.create(plugin="binance")
    market = Market.objects.create(exchange=exchange, symbol="BTCUSDT", intervals=["1h"])
    # Pretend one candle is stored so the refresh resumes without listing instruments.
    Candle.objects.create(
        market=market, interval="1h", time=datetime(2024, 4, 10, tzinfo=UTC), open=1, high=1, low=1, close=1, volume=0
    )
    replay(routes, now=datetime(2024, 4, 10, 8, 44, tzinfo=UTC))
    refresh_market.delay(market.pk).get()
    market.refresh_from_db()
    assert not market.active and market.last_error == "Binance USDS-M /fapi/v1/klines: error -1121: Invalid symbol."
