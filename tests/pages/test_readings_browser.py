"""The heatmap page states each of the four readings with its measured hit rate, in headless Chromium."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from accuracy.models import ReadingsReport
from accuracy.readings_backtest import ReadingsInput, run_readings_backtest
from accuracy.readings_table import VERDICT_WORDS, short_record
from grids.models import GridSnapshot
from grids.readings import readings_to_json
from liqengine import read_map
from tests.accuracy.helpers import sol_hourly
from tests.pages.test_browser import browser, open_page  # noqa: F401 - the browser fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_heatmap_page_states_each_reading_with_its_hit_rate(live_server, grids, browser):  # noqa: F811
    snapshot = grids["15m"]
    market = snapshot.market
    # The stored grid's readings, computed by the engine from its own arrays (as the compute task does).
    a = snapshot.load_arrays()
    readings = read_map(a["long_grid"], a["short_grid"], a["bin_edges"], a["close"], a["times"])
    GridSnapshot.objects.filter(pk=snapshot.pk).update(
        analysis=snapshot.analysis | {"readings": readings_to_json(readings, a["times"])}
    )
    # Its record: a real readings backtest (the OKX SOL recording, 400 hours).
    inp = sol_hourly(400)
    results = run_readings_backtest(ReadingsInput(inp.steps, inp.step_ms, inp.split_time)) | {"interval": "1h"}
    stamp = datetime(2026, 6, 1, tzinfo=UTC)
    ReadingsReport.objects.create(
        market=market,
        interval="1h",
        computed_at=timezone.now(),
        period_start=stamp,
        period_end=stamp,
        split_at=stamp,
        results=results,
    )

    page, errors = open_page(browser, live_server.url + reverse("heatmaps:market_heatmap", args=[market.pk]))
    items = page.locator(".hm-readings li.reading")
    assert items.count() == 4
    for i, key in enumerate(("fakeout", "volatility", "lean", "magnet")):
        item = items.nth(i)
        assert item.get_attribute("data-reading") == key
        text = item.inner_text()
        assert "Measured on this market's history at 1h:" in text
        assert short_record(results["readings"][key]) in text
    assert "Pressure within ±2 %" in items.nth(1).inner_text()
    assert "Nearest big band" in items.nth(3).inner_text() or "No big band" in items.nth(3).inner_text()

    # The record links to the reading's section of the accuracy page, which says how it came out.
    page.locator('.hm-readings li[data-reading="lean"] a').click()
    page.wait_for_url(f"**/markets/{market.pk}/accuracy/#reading-lean")
    section = page.locator("#reading-lean")
    assert section.is_visible()
    assert VERDICT_WORDS[results["readings"]["lean"]["verdict"]] in section.inner_text()
    assert errors == []
