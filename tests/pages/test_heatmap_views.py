"""The market and coin heatmap pages: every control combination, bad values, empty states."""

from __future__ import annotations

import json
import re

import pytest
from django.urls import reverse

from heatmaps.charts import decode_cells
from markets.models import Exchange, Liquidation, LiquidationCoverage, Market
from tests.pages.factories import make_snapshot, synthetic_arrays

pytestmark = pytest.mark.django_db


def page_url(market, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return reverse("heatmaps:market_heatmap", args=[market.pk]) + (f"?{query}" if query else "")


def chart_payload(response) -> dict:
    match = re.search(rb'<script type="application/json" class="hm-data">(.*?)</script>', response.content, re.S)
    assert match, "no chart data in the page"
    return json.loads(match.group(1))


def cell_total(payload: dict) -> float:
    return float(decode_cells(payload["meta"]["cells"]).sum())


def test_default_view_is_seven_days_of_fifteen_minutes(client, grids):
    response = client.get(page_url(grids["15m"].market))
    assert response.status_code == 200
    assert response["Vary"] and "HX-Request" in response["Vary"]
    payload = chart_payload(response)
    option = payload["option"]
    assert len(option["xAxis"][0]["data"]) == 672  # 7 days of 15m, unmerged
    assert option["series"][0]["type"] == "custom" and option["series"][0]["renderItem"] == "heatmapColumn"
    assert option["series"][1]["type"] == "candlestick"
    assert decode_cells(payload["meta"]["cells"]).shape == (672, len(payload["meta"]["edges"]) - 1)
    assert option["visualMap"][0]["inRange"]["color"][0] == "#440154"  # purple → … → yellow
    assert "99th percentile" in option["visualMap"][0]["text"][0]
    html = response.content.decode()
    assert 'href="/markets/%d/heatmap/?range=1d&amp;interval=15m&amp;method=fixed"' % grids["15m"].market_id in html
    assert "hx-get=" in html and 'hx-push-url="true"' in html
    assert "strong build-up" in html and "Squeeze summary" in html and "Thresholds used" in html
    assert reverse("heatmaps:model_explained") in html


@pytest.mark.parametrize("range_", ["12h", "1d", "3d", "7d", "2w", "30d", "90d", "6m", "1y"])
@pytest.mark.parametrize(("interval", "method"), [("15m", "fixed"), ("15m", "taker"), ("1h", "fixed")])
def test_every_range_interval_and_method(client, grids, range_, interval, method):
    response = client.get(page_url(grids["15m"].market, range=range_, interval=interval, method=method))
    assert response.status_code == 200
    option = chart_payload(response)["option"]
    columns = len(option["xAxis"][0]["data"])
    assert 1 <= columns <= 1000
    edges = chart_payload(response)["meta"]["edges"]
    assert len(edges) - 1 <= 400
    assert option["yAxis"][0]["min"] == edges[0] and option["yAxis"][0]["max"] == edges[-1]
    assert f"range={range_}&amp;interval={interval}&amp;method={method}" in response.content.decode()


@pytest.mark.parametrize("buckets", ["5", "5,10", "25,50,100", "100"])
def test_leverage_buckets_show_only_their_layers(client, grids, buckets):
    market = grids["15m"].market
    everything = chart_payload(client.get(page_url(market, interval="15m")))
    some = chart_payload(client.get(page_url(market, interval="15m", buckets=buckets)))
    total = cell_total(everything)
    part = cell_total(some)
    assert 0 < part < total


def test_all_buckets_selected_is_the_unfiltered_view(client, grids):
    response = client.get(page_url(grids["15m"].market, buckets="5,10,25,50,100"))
    assert response.status_code == 200
    assert "buckets=" not in response.content.decode().split('data-control="buckets"')[1].split("</div>")[0].split("all")[0]


def test_htmx_request_gets_the_partial_only(client, grids):
    response = client.get(page_url(grids["15m"].market, range="1d"), headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html and 'class="hm-data"' in html
    assert "HX-Request" in response["Vary"]


def test_coin_page_sums_exchanges_and_filters_them(client, coin_markets):
    url = reverse("heatmaps:coin_heatmap", args=["sol"])
    everything = client.get(url)
    assert everything.status_code == 200
    assert "SOL · all exchanges" in everything.content.decode()
    one = client.get(url + "?exchanges=okx")
    assert one.status_code == 200
    total = cell_total(chart_payload(everything))
    part = cell_total(chart_payload(one))
    assert 0 < part < total


def test_coin_page_survives_an_exchange_whose_plugin_is_gone(client, coin_markets):
    Exchange.objects.filter(plugin="bybit").update(plugin="uninstalled_thing", last_error="boom")
    Market.objects.filter(symbol="SOLUSDT").update(last_error="ExchangeError: 502 from upstream")
    response = client.get(reverse("heatmaps:coin_heatmap", args=["SOL"]))
    assert response.status_code == 200
    assert "last refresh failed" in response.content.decode()


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"range": "5w"}, "Unknown range"),
        ({"interval": "7x"}, "Unknown interval"),
        ({"interval": "5m"}, "No grid is stored at the 5m interval"),
        ({"method": "vibes"}, "Unknown long-share method"),
        ({"method": "long_short"}, "No grid is stored for the long-share method"),
        ({"bins": "abc"}, "bins must be a whole number"),
        ({"bins": "5000"}, "bins must be a whole number"),
        ({"bins": "10"}, "bins must be a whole number"),
        ({"buckets": "lots"}, "buckets must be leverages"),
        ({"buckets": "7"}, "No 7× leverage bucket is stored"),
        ({"buckets": "0"}, "outside 1–1000"),
        ({"exchanges": "okx"}, "exchanges applies to coin pages only"),
        ({"range": "1d&range=3d"}, "range was given 2 times"),
    ],
)
def test_bad_query_values_are_a_400_that_says_why(client, grids, params, message):
    response = client.get(page_url(grids["15m"].market, **params))
    assert response.status_code == 400
    assert message in response.content.decode()


def test_unknown_market_and_coin_are_a_404_that_says_why(client, db):
    response = client.get(reverse("heatmaps:market_heatmap", args=[999999]))
    assert response.status_code == 404
    assert "There is no market with id 999999" in response.content.decode()
    assert "<title>Not found" in response.content.decode()
    response = client.get(reverse("heatmaps:coin_heatmap", args=["DOGE"]))
    assert response.status_code == 404
    assert "There is no coin" in response.content.decode()


def test_filters_without_stored_layers_are_a_400(client, grids):
    market = grids["15m"].market
    response = client.get(page_url(market, interval="1h", buckets="5"))
    assert response.status_code == 400
    assert "without per-bucket layers" in response.content.decode()


def test_coin_exchange_filter_rejects_unknown_exchange(client, coin_markets):
    response = client.get(reverse("heatmaps:coin_heatmap", args=["SOL"]) + "?exchanges=kraken")
    assert response.status_code == 400
    assert "Exchange kraken is not part of this grid" in response.content.decode()


def test_market_without_snapshot_says_not_computed_yet(client, market):
    response = client.get(page_url(market))
    assert response.status_code == 200
    assert "Not computed yet" in response.content.decode()
    response = client.get(page_url(market, interval="1m", range="1d"))
    assert response.status_code == 200


def test_coin_without_aggregate_says_not_computed_yet(client, market):
    response = client.get(reverse("heatmaps:coin_heatmap", args=["BTC"]))
    assert response.status_code == 200
    assert "Not computed yet" in response.content.decode()


def test_snapshot_with_garbled_analysis_still_renders(client, grids):
    grids["15m"].__class__.objects.filter(pk=grids["15m"].pk).update(analysis={"bands": [{"side": 3}, "x"], "squeeze": []})
    response = client.get(page_url(grids["15m"].market))
    assert response.status_code == 200
    assert "No squeeze summary" in response.content.decode()


def test_closes_only_snapshot_reads_candles_from_the_table(client, market):
    from markets.models import Candle

    arrays = synthetic_arrays(steps=200, ohlc=False)
    make_snapshot(market=market, arrays=arrays)
    # No candle rows: the page draws the close as a line.
    option = chart_payload(client.get(page_url(market, range="1d")))["option"]
    assert option["series"][1]["type"] == "line"
    from datetime import UTC, datetime

    Candle.objects.bulk_create(
        Candle(
            market=market,
            interval="15m",
            time=datetime.fromtimestamp(int(t) / 1000, tz=UTC),
            open=c,
            high=c * 1.001,
            low=c * 0.999,
            close=c,
            volume=1.0,
        )
        for t, c in zip(arrays["times"], arrays["close"])
    )
    from django.core.cache import cache

    cache.clear()
    option = chart_payload(client.get(page_url(market, range="1d")))["option"]
    assert option["series"][1]["type"] == "candlestick"


def test_measured_liquidations_replace_the_estimate_where_covered(client, grids):
    from datetime import UTC, datetime, timedelta

    snapshot = grids["15m"]
    market = snapshot.market
    end = snapshot.end + timedelta(minutes=15)
    LiquidationCoverage.objects.create(
        exchange=market.exchange,
        stream="!forceOrder@arr",
        connected_at=end - timedelta(hours=6),
        last_message_at=end,
        disconnected_at=None,
    )
    Liquidation.objects.create(market=market, time=end - timedelta(hours=1), side="long", price=1, quantity=1, usd=123456)
    Liquidation.objects.create(market=market, time=end - timedelta(hours=2), side="short", price=1, quantity=2, usd=65432)
    Liquidation.objects.create(
        market=market, time=end - timedelta(days=3), side="short", price=1, quantity=3, usd=99999
    )  # not covered
    response = client.get(page_url(market, range="1d"))
    series = {s["name"]: s for s in chart_payload(response)["option"]["series"]}
    measured_long = [v for v in series["Longs liquidated (measured)"]["data"] if v != "-"]
    measured_short = [v for v in series["Shorts liquidated (measured)"]["data"] if v != "-"]
    assert len(measured_long) == 24  # six hours of 15m columns
    assert -123000 in measured_long and 65400 in measured_short
    estimate = series["Longs liquidated (model estimate)"]["data"]
    assert estimate[-1] == "-" and estimate[0] != "-"
    assert "solid bars are measured" in response.content.decode()
    assert datetime.now(tz=UTC)  # keeps the import honest


def test_market_list_links_each_market_to_its_heatmap(client, grids):
    response = client.get(reverse("heatmaps:market_list"))
    market = grids["15m"].market
    assert reverse("heatmaps:market_heatmap", args=[market.pk]) in response.content.decode()
    assert reverse("heatmaps:coin_heatmap", args=["BTC"]) in response.content.decode()


def test_model_page_explains_parameters(client, db):
    response = client.get(reverse("heatmaps:model_explained"))
    assert response.status_code == 200
    html = response.content.decode()
    for words in ("Leverage buckets", "Maintenance margin", "Long share", "99th percentile", "spike"):
        assert words in html


def test_model_page_explains_the_measured_options_in_plain_words(client, db):
    html = client.get(reverse("heatmaps:model_explained")).content.decode()
    for anchor in ("option-turnover", "option-entries", "option-max-leverage"):
        assert f'id="{anchor}"' in html
    assert "open interest is a net number" in html.lower() and "still uses the reference rules" in html


def test_binance_pages_say_its_liquidation_feed_is_a_lower_bound(client, grids):
    from plugins.binance.parse import FORCE_ORDER_NOTICE

    market = grids["15m"].market
    assert (
        FORCE_ORDER_NOTICE not in client.get(f"/markets/{market.pk}/heatmap/").content.decode()
    )  # the sample feed has no caveat
    Exchange.objects.filter(pk=market.exchange_id).update(plugin="binance")
    page = client.get(f"/markets/{market.pk}/heatmap/").content.decode()
    assert "at most one liquidation per symbol per second" in page


def test_the_back_button_gets_the_whole_page_when_htmx_restores_history(client, grids):
    url = f"/markets/{grids['15m'].market_id}/heatmap/"
    swap = client.get(url, HTTP_HX_REQUEST="true")
    restore = client.get(url, HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true")
    assert "<html" not in swap.content.decode()  # a control swap: the fragment
    assert "<html" in restore.content.decode() and 'class="topbar"' in restore.content.decode()
    for response in (swap, restore):
        assert {"HX-Request", "HX-Boosted", "HX-History-Restore-Request"} <= {h.strip() for h in response["Vary"].split(",")}


def test_imported_liquidation_totals_are_measured_bars(client, grids):
    import io
    from datetime import timedelta

    from markets.csv_import import import_series_csv

    snapshot = grids["15m"]
    market = snapshot.market
    end = snapshot.end + timedelta(minutes=15)
    first = end - timedelta(hours=3)
    lines = "".join(f"{(first + timedelta(minutes=15 * i)).isoformat()},{1000 * (i + 1)},{10 * i}\n" for i in range(12))
    import_series_csv(market, "liquidations", "15m", io.BytesIO(("time,long_usd,short_usd\n" + lines).encode()))
    response = client.get(page_url(market, range="1d"))
    series = {s["name"]: s for s in chart_payload(response)["option"]["series"]}
    measured_long = [v for v in series["Longs liquidated (measured)"]["data"] if v != "-"]
    assert len(measured_long) == 12  # the three hours of 15m columns the totals cover
    assert -12000 in measured_long and -1000 in measured_long
    assert series["Longs liquidated (model estimate)"]["data"][-1] == "-"
