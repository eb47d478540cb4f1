"""`manage.py backtest` prints the four readings on every bundled market; the accuracy and heatmap pages show them."""

from __future__ import annotations

import re
from io import StringIO
from unittest import mock

import pytest
from django.core.management import call_command
from django.urls import reverse

from accuracy.models import ReadingsReport
from accuracy.readings_table import VERDICT_WORDS, short_record
from grids.analysis import current_snapshot
from grids.targets import Target
from markets.models import Market

pytestmark = pytest.mark.django_db


def test_backtest_prints_the_readings_of_every_bundled_market_and_the_pages_show_them(client):
    call_command("setup_sample", stdout=StringIO())
    out = StringIO()
    call_command("backtest", "--no-progress", stdout=out)
    out = out.getvalue()
    markets = list(Market.objects.select_related("exchange").order_by("pk"))
    assert len(markets) == 6  # the default sample: BTC and SOL on three exchanges
    assert out.count("Map readings at") == len(markets)
    for market in markets:
        block = out.split(f"{market.exchange.plugin}:{market.symbol} at 1h", 1)[1]
        for title in ("Fakeout risk", "Volatility ahead", "Squeeze lean", "Magnet"):
            assert re.search(rf"^{title}\s", block, re.MULTILINE), (market, title)
    reports = {(r.market.exchange.plugin, r.market.symbol): r for r in ReadingsReport.objects.select_related("market__exchange")}
    assert set(reports) == {(m.exchange.plugin, m.symbol) for m in markets}
    sol = Market.objects.get(exchange__plugin="sample_okx", symbol="SOL-USDT-SWAP")
    readings = reports[("sample_okx", "SOL-USDT-SWAP")].results["readings"]

    # Every grid was stored with its readings (computed with the grid, not on request).
    analysis = current_snapshot(Target(market_id=sol.pk)).analysis
    assert set(analysis["readings"]) >= {"fakeout", "volatility", "lean", "magnet"}

    page = client.get(reverse("heatmaps:market_accuracy", args=[sol.pk])).content.decode()
    for key in readings:
        assert f'id="reading-{key}"' in page
        # The verdict in plain words, whichever way it came out.
        assert VERDICT_WORDS[readings[key]["verdict"]] in page.replace("&#x27;", "'")
    summary = client.get(reverse("heatmaps:accuracy_summary")).content.decode()
    assert "The four map readings" in summary and "SOL-USDT-SWAP" in summary

    # A page request reads the stored readings: the engine's readers are not called on the way.
    with (
        mock.patch("grids.computation.read_map", side_effect=AssertionError("readings computed on a request")),
        mock.patch("grids.computation.analyse_map", side_effect=AssertionError("analysis computed on a request")),
    ):
        heatmap = client.get(reverse("heatmaps:market_heatmap", args=[sol.pk])).content.decode()
    for key, reading in readings.items():
        assert f'data-reading="{key}"' in heatmap
        assert short_record(reading) in heatmap.replace("&#x27;", "'")
        assert f"{reverse('heatmaps:market_accuracy', args=[sol.pk])}#reading-{key}" in heatmap
