"""The heatmap and share pages in headless Chromium: drawn, swapped by htmx, no console error.

Drives Debian's /usr/bin/chromium through Playwright (never a downloaded
browser). Pixels are checked on a real screenshot, decoded with tests/pages/png.py.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from django.db import connections
from django.urls import reverse

from heatmaps.charts import COLOUR_SCALE
from heatmaps.share_links import create_share_link
from heatmaps.viewing.query import ViewQuery
from heatmaps.viewing.snapshots import market_target
from tests.conftest import skip_or_fail_without
from tests.pages.png import colours_present, decode_png

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOT_DIR = Path(os.environ.get("LIQSITE_SCREENSHOT_DIR", "/tmp"))


@pytest.fixture
def browser(monkeypatch):
    if not Path(CHROMIUM).exists():
        skip_or_fail_without("chromium", f"{CHROMIUM} is not installed (apt-get install chromium)")
    # Playwright's sync API runs an event loop; Django refuses ORM calls from
    # async contexts unless told the access is deliberate (the live server runs in another thread).
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
        # Inside Playwright's event loop the ORM hands out a connection of its own
        # (connections are context-local); close it, or the test database cannot be dropped.
        connections.close_all()


def open_page(browser, url: str):
    # Tall enough for the whole page: a full-page screenshot of a taller page
    # resizes the viewport, which makes ECharts redraw (half drawn when captured).
    page = browser.new_page(viewport={"width": 1400, "height": 1500})
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(url)
    wait_until_painted(page)
    return page, errors


def wait_until_painted(page, selector: str = "[data-heatmap][data-rendered]") -> None:
    """Wait for ECharts' render pass, then for the canvas to stop changing.

    ECharts 6 paints a large heatmap over several animation frames after its
    "finished" event, so a screenshot taken on "finished" can be half drawn.
    """
    page.wait_for_selector(selector, timeout=20_000)
    page.wait_for_function(
        """() => {
            // ECharts paints incremental layers on canvases of their own: compare them all.
            const canvases = [...document.querySelectorAll('[data-heatmap] canvas')];
            const now = canvases.length && canvases.map((canvas) => canvas.toDataURL()).join();
            const same = now && window.__liqsiteLastPaint === now;
            window.__liqsiteLastPaint = now;
            return same;
        }""",
        polling=400,
        timeout=20_000,
    )


def scale_colours_on_screen(page) -> list[str]:
    """Scale colours in a screenshot of the heatmap area (the top-left grid of the chart)."""
    box = page.locator("[data-heatmap]").bounding_box()
    clip = {"x": box["x"] + 90, "y": box["y"] + 60, "width": min(500, box["width"] * 0.6), "height": 300}
    pixels = decode_png(page.screenshot(clip=clip))
    return colours_present(pixels, COLOUR_SCALE, tolerance=45, minimum=15)


def test_heatmap_page_draws_and_swaps_with_htmx(live_server, grids, browser):
    market = grids["15m"].market
    page, errors = open_page(browser, live_server.url + reverse("heatmaps:market_heatmap", args=[market.pk]))
    page.screenshot(path=str(SCREENSHOT_DIR / "liqsite-heatmap-test.png"))
    colours = scale_colours_on_screen(page)
    assert len(colours) >= 3, f"the heatmap shows too few scale colours: {colours}"
    columns = page.evaluate(
        "() => echarts.getInstanceByDom(document.querySelector('[data-heatmap]')).getOption().xAxis[0].data.length"
    )
    assert columns == 672

    page.click('[data-control="range"] a:text-is("1d")')
    page.wait_for_url(re.compile(r"range=1d"))
    wait_until_painted(page, '[data-heatmap][data-columns="96"][data-rendered]')
    columns = page.evaluate(
        "() => echarts.getInstanceByDom(document.querySelector('[data-heatmap]')).getOption().xAxis[0].data.length"
    )
    assert columns == 96
    assert "range=1d" in page.url and "interval=15m" in page.url
    assert page.locator('[data-control="range"] a.active').inner_text() == "1d"
    assert len(scale_colours_on_screen(page)) >= 3

    page.go_back()
    page.wait_for_url(re.compile(r"/heatmap/$"))
    assert errors == []


def test_share_page_draws_for_an_anonymous_visitor(live_server, grids, browser, trader):
    market = grids["15m"].market
    link = create_share_link(owner=trader, target=market_target(market.pk), query=ViewQuery(range="3d"), frozen=True)
    page, errors = open_page(browser, live_server.url + link.get_absolute_url())
    assert len(scale_colours_on_screen(page)) >= 3
    html = page.content()
    assert "trader" not in html
    assert page.locator('meta[property="og:title"]').get_attribute("content").startswith("BTCUSDT")
    assert errors == []


@pytest.mark.parametrize("width", [1440, 390])
def test_market_picker_fits_searches_and_sorts(live_server, browser, db, width):
    from markets.models import Exchange
    from tests.pages.test_market_picker import add_market

    sample, okx = Exchange.objects.create(plugin="sample"), Exchange.objects.create(plugin="okx")
    add_market(
        sample,
        "BTCUSDT",
        "BTC",
        close=60_000,
        day_before=57_000,
        oi=2e4,
        bands=[("above", 61_000, 61_200, 9e6), ("below", 58_000, 58_200, 4e6)],
    )
    add_market(okx, "SOL-USDT-SWAP", "SOL", close=140, day_before=150, oi=1e6, bands=[("below", 130, 131, 2e6)])
    for number in range(12):
        add_market(
            okx,
            f"ALT{number}-USDT-SWAP",
            f"ALT{number}",
            close=10 + number,
            day_before=10,
            oi=1e5,
            bands=[("above", 30, 31, 1e6)],
        )
    page = browser.new_page(viewport={"width": width, "height": 844 if width < 500 else 900})
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(live_server.url + "/")
    page.screenshot(path=str(SCREENSHOT_DIR / f"liqsite-markets-{width}.png"), full_page=True)
    # Nothing wider than the screen: no sideways scrolling, every price and band readable.
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    btc = page.locator("#market-table tr[data-symbol=BTCUSDT]")
    assert btc.is_visible() and "60,000.0" in btc.inner_text() and "+5.26 %" in btc.inner_text()
    assert "61,100.0" in btc.inner_text() and "58,100.0" in btc.inner_text()
    box = btc.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= width

    def symbols():
        return page.eval_on_selector_all("#market-table tbody tr", "rows => rows.map(row => row.dataset.symbol)")

    assert symbols()[:2] == ["BTCUSDT", "SOL-USDT-SWAP"]  # largest open interest first
    page.evaluate("window.notReloaded = true")
    page.click("[data-sort=change]")  # largest 24 h change first
    page.wait_for_url(re.compile(r"sort=change"))
    page.wait_for_function("document.querySelector('#market-table tbody tr').dataset.symbol === 'ALT11-USDT-SWAP'")
    page.click("[data-sort=change]")  # again: the other way
    page.wait_for_function("document.querySelector('#market-table tbody tr').dataset.symbol === 'SOL-USDT-SWAP'")

    search = page.locator("input[name=q]")
    search.click()
    page.keyboard.type("sol", delay=20)  # typed fast: the table is swapped, never the box
    page.wait_for_function("document.querySelectorAll('#market-table tbody tr').length === 1")
    assert symbols() == ["SOL-USDT-SWAP"] and search.input_value() == "sol"
    assert "q=sol" in page.url and page.evaluate("window.notReloaded") is True
    page.keyboard.press("Backspace")
    page.keyboard.press("Backspace")
    page.keyboard.press("Backspace")
    page.wait_for_function("document.querySelectorAll('#market-table tbody tr').length === 14")
    page.click("text=Data status")
    page.wait_for_selector("h1:text('Data status')")
    assert errors == []


def test_share_preview_image_loads_from_the_address_the_page_names(live_server, grids, browser, trader, settings):
    settings.SITE_URL = live_server.url  # what a chat app would fetch: the og:image address, as the page writes it
    market = grids["15m"].market
    link = create_share_link(owner=trader, target=market_target(market.pk), query=ViewQuery(range="3d"), frozen=False)
    page, errors = open_page(browser, live_server.url + link.get_absolute_url())
    assert errors == []
    image_url = page.get_attribute('meta[property="og:image"]', "content")
    assert image_url == f"{live_server.url}/s/{link.token}/preview.png"
    size = (
        page.get_attribute('meta[property="og:image:width"]', "content"),
        page.get_attribute('meta[property="og:image:height"]', "content"),
    )
    response = page.goto(image_url)
    assert response.status == 200 and response.headers["content-type"] == "image/png"
    assert page.evaluate("[document.images[0].naturalWidth, document.images[0].naturalHeight]") == [int(size[0]), int(size[1])]
    pixels = decode_png(response.body())
    assert len(colours_present(pixels, COLOUR_SCALE, tolerance=30, minimum=200)) >= 4
    with open(SCREENSHOT_DIR / "liqsite-share-preview.png", "wb") as out:
        out.write(response.body())
    link.revoke()
    assert page.goto(image_url).status == 404  # gone at once
