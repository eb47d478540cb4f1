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


def test_the_rule_form_keeps_what_a_fast_typist_types(page, live_server, owner, market, monkeypatch):
    """Typing 7 into Within, Tab, then 2500000 quickly once saved 000001000000: a validation swap replaced the form
    while the user typed. Validation answers are slowed down here so they land in the middle of the typing."""
    import time

    from alerts import views

    original = views._rule_form_post

    def slow_validation(request, form, save):
        if request.POST.get("validate"):
            time.sleep(0.3)
        return original(request, form, save)

    monkeypatch.setattr(views, "_rule_form_post", slow_validation)
    page.goto(live_server.url + reverse("alerts:rule_list"))
    page.select_option("#id_kind", "approach")  # a change: a validation request goes out and comes back mid-typing
    page.click("#id_within_pct")
    page.keyboard.press("Control+A")
    page.keyboard.type("7")
    page.keyboard.press("Tab")  # change on Within: another validation in flight
    page.keyboard.press("Control+A")
    page.keyboard.type("2500000")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.fill("#id_cooldown_minutes", "15")
    page.wait_for_timeout(900)  # every validation answer has arrived
    assert page.input_value("#id_within_pct") == "7" and page.input_value("#id_min_usd") == "2500000"
    assert page.input_value("#id_kind") == "approach"
    page.click("text=Create rule")
    page.wait_for_selector("#rule-list tr[id^=rule-]")
    rule = AlertRule.objects.get(user=owner)
    assert (rule.kind, rule.within_pct, rule.min_usd, rule.cooldown_minutes) == ("approach", 7.0, 2_500_000.0, 15)
    assert page.errors == []


def test_a_bad_value_typed_fast_still_shows_its_error_without_touching_the_other_fields(page, live_server, owner, market):
    page.goto(live_server.url + reverse("alerts:rule_list"))
    page.fill("#id_oi_hours", "9999")
    page.keyboard.press("Tab")
    page.keyboard.type("x")  # typed into the next field while validation runs
    page.wait_for_selector("#id_oi_hours-error:text('at most 720')")
    page.fill("#id_oi_hours", "4")
    page.keyboard.press("Tab")
    page.wait_for_function("document.querySelector('#id_oi_hours-error').textContent.trim() === ''")
    assert page.errors == []


def test_following_the_readme_an_alert_fires_after_manage_py_compute(page, live_server, owner, smtp_server):
    """README: `make run` loads the sample (setup_sample computes its grids); a user makes a rule; the next
    `manage.py compute` checks it, although the data did not change, and the alert shows in the log."""
    import io

    from django.core.management import call_command

    from alerts.models import Alert
    from markets.models import Market

    call_command("setup_sample", stdout=io.StringIO())
    btc = Market.objects.get(exchange__plugin="sample_binance", symbol="BTCUSDT")
    page.goto(live_server.url + reverse("alerts:rule_list"))
    page.select_option("#id_target", f"m:{btc.pk}")
    page.select_option("#id_kind", "cluster")
    page.fill("#id_within_pct", "10")
    page.fill("#id_min_usd", "1000000")
    page.uncheck("#id_require_strong")
    page.fill("#id_min_persistence_hours", "0")
    page.click("text=Create rule")
    page.wait_for_selector("#rule-list tr[id^=rule-]")
    rule = AlertRule.objects.get(user=owner)

    page.click(f"#rule-{rule.pk} >> text=Check now")  # a dry run: says what it would send, sends nothing
    page.wait_for_selector("#rule-check >> text=Would fire now")
    assert Alert.objects.count() == 0

    out = io.StringIO()
    call_command("compute", stdout=out)  # same data as setup_sample computed: nothing stored, rules checked all the same
    assert "0 stored" in out.getvalue() and "alert rules on it: queued for checking" in out.getvalue()
    alert = Alert.objects.get(rule=rule)
    page.goto(live_server.url + reverse("alerts:log"))
    page.wait_for_selector(f"#alert-{alert.pk}")
    assert "BTCUSDT" in page.inner_text(f"#alert-{alert.pk}")
    assert [message["To"] for message in smtp_server.messages] == ["owner@example.com"]
    assert page.errors == []
