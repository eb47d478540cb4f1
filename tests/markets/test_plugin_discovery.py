"""A third-party plugin found through the entry-point group goes all the way through."""

import pytest
from django.urls import reverse

from liqsite.exchanges.registry import installed_plugins, plugin_class
from markets.models import Candle, Exchange, Market
from markets.refresh import market_refresh

pytestmark = pytest.mark.django_db


def test_the_dummy_plugin_is_discovered_and_a_broken_one_is_listed_with_its_error(dummy_plugin_installed):
    plugins = installed_plugins()
    assert plugins["dummy"].loadable and plugins["dummy"].origin == "liqsite-dummy-exchange"
    assert plugin_class("dummy").label == "Dummy exchange (tests)"
    assert not plugins["broken"].loadable and "No module named 'tests.no_such_module'" in plugins["broken"].error
    # A third-party package cannot take over a bundled plugin's key.
    assert plugins["sample"].origin == "bundled"


def test_without_the_package_the_plugin_is_not_installed():
    assert "dummy" not in installed_plugins()
    with pytest.raises(LookupError, match="not installed"):
        plugin_class("dummy")


def test_admin_lists_enables_adds_a_market_and_refreshes(dummy_plugin_installed, admin_user, client):
    client.force_login(admin_user)
    listing = client.get(reverse("admin:markets_exchange_plugins"))
    assert listing.status_code == 200
    assert b"Dummy exchange (tests)" in listing.content and b"cannot load" in listing.content

    response = client.post(reverse("admin:markets_exchange_enable", args=["dummy"]))
    assert response.status_code == 302
    exchange = Exchange.objects.get(plugin="dummy")
    assert exchange.enabled

    response = client.post(
        reverse("admin:markets_market_add"),
        {
            "exchange": exchange.pk,
            "symbol": "DUMMYUSDT",
            "intervals": ["1h", "15m"],
            "active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    market = Market.objects.get(symbol="DUMMYUSDT")
    assert (market.intervals, market.base, market.tick_size) == (["15m", "1h"], "DUMMY", 0.01)

    report = market_refresh(market.pk)
    assert report.ok, report.error
    assert Candle.objects.filter(market=market, interval="15m").count() == 48


def test_admin_refuses_an_unknown_symbol_and_unsupported_interval(dummy_plugin_installed, admin_user, client):
    exchange = Exchange.objects.create(plugin="dummy")
    client.force_login(admin_user)
    response = client.post(reverse("admin:markets_market_add"), {"exchange": exchange.pk, "symbol": "NOPE", "intervals": ["1d"]})
    assert response.status_code == 200
    assert b"unknown symbol" in response.content and b"does not offer 1d" in response.content
    assert not Market.objects.exists()


def test_admin_refuses_unknown_plugin_settings(dummy_plugin_installed, admin_user, client):
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:markets_exchange_add"), {"plugin": "dummy", "enabled": "on", "settings": '{"colour": "red"}'}
    )
    assert response.status_code == 200 and b"unknown setting(s) colour" in response.content
    response = client.post(
        reverse("admin:markets_exchange_add"), {"plugin": "tests.dummy_exchange:DummyExchange", "settings": "{}"}
    )
    assert b"Select a valid choice" in response.content
    assert not Exchange.objects.exists()


def test_a_permanent_error_disables_the_market_with_the_reason_visible(dummy_plugin_installed, client):
    exchange = Exchange.objects.create(plugin="dummy", settings={"mode": "permanent"})
    market = Market.objects.create(exchange=exchange, symbol="DUMMYUSDT", intervals=["15m"])
    report = market_refresh(market.pk)
    market.refresh_from_db()
    assert report.deactivated and not market.active
    assert market.last_error == "Dummy exchange (tests) /candles: symbol delisted"
    for page in ("heatmaps:market_list", "heatmaps:market_status"):  # the picker and the data status page
        assert "stopped: Dummy exchange (tests) /candles: symbol delisted" in client.get(reverse(page)).content.decode()


def test_a_malformed_page_from_the_plugin_writes_nothing_of_that_page(dummy_plugin_installed):
    exchange = Exchange.objects.create(plugin="dummy", settings={"mode": "malformed"})
    market = Market.objects.create(exchange=exchange, symbol="DUMMYUSDT", intervals=["15m"])
    report = market_refresh(market.pk)
    assert "row 6 (2024-01-01T01:15:00+00:00): high 100.0 is below low 104.0" in report.error
    # Row 6 is in the first of the two pages: that page is refused whole.
    assert Candle.objects.filter(market=market).count() == 0


def test_an_uninstalled_plugin_marks_the_exchange_not_the_markets():
    exchange = Exchange.objects.create(plugin="gone")
    market = Market.objects.create(exchange=exchange, symbol="X", intervals=["1h"])
    report = market_refresh(market.pk)
    exchange.refresh_from_db()
    market.refresh_from_db()
    assert "not installed" in report.error and "not installed" in exchange.last_error
    assert market.active


def test_only_staff_reach_plugin_control(dummy_plugin_installed, trader, client):
    client.force_login(trader)
    assert client.get(reverse("admin:markets_exchange_plugins")).status_code == 302
    client.post(reverse("admin:markets_exchange_enable", args=["dummy"]))
    assert not Exchange.objects.exists()


def test_enabling_needs_post_with_csrf(dummy_plugin_installed, admin_user):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(admin_user)
    assert strict.get(reverse("admin:markets_exchange_enable", args=["dummy"])).status_code == 405
    assert strict.post(reverse("admin:markets_exchange_enable", args=["dummy"])).status_code == 403
    assert not Exchange.objects.exists()
