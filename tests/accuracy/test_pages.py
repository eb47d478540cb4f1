"""The accuracy pages: stored scores only, a friendly state without, never a 500, never a computation."""

from __future__ import annotations

import pytest

from accuracy import backtest as bt
from accuracy.models import AccuracyReport
from accuracy.service import market_backtest
from liqengine import model as engine_model
from markets.models import Exchange, Market
from tests.accuracy.factories import stored_market

pytestmark = pytest.mark.django_db


@pytest.fixture
def scored_market():
    market = stored_market(60)
    market_backtest(market.pk)
    return market


@pytest.fixture
def no_computation(monkeypatch):
    """Any engine or backtest call during a request fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError("a page computed something")

    monkeypatch.setattr(bt, "run_backtest", refuse)
    monkeypatch.setattr(engine_model, "build_ledger", refuse)
    monkeypatch.setattr(bt, "build_ledger", refuse)


def test_market_page_shows_the_stored_scores(client, scored_market, no_computation, django_assert_max_num_queries):
    report = AccuracyReport.objects.get(market=scored_market)
    with django_assert_max_num_queries(3):
        response = client.get(f"/markets/{scored_market.pk}/accuracy/")
    assert response.status_code == 200
    page = response.content.decode()
    rows = {r["key"]: r for r in report.results["rows"]}
    for key in ("reference", "volatility", "bands"):
        assert f"{rows[key]['spearman']:+.3f}" in page
    assert "used by the site" in page and "Reference rules" in page
    assert "In plain words" in page and "What these numbers do not mean" in page
    assert "Data used" in page and "5m candles" in page
    assert "not scored: no leverage mix written down" in page
    assert f'href="/markets/{scored_market.pk}/heatmap/"' in page


def test_summary_page_lists_scored_and_unscored_markets(client, scored_market, no_computation, django_assert_max_num_queries):
    Market.objects.create(exchange=scored_market.exchange, symbol="ETHUSDT", intervals=["1h"])
    with django_assert_max_num_queries(3):
        response = client.get("/accuracy/")
    assert response.status_code == 200
    page = response.content.decode()
    assert f"/markets/{scored_market.pk}/accuracy/" in page
    assert "Not scored yet: ETHUSDT" in page


def test_the_readings_table_names_each_rows_exchange(client, no_computation, django_assert_max_num_queries):
    # The default sample has BTCUSDT on Binance and on Bybit: a row named by its symbol alone is ambiguous.
    from datetime import UTC, datetime

    from accuracy.models import ReadingsReport

    when = datetime(2026, 3, 1, tzinfo=UTC)
    for plugin in ("sample_binance", "sample_bybit"):
        market = Market.objects.create(exchange=Exchange.objects.create(plugin=plugin), symbol="BTCUSDT", intervals=["1h"])
        ReadingsReport.objects.create(
            market=market, interval="1h", computed_at=when, period_start=when, period_end=when, split_at=when, results={}
        )
    with django_assert_max_num_queries(3):
        page = client.get("/accuracy/").content.decode()
    table = page[page.index("The four map readings") :]
    assert 'BTCUSDT</a><br><span class="hint">Binance (sample)</span>' in table
    assert 'BTCUSDT</a><br><span class="hint">Bybit (sample)</span>' in table


def test_without_scores_the_pages_say_so(client, no_computation):
    exchange = Exchange.objects.create(plugin="sample")
    market = Market.objects.create(exchange=exchange, symbol="BTCUSDT", intervals=["15m"])
    response = client.get(f"/markets/{market.pk}/accuracy/")
    assert response.status_code == 200 and "Not scored yet" in response.content.decode()
    response = client.get("/accuracy/")
    assert response.status_code == 200 and "Not scored yet" in response.content.decode()


def test_an_unknown_market_is_a_friendly_404(client, no_computation):
    response = client.get("/markets/424242/accuracy/")
    assert response.status_code == 404
    assert "No such market" in response.content.decode()


@pytest.mark.parametrize("results", [{}, {"rows": "garbage"}, {"rows": [{"key": "reference"}], "info": {}}, []])
def test_a_report_in_an_unknown_shape_is_never_a_500(client, scored_market, no_computation, results):
    AccuracyReport.objects.filter(market=scored_market).update(results=results)
    response = client.get(f"/markets/{scored_market.pk}/accuracy/")
    assert response.status_code == 200
    assert "cannot be shown" in response.content.decode()
    assert client.get("/accuracy/").status_code == 200


def test_the_heatmap_and_model_pages_link_to_accuracy(client, scored_market):
    page = client.get(f"/markets/{scored_market.pk}/heatmap/").content.decode()
    assert f"/markets/{scored_market.pk}/accuracy/" in page
    page = client.get("/coins/SOL/heatmap/").content.decode()
    assert "/accuracy/" in page
    assert 'href="/accuracy/"' in client.get("/model/").content.decode()


def test_pages_only_accept_get(client, scored_market):
    assert client.post("/accuracy/").status_code == 405
    assert client.post(f"/markets/{scored_market.pk}/accuracy/").status_code == 405
