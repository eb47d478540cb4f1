"""The accuracy pages: stored scores only, a friendly state without, never a 500, never a computation."""

from __future__ import annotations

import numpy as np
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


def _page_numbers(report, key):
    sides = next(r for r in report.results["rows"] if r["key"] == key)["sides"]
    return [f"{sides[s]['spearman']:+.3f}" for s in ("long", "short")] + [
        f"{100 * sides[s]['top_decile']:.1f} %" for s in ("long", "short")
    ]


def test_imported_totals_are_scored_per_side_and_shown(client, no_computation_after_setup):
    market, report = no_computation_after_setup["totals"]
    assert report.results["info"]["held_out_sources"]["totals"] == report.held_out_steps
    page = client.get(f"/markets/{market.pk}/accuracy/").content.decode()
    assert "Against real liquidations, longs and shorts apart" in page
    for key in ("reference", "swing"):
        for number in _page_numbers(report, key):
            assert number in page, (key, number)
    summary = client.get("/accuracy/").content.decode()
    assert "Against real liquidations, longs and shorts apart" in summary
    for number in _page_numbers(report, "reference") + _page_numbers(report, "swing"):
        assert number in summary


def test_collected_records_are_scored_per_side_and_shown(client, no_computation_after_setup):
    market, report = no_computation_after_setup["records"]
    assert report.results["info"]["held_out_sided_steps"] > 10
    page = client.get(f"/markets/{market.pk}/accuracy/").content.decode()
    assert "Against real liquidations, longs and shorts apart" in page
    for number in _page_numbers(report, "reference"):
        assert number in page


def test_a_market_without_real_liquidations_shows_no_per_side_table(client, scored_market, no_computation):
    page = client.get(f"/markets/{scored_market.pk}/accuracy/").content.decode()
    assert "longs and shorts apart" not in page


@pytest.fixture
def no_computation_after_setup(monkeypatch):
    """Two markets with real liquidations (imported totals; collected records), backtested, then no computation allowed."""
    import io

    from markets.csv_import import import_series_csv
    from tests.accuracy.factories import liquidation, listen, utc
    from tests.accuracy.helpers import HOUR

    with_totals = stored_market(72, symbol="SOL-TOTALS")
    inp = bt_input(with_totals)
    fall = np.maximum(inp.close[:-1] - inp.low[1:], 0) * 1e4 + 50
    rise = np.maximum(inp.high[1:] - inp.close[:-1], 0) * 1e4 + 20
    lines = "".join(f"{int(t)},{f:.2f},{r:.2f}\n" for t, f, r in zip(inp.open_time[1:], fall, rise))
    import_series_csv(with_totals, "liquidations", "1h", io.BytesIO(("time,long_usd,short_usd\n" + lines).encode()))
    market_backtest(with_totals.pk)

    with_records = stored_market(72, symbol="SOL-RECORDS")
    inp = bt_input(with_records)
    t0 = int(inp.open_time[0])
    listen(with_records, utc(t0), utc(t0 + 72 * HOUR))
    for i in range(1, 72):
        liquidation(with_records, utc(t0 + i * HOUR + 60_000), float(inp.low[i]), 1e4 * (1 + i % 7), side="long")
        liquidation(with_records, utc(t0 + i * HOUR + 90_000), float(inp.high[i]), 3e3 * (1 + i % 5), side="short")
    market_backtest(with_records.pk)

    def refuse(*args, **kwargs):
        raise AssertionError("a page computed something")

    monkeypatch.setattr(bt, "run_backtest", refuse)
    monkeypatch.setattr(engine_model, "build_ledger", refuse)
    monkeypatch.setattr(bt, "build_ledger", refuse)
    return {
        "totals": (with_totals, AccuracyReport.objects.get(market=with_totals)),
        "records": (with_records, AccuracyReport.objects.get(market=with_records)),
    }


def bt_input(market):
    from accuracy.service import backtest_input

    return backtest_input(market, "1h")
