"""The watchlist and rule pages in headless Chromium: htmx swaps, inline validation, no console error.

Drives Debian's /usr/bin/chromium through Playwright (never a downloaded browser).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import connections
from django.urls import reverse

from alerts.models import AlertRule, WatchlistItem
from tests.alerts.conftest import PASSWORD
from tests.alerts.factories import make_market
from tests.conftest import skip_or_fail_without

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


@pytest.fixture
def page(live_server, monkeypatch, owner):
    if not Path(CHROMIUM).exists():
        skip_or_fail_without("chromium", f"{CHROMIUM} is not installed (apt-get install chromium)")
    # Playwright's sync API runs an event loop; the ORM calls it triggers run in the live server's thread.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        tab = browser.new_page()
        tab.errors = []
        tab.on("console", lambda message: tab.errors.append(message.text) if message.type == "error" else None)
        tab.on("pageerror", lambda error: tab.errors.append(str(error)))
        tab.goto(live_server.url + reverse("login"))
        tab.fill("#id_username", "owner")
        tab.fill("#id_password", PASSWORD)
        tab.click("form button")
        tab.wait_for_url("**/")
        yield tab
        browser.close()
        # Inside Playwright's event loop the ORM hands out a connection of its own
        # (connections are context-local); close it, or the test database cannot be dropped.
        connections.close_all()


def test_watchlist_add_and_reorder_swap_in_place(page, live_server, owner):
    btc, sol = make_market(), make_market("SOLUSDT", "SOL")
    page.goto(live_server.url + reverse("alerts:watchlist"))
    page.evaluate("window.notReloaded = true")
    for rows, market in enumerate((btc, sol), start=1):
        page.select_option("#id_target", f"m:{market.pk}")
        page.click("text=Add to watchlist")
        page.wait_for_function(f"document.querySelectorAll('#watchlist tbody tr').length === {rows}")
    sol_row = WatchlistItem.objects.get(user=owner, market=sol).pk
    page.click(f"#watch-{sol_row} button[value=up]")
    page.wait_for_function(f"document.querySelector('#watchlist tbody tr').id === 'watch-{sol_row}'")
    assert [i.market.symbol for i in WatchlistItem.objects.filter(user=owner)] == ["SOLUSDT", "BTCUSDT"]
    assert page.evaluate("window.notReloaded") is True  # swapped by htmx, not a page load
    assert page.errors == []


def test_rule_form_validates_inline_then_saves_and_pauses_in_place(page, live_server, owner, market):
    page.goto(live_server.url + reverse("alerts:rule_list"))
    page.evaluate("window.notReloaded = true")
    page.fill("#id_within_pct", "0")
    page.dispatch_event("#id_within_pct", "change")
    page.wait_for_selector("text=Must be more than 0 and at most 50.")
    assert not AlertRule.objects.exists()
    page.fill("#id_within_pct", "2.5")
    page.click("text=Create rule")
    page.wait_for_selector("#rule-list tr[id^=rule-]")
    rule = AlertRule.objects.get(user=owner)
    assert rule.within_pct == 2.5
    page.click(f"#rule-{rule.pk} button[value='1']")  # Pause
    page.wait_for_selector(f"#rule-{rule.pk}.paused")
    rule.refresh_from_db()
    assert rule.paused
    page.click(f"#rule-{rule.pk} >> text=Edit")
    page.wait_for_selector("text=Edit rule")
    assert page.url.endswith(reverse("alerts:rule_edit", args=[rule.pk]))
    assert page.evaluate("window.notReloaded") is True
    assert page.errors == []
