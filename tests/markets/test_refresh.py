"""Refreshing markets from the bundled sample exchange, and how failures are kept."""

from unittest import mock

import pytest
from celery.exceptions import Retry

from liqsite.exchanges import ExchangeError
from liqsite.tasks import backoff_seconds
from markets.models import Candle, Exchange, FundingRate, LongShortRatio, Market, OpenInterest
from markets.refresh import RefreshFailed, market_refresh
from markets.tasks import refresh_active_markets, refresh_market

pytestmark = pytest.mark.django_db


@pytest.fixture
def btc():
    exchange = Exchange.objects.create(plugin="sample")
    return Market.objects.create(exchange=exchange, symbol="BTCUSDT", intervals=["15m"])


def counts(market):
    return tuple(model.objects.filter(market=market).count() for model in (Candle, OpenInterest, LongShortRatio, FundingRate))


def test_sample_refresh_loads_the_recorded_rows_and_is_idempotent(btc):
    report = market_refresh(btc.pk)
    assert report.ok, report.error
    # 268 15m candles; the 527 5m OI / ratio readings of which 176 fall on 15m boundaries; 568 funding rows.
    assert counts(btc) == (268, 176, 176, 568)
    btc.refresh_from_db()
    assert btc.last_ingest_at is not None and btc.last_error == ""
    # Binance's 12 BTCUSDT brackets, the second with its maintenance amount (cum) of 50.
    assert len(btc.margin_tiers) == 12
    assert btc.margin_tiers[1] == {
        "notional_floor": 50000.0,
        "notional_cap": 600000.0,
        "maintenance_margin_rate": 0.005,
        "max_leverage": 100.0,
        "maintenance_amount": 50.0,
    }
    again = market_refresh(btc.pk)
    assert again.totals.created == 0 and again.totals.updated == 0
    assert counts(btc) == (268, 176, 176, 568)


def test_refresh_resumes_from_the_newest_stored_row(btc):
    market_refresh(btc.pk)
    newest = Candle.objects.filter(market=btc).latest("time").time
    with mock.patch("plugins.sample.plugin.SampleExchange.candles", autospec=True, return_value=[]) as candles:
        market_refresh(btc.pk)
    assert candles.call_args.args[1:] == ("BTCUSDT", "15m", newest)


def test_a_permanent_error_stops_the_market_with_the_reason(btc):
    error = ExchangeError("unknown symbol 'BTCUSDT'", permanent=True, exchange="Sample", endpoint="/klines")
    with mock.patch("plugins.sample.plugin.SampleExchange.candles", side_effect=error):
        report = market_refresh(btc.pk)
    btc.refresh_from_db()
    assert report.deactivated and not btc.active
    assert btc.last_error == "Sample /klines: unknown symbol 'BTCUSDT'"


def test_a_transient_error_is_kept_and_raised_for_retry(btc):
    error = ExchangeError("HTTP 503", exchange="Sample", retry_after=42)
    with mock.patch("plugins.sample.plugin.SampleExchange.candles", side_effect=error):
        with pytest.raises(RefreshFailed) as caught:
            market_refresh(btc.pk)
    btc.refresh_from_db()
    assert btc.active and btc.last_error == "Sample: HTTP 503"
    assert caught.value.retry_after == 42


def test_the_task_retries_transient_errors_with_backoff(btc):
    error = ExchangeError("HTTP 503", exchange="Sample", retry_after=42)
    with (
        mock.patch("plugins.sample.plugin.SampleExchange.candles", side_effect=error),
        mock.patch.object(refresh_market, "retry", side_effect=Retry("retrying")) as retry,
    ):
        with pytest.raises(Retry):
            refresh_market.apply(args=(btc.pk,), throw=True)
    assert retry.call_args.kwargs["countdown"] >= 42
    # Its own expiry, after its countdown (not the first run's, which a long backoff would outlive).
    assert retry.call_args.kwargs["expires"] > retry.call_args.kwargs["countdown"]


def test_backoff_grows_and_is_capped():
    assert 15 <= backoff_seconds(0) <= 30
    assert 120 <= backoff_seconds(3) <= 240
    assert backoff_seconds(20) <= 900
    assert backoff_seconds(0, retry_after=300) == 300


def test_a_rejected_batch_keeps_earlier_batches_and_says_why(btc):
    market_refresh(btc.pk)
    before = counts(btc)
    from liqsite.exchanges.types import Candle as Row

    newest = Candle.objects.filter(market=btc).latest("time")
    bad = Row(newest.time, newest.open, newest.low - 10, newest.low, newest.close, newest.volume)
    with mock.patch("plugins.sample.plugin.SampleExchange.candles", return_value=[[bad]]):
        report = market_refresh(btc.pk)
    btc.refresh_from_db()
    assert "rejected" in report.error and "below low" in btc.last_error
    assert btc.active
    assert counts(btc) == before


def test_fan_out_queues_only_active_markets_on_enabled_exchanges(btc):
    other = Market.objects.create(exchange=btc.exchange, symbol="SOL-USDT-SWAP", intervals=["1h"], active=False)
    with mock.patch.object(refresh_market, "apply_async") as apply_async:
        assert refresh_active_markets() == 1
    (args,), kwargs = apply_async.call_args
    assert args == (btc.pk,) and 0 < kwargs["expires"] < 300
    assert other.pk not in [call.args[0][0] for call in apply_async.call_args_list]


def test_fan_out_queues_the_longest_unrefreshed_first_so_a_cycle_that_runs_out_of_time_rotates(btc):
    from datetime import UTC, datetime

    def market(symbol, last):
        return Market.objects.create(exchange=btc.exchange, symbol=symbol, intervals=["1h"], last_ingest_at=last)

    recent = market("RECENT", datetime(2026, 12, 6, 12, 5, tzinfo=UTC))
    older = market("OLDER", datetime(2026, 12, 6, 12, 0, tzinfo=UTC))
    never = market("NEVER", None)
    Market.objects.filter(pk=btc.pk).update(last_ingest_at=datetime(2026, 12, 6, 12, 3, tzinfo=UTC))
    with mock.patch.object(refresh_market, "apply_async") as apply_async:
        assert refresh_active_markets() == 4
    # Refreshes left in the queue past their expiry are dropped; whoever missed a cycle goes first in the next.
    assert [call.args[0][0] for call in apply_async.call_args_list] == [never.pk, older.pk, btc.pk, recent.pk]


def test_a_disabled_exchange_is_not_refreshed(btc):
    Exchange.objects.filter(pk=btc.exchange_id).update(enabled=False)
    report = market_refresh(btc.pk)
    assert "disabled" in report.error
    assert counts(btc) == (0, 0, 0, 0)


def test_a_418_ban_is_remembered_per_exchange_in_the_database_until_retry_after(btc, monkeypatch):
    """Binance's 418 (an IP ban for Retry-After seconds) stops every refresh of that exchange until it ends."""
    from datetime import timedelta

    import httpx
    from django.utils import timezone

    from liqsite.exchanges import http as exchange_http
    from liqsite.exchanges.testing import ReplayTransport

    # The 418 is built from the status and header alone (Binance's ban answer has no body worth recording).
    transport = ReplayTransport({"/fapi/v1/exchangeInfo": httpx.Response(418, headers={"Retry-After": "600"}, content=b"")})
    monkeypatch.setattr(exchange_http, "transport_factory", lambda: transport)
    monkeypatch.setattr(exchange_http, "sleep", lambda seconds: None)
    binance = Exchange.objects.create(plugin="binance")
    first = Market.objects.create(exchange=binance, symbol="BTCUSDT", intervals=["1h"])
    second = Market.objects.create(exchange=binance, symbol="ETHUSDT", intervals=["1h"])

    before = timezone.now()
    with pytest.raises(RefreshFailed) as caught:
        market_refresh(first.pk)
    assert caught.value.retry_after == 600 and len(transport.requests) == 1
    # Remembered in the database, where every worker process reads it.
    binance = Exchange.objects.get(pk=binance.pk)
    assert before + timedelta(seconds=599) <= binance.banned_until <= timezone.now() + timedelta(seconds=600)
    assert "HTTP 418" in binance.last_error

    # The periodic refreshes during the ban, of any market of that exchange, ask nothing and say why.
    for market in (first, second):
        report = market_refresh(market.pk)
        assert "banned this server's address until" in report.error and not report.deactivated
    assert len(transport.requests) == 1
    second.refresh_from_db()
    assert second.active
    # Other exchanges are not affected.
    assert market_refresh(btc.pk).ok

    # A second 418 racing with a shorter Retry-After does not shorten the ban.
    until = binance.banned_until
    binance.record_ban(10, "HTTP 418 again")
    assert Exchange.objects.get(pk=binance.pk).banned_until == until

    # Once the ban is over, the exchange is asked again.
    Exchange.objects.filter(pk=binance.pk).update(banned_until=timezone.now() - timedelta(seconds=1))
    with pytest.raises(RefreshFailed):
        market_refresh(second.pk)
    assert len(transport.requests) == 2
