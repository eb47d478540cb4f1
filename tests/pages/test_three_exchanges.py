"""The three-exchange sample on the coin pages: three markets summed, and where each band comes from.

Runs on the real sample (``setup_sample``): BTC and SOL on the Binance, Bybit and OKX stand-ins.
"""

from __future__ import annotations

import json
import re
from io import StringIO

import numpy as np
import pytest
from django.core.management import call_command

from heatmaps.viewing.by_exchange import exchange_split
from heatmaps.viewing.heatmap_view import heatmap_view
from heatmaps.viewing.query import ViewQuery
from heatmaps.viewing.snapshots import coin_target
from markets.models import Market
from tests.pages.test_browser import browser, open_page  # noqa: F401 - the browser fixture

LABELS = {"Binance (sample)", "Bybit (sample)", "OKX (sample)"}


def chart(html: str) -> dict:
    return json.loads(re.search(r'<script type="application/json" class="hm-data">(.*?)</script>', html, re.S).group(1))


@pytest.mark.django_db
def test_the_coin_page_splits_bands_profile_and_open_interest_by_exchange(client):
    call_command("setup_sample", stdout=StringIO())
    html = client.get("/coins/BTC/heatmap/?range=30d").content.decode()
    payload = chart(html)
    split = payload["meta"]["byExchange"]
    assert set(split["labels"]) == LABELS
    names = [s["name"] for s in payload["option"]["series"]]
    assert {f"Open interest · {label}" for label in LABELS} <= set(names)
    assert {f"Longs pending now · {label}" for label in LABELS} <= set(names)
    assert "Longs pending now" not in names  # replaced by its parts, which stack to the same bars
    # Each band's row in the table names the three exchanges.
    table = html.split("OI confirmation of the current bands")[1].split("</table>")[0]
    for label in LABELS:
        assert f"{label} ≈$" in table

    view = heatmap_view(coin_target("BTC"), ViewQuery(range="30d"))
    parts = exchange_split(view)
    # The parts add up to the total profile and to each band's USD.
    np.testing.assert_allclose(parts.profile_long.sum(axis=0), view.window.profile_long, rtol=1e-4, atol=1.0)
    np.testing.assert_allclose(parts.profile_short.sum(axis=0), view.window.profile_short, rtol=1e-4, atol=1.0)
    for band in view.analysis["bands"]:
        total = sum(usd for _, usd in parts.band_usd(band["low"], band["high"]))
        assert total == pytest.approx(band["usd"], rel=0.02)
    # Each exchange's own open interest sums to the coin's where all three have a step; Binance joins 2026-02-13.
    binance = parts.labels.index("Binance (sample)")
    assert np.isnan(parts.open_interest[binance, 0]) and np.isfinite(parts.open_interest[binance, -1])
    everywhere = np.isfinite(parts.open_interest).all(axis=0)
    np.testing.assert_allclose(parts.open_interest[:, everywhere].sum(axis=0), view.window.open_interest[everywhere], rtol=1e-9)

    # The exchange filter keeps only what it names, in the split too.
    filtered = chart(client.get("/coins/BTC/heatmap/?range=30d&exchanges=sample_bybit").content.decode())
    assert filtered["meta"]["byExchange"]["labels"] == ["Bybit (sample)"]
    assert filtered["meta"]["cells"] != payload["meta"]["cells"]
    # A market page has no split.
    market = Market.objects.get(exchange__plugin="sample_okx", symbol="BTC-USDT-SWAP")
    assert "byExchange" not in chart(client.get(f"/markets/{market.pk}/heatmap/").content.decode())["meta"]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_newcomer_sees_btc_on_three_exchanges_the_filter_changes_the_map_and_a_tooltip_lists_them(browser, live_server):  # noqa: F811
    call_command("setup_sample", stdout=StringIO())
    page, errors = open_page(browser, f"{live_server.url}/coins/BTC/heatmap/")
    cells = page.evaluate("() => document.querySelector('.hm-data').textContent")
    # The tooltip of the biggest long bar of the profile lists each exchange's share of that price row.
    tip = page.evaluate("""() => {
        const chart = echarts.getInstanceByDom(document.querySelector('[data-heatmap]'));
        const series = chart.getOption().series;
        const i = series.findIndex(s => s.name.startsWith('Longs pending now'));
        // Profile bars are [row, from USD, to USD, low price, high price]: the longest bar.
        let best = 0;
        const width = v => v[2] - v[1];
        series[i].data.forEach((v, k) => { if (width(v) > width(series[i].data[best])) best = k; });
        chart.dispatchAction({type: 'showTip', seriesIndex: i, dataIndex: best});
    }""")
    assert tip is None
    tooltip = page.locator("[data-heatmap] div", has_text="By exchange").last
    tooltip.wait_for()
    text = tooltip.inner_text()
    for label in LABELS:
        assert re.search(re.escape(label) + r": longs ≈\$[\d.]+[kMB]?, shorts ≈", text), text
    page.screenshot(path="/tmp/liqsite-three-exchanges-tooltip.png")

    # From "all", clicking Bybit shows Bybit alone; clicking Binance then adds it (an htmx swap each).
    page.click("[data-control=exchanges] a:has-text('Bybit (sample)')")
    page.wait_for_url(re.compile(r"exchanges=sample_bybit"))
    page.wait_for_selector("[data-heatmap][data-rendered]")
    assert json.loads(page.evaluate("() => document.querySelector('.hm-data').textContent"))["meta"]["byExchange"]["labels"] == [
        "Bybit (sample)"
    ]
    page.click("[data-control=exchanges] a:has-text('Binance (sample)')")
    page.wait_for_url(re.compile(r"exchanges=sample_binance%2Csample_bybit|exchanges=sample_binance,sample_bybit"))
    page.wait_for_selector("[data-heatmap][data-rendered]")
    after = page.evaluate("() => document.querySelector('.hm-data').textContent")
    assert json.loads(after)["meta"]["cells"] != json.loads(cells)["meta"]["cells"]
    assert json.loads(after)["meta"]["byExchange"]["labels"] == ["Binance (sample)", "Bybit (sample)"]
    assert page.locator("[data-control=exchanges] a.active").all_inner_texts() == ["Binance (sample)", "Bybit (sample)"]
    assert not errors, errors
