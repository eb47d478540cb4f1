"""Every page of the default three-exchange sample on a 390 px phone in headless Chromium: nothing wider
than the screen, no table cut off by its panel, no glyph the browser's fonts lack, no page error (issue 14)."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from markets.models import Market
from tests.pages.test_browser import SCREENSHOT_DIR, browser  # noqa: F401 (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTH, HEIGHT = 390, 844
PASSWORD = "a long enough passphrase"

# Every table's box must fit on the screen; a table wider than that is its own sideways scroll box.
TABLES_JS = """() => [...document.querySelectorAll('table.data')].map((table) => {
  const box = table.getBoundingClientRect();
  return {right: box.right, left: box.left, scrolls: getComputedStyle(table).overflowX,
          first: (table.querySelector('th') || {}).textContent};
})"""


def test_every_page_fits_a_phone_and_draws_every_character(live_server, browser, django_user_model):  # noqa: F811
    call_command("setup_sample", stdout=io.StringIO())
    django_user_model.objects.create_user("phone", "phone@example.com", PASSWORD)
    market = Market.objects.get(exchange__plugin="sample_binance", symbol="BTCUSDT")
    pages = [
        reverse("heatmaps:market_list"),
        reverse("heatmaps:market_status"),
        reverse("heatmaps:market_heatmap", args=[market.pk]),
        reverse("heatmaps:coin_heatmap", args=["BTC"]),
        reverse("heatmaps:accuracy_summary"),
        reverse("heatmaps:market_accuracy", args=[market.pk]),
        reverse("heatmaps:model_explained"),
        reverse("alerts:watchlist"),
        reverse("alerts:rule_list"),
        reverse("alerts:log"),
    ]
    page = browser.new_page(viewport={"width": WIDTH, "height": HEIGHT})
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(live_server.url + reverse("login"))
    page.fill("#id_username", "phone")
    page.fill("#id_password", PASSWORD)
    page.click("section form button")
    page.wait_for_url("**/")
    for path in pages:
        page.goto(live_server.url + path)
        if page.locator("[data-heatmap]").count():
            page.wait_for_selector("[data-heatmap][data-painted]", timeout=20_000)
        name = path.strip("/").replace("/", "-") or "markets"
        page.screenshot(path=str(SCREENSHOT_DIR / f"liqsite-phone-{name}.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH, path
        for table in page.evaluate(TABLES_JS):
            assert table["left"] >= -1 and table["right"] <= WIDTH + 1, (path, table)
        # Binance's own "USDⓈ-M": no font of Debian's Chromium has the circled S, so it shows as a box.
        assert "Ⓢ" not in page.inner_text("body"), path
    assert errors == []
