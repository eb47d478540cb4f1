"""The heatmap page's chart payload and page furniture (issue 14): packed cells, price axis and
line, ranges, the leverage buttons, the live check's 304, and the smaller items."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from django.urls import reverse
from django.utils import timezone

from grids.models import GridSnapshot
from heatmaps.charts import chart_payload, decode_cells, heatmap_cells
from heatmaps.viewing.grid_source import GridSource
from heatmaps.viewing.window import reduce_window
from markets.models import Exchange, Market
from tests.pages.factories import synthetic_arrays

pytestmark = pytest.mark.django_db


def page_url(market, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return reverse("heatmaps:market_heatmap", args=[market.pk]) + (f"?{query}" if query else "")


def payload_of(response) -> dict:
    match = re.search(rb'<script type="application/json" class="hm-data">(.*?)</script>', response.content, re.S)
    assert match, "no chart data in the page"
    return json.loads(match.group(1))


def sample_window(steps=900, **kwargs):
    source = GridSource.from_arrays(synthetic_arrays(steps=steps, **kwargs))
    return reduce_window(source, interval="15m", step_ms=900_000, span_ms=7 * 86_400_000)


def test_packed_cells_decode_to_the_three_significant_figures_the_tooltip_shows():
    window = sample_window()
    pending = window.pending.astype(np.float64)
    decoded = decode_cells(heatmap_cells(window))
    assert decoded.shape == pending.shape
    shown = pending >= 0.5
    assert np.array_equal(decoded > 0, shown)
    # Within half a unit of the third significant figure of every value, and zero where empty.
    relative = np.abs(decoded[shown] - pending[shown]) / pending[shown]
    assert relative.max() <= 0.005 + 1e-9
    assert decoded[~shown].max(initial=0) == 0


def test_packed_cells_carry_extreme_values_and_mantissa_carries():
    window = sample_window(steps=200)
    window.pending[:] = 0
    values = [0.49, 0.5, 1.0, 999.6, 999.4, 12_345_678.0, 3.2e15]
    window.pending[0, : len(values)] = values
    decoded = decode_cells(heatmap_cells(window))[0, : len(values)]
    assert decoded.tolist() == pytest.approx([0, 1.0, 1.0, 1000.0, 999.0, 12_300_000.0, 3.2e15])


def test_the_cells_are_a_small_fraction_of_the_json_numbers_they_replace():
    window = sample_window()
    as_json = json.dumps(np.rint(window.pending).astype(np.int64).ravel().tolist(), separators=(",", ":"))
    packed = json.dumps(heatmap_cells(window))
    assert len(packed) * 5 < len(as_json), (len(packed), len(as_json))


def test_price_axis_is_a_zoomable_value_axis_with_the_last_close_marked(client, grids):
    payload = payload_of(client.get(page_url(grids["15m"].market)))
    option, meta = payload["option"], payload["meta"]
    price_axis = option["yAxis"][0]
    assert price_axis["type"] == "value" and price_axis["axisLabel"]["formatter"] == "axisPrice"
    assert price_axis["axisPointer"]["show"] and price_axis["axisPointer"]["label"]["formatter"] == "pointerPrice"
    assert any(zoom.get("yAxisIndex") == [0, 1] and zoom["type"] == "slider" for zoom in option["dataZoom"])
    closes = [c for c in meta["prices"][3] if c != "-"]
    line = option["series"][1]["markLine"]
    assert line["data"][0]["yAxis"] == pytest.approx(closes[-1])
    assert line["label"]["position"] == "start"  # on the price axis, left of the map
    assert price_axis["min"] <= closes[-1] <= price_axis["max"]


def test_phone_layout_rule_keeps_the_legend_list_and_thins_the_time_labels(client, grids):
    option = payload_of(client.get(page_url(grids["15m"].market)))["option"]
    wide, narrow = option["media"]
    assert narrow["query"] == {"maxWidth": 640}
    assert narrow["option"]["legend"]["data"] == option["legend"]["data"]
    assert narrow["option"]["legend"]["type"] == "scroll"
    assert narrow["option"]["xAxis"][2]["axisLabel"]["interval"] >= len(option["xAxis"][2]["data"]) // 3
    # What a chart that was narrow returns to when it widens (ECharts applies the query-less item then):
    # every property the phone rule sets, with its wide value. Without it the phone layout stayed.
    assert "query" not in wide

    def leaves(node, path=()):
        if isinstance(node, dict):
            for key, value in node.items():
                yield from leaves(value, (*path, key))
        elif isinstance(node, list) and any(isinstance(item, dict) for item in node):
            for index, value in enumerate(node):
                yield from leaves(value, (*path, index))
        else:
            yield path

    def at(node, path):
        for key in path:
            node = node[key]
        return node

    for path in leaves(narrow["option"]):
        assert at(wide["option"], path) is not None, path
    assert at(wide["option"], ("yAxis", 0, "name")) == option["yAxis"][0]["name"] == "price"
    assert at(wide["option"], ("legend", "left")) == option["legend"]["left"]
    assert at(wide["option"], ("yAxis", 3, "show")) is True and at(wide["option"], ("legend", "type")) == "plain"


def test_the_coin_charts_legend_is_the_same_in_every_layout():
    from heatmaps.charts import add_exchange_split
    from heatmaps.viewing.by_exchange import ExchangeSplit

    window = sample_window(steps=100)
    rows, columns = len(window.edges) - 1, window.columns
    split = ExchangeSplit(
        keys=("okx", "bybit"),
        labels=("OKX", "Bybit"),
        profile_long=np.ones((2, rows)),
        profile_short=np.ones((2, rows)),
        open_interest=np.ones((2, columns)),
        bin_edges=np.asarray(window.edges),
        last_bins=np.ones((2, rows)),
    )
    option = add_exchange_split(chart_payload(window), split)["option"]
    assert "Open interest · OKX" in option["legend"]["data"]
    assert "Longs pending now" not in option["legend"]["data"]  # split by exchange
    assert [item["option"]["legend"]["data"] for item in option["media"]] == [option["legend"]["data"]] * 2


def test_leverage_buttons_pick_forwards_from_all_then_toggle(client, grids):
    market = grids["15m"].market

    def bucket_links(**params):
        html = client.get(page_url(market, interval="15m", method="fixed", **params)).content.decode()
        group = html.split('data-control="buckets"')[1].split("</div>")[0]
        links = {}
        for url, label in re.findall(r'<a href="([^"]*)"[^>]*>([^<]+)</a>', group):
            found = re.search(r"buckets=([0-9,]+)", url)
            links[label] = found.group(1) if found else ""
        return links

    links = bucket_links()
    assert links["5×"] == "5" and links["100×"] == "100"  # from "all", a bucket shows only itself
    links = bucket_links(buckets="5,10")
    assert links["5×"] == "10" and links["25×"] == "5,10,25" and links["all"] == ""
    html = client.get(page_url(market, interval="15m", buckets="5")).content.decode()
    group = html.split('data-control="buckets"')[1].split("</div>")[0]
    assert re.search(r'<span class="off active" tabindex="-1" title="at least one bucket is shown">5×</span>', group)
    assert re.search(r'buckets=5"[^>]*class="active"', group) is None  # "5×" is no link while it is the only one


def test_range_notice_when_the_data_is_shorter_than_the_range(client, grids):
    market = grids["15m"].market  # 900 steps of 15m: a little over 9 days
    html = client.get(page_url(market, range="1y", interval="15m")).content.decode()
    assert "Only 9 days of 15m data are stored, less than the 1y asked for" in html
    for range_ in ("7d", "1d", "12h"):
        assert "are stored, less than" not in client.get(page_url(market, range=range_, interval="15m")).content.decode()
    html = client.get(page_url(market, range="2w", interval="15m")).content.decode()
    assert "less than the 2w asked for" in html
    assert 'a href="/markets/%d/heatmap/?range=6m&amp;interval=15m&amp;method=fixed"' % market.pk in html


def test_model_parameters_read_as_words_not_python(client, grids):
    GridSnapshot.objects.filter(pk=grids["15m"].pk).update(
        params={
            "formula": {"contract": "linear", "maintenance_basis": "liquidation"},
            "mmr": None,
            "leverage": [5.0, 10.0],
            "half_life_steps": None,
            "default_long_share": 0.5,
        }
    )
    html = client.get(page_url(grids["15m"].market, interval="15m", method="fixed")).content.decode()
    params = html.split("Model parameters of this grid")[1].split("</details>")[0]
    assert "contract: linear, maintenance basis: liquidation" in params
    assert "from each market&#x27;s maintenance-margin tiers" in params
    assert "off (levels do not age)" in params
    for python in ("None", "{", "}", "'", "[", "]"):
        assert python not in params.replace("&#x27;", "’"), python


def test_squeeze_summary_names_its_step_like_the_header(client, grids):
    html = client.get(page_url(grids["15m"].market, interval="15m")).content.decode()
    header = re.search(r"data to (\d{4}-\d\d-\d\d \d\d:\d\d) UTC", html).group(1)
    squeeze = html.split("Squeeze summary")[1].split("</section>")[0]
    assert "+00:00" not in squeeze and "T" not in re.sub(r"<[^>]+>|[A-Za-z]{2,}", "", squeeze)
    step = re.search(r"\((\d{4}-\d\d-\d\d) (\d\d:\d\d)–(\d\d:\d\d) UTC\)", squeeze)
    assert step, squeeze
    assert f"{step.group(1)} {step.group(3)}" == header  # the step ends where the header's data end


def test_open_page_check_is_a_304_until_a_new_grid_is_stored(client, grids):
    url = page_url(grids["15m"].market)
    first = client.get(url, HTTP_HX_REQUEST="true")
    etag = first["ETag"]
    assert first.status_code == 200 and etag
    assert "no-cache" in first["Cache-Control"] and "HX-Request" in first["Vary"]
    again = client.get(url, HTTP_HX_REQUEST="true", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again["ETag"] == etag and again.content == b""
    GridSnapshot.objects.filter(pk=grids["15m"].pk).update(computed_at=timezone.now() + timezone.timedelta(minutes=5))
    newer = client.get(url, HTTP_HX_REQUEST="true", HTTP_IF_NONE_MATCH=etag)
    assert newer.status_code == 200 and newer["ETag"] != etag
    # Another view of the same grid is another fragment.
    other = client.get(page_url(grids["15m"].market, range="1d"), HTTP_HX_REQUEST="true", HTTP_IF_NONE_MATCH=newer["ETag"])
    assert other.status_code == 200
    # Whole pages are not conditional: they carry messages and a fresh CSRF token.
    assert client.get(url, HTTP_IF_NONE_MATCH=newer["ETag"]).status_code == 200


def test_open_page_check_differs_per_user(client, grids, trader):
    url = page_url(grids["15m"].market)
    anonymous = client.get(url, HTTP_HX_REQUEST="true")["ETag"]
    client.force_login(trader)
    assert client.get(url, HTTP_HX_REQUEST="true", HTTP_IF_NONE_MATCH=anonymous).status_code == 200


def test_page_offers_live_updates_zoom_reset_and_png(client, grids):
    html = client.get(page_url(grids["15m"].market)).content.decode()
    assert 'data-live="30"' in html and "data-live-status" in html
    assert 'data-chart-action="reset"' in html and 'data-chart-action="png"' in html


def test_binance_label_draws_in_debians_fonts(client, db):
    exchange = Exchange.objects.create(plugin="binance")
    Market.objects.create(exchange=exchange, symbol="BTCUSDT", base="BTC", quote="USDT", intervals=["15m"])
    assert exchange.label == "Binance USDS-M"
    html = client.get(reverse("heatmaps:market_list")).content.decode()
    assert "Binance USDS-M" in html and "Ⓢ" not in html


def test_payload_marks_the_cells_encoding():
    payload = chart_payload(sample_window(steps=100))
    assert payload["meta"]["cells"]["encoding"] == "sig3-u16-delta-deflate"
    assert payload["meta"]["scaleTop"] >= 0 and payload["meta"]["colours"][0] == "#440154"


def test_the_tooltip_is_readable_on_the_dark_page():
    # ECharts' default white tooltip box held the chart's grey text (#9aa3b5): a contrast of 2.5 : 1.
    def luminance(colour: str) -> float:
        channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    tooltip = chart_payload(sample_window(steps=100))["option"]["tooltip"]
    lighter, darker = sorted((luminance(tooltip["textStyle"]["color"]), luminance(tooltip["backgroundColor"])), reverse=True)
    assert (lighter + 0.05) / (darker + 0.05) >= 4.5  # WCAG AA for body text
