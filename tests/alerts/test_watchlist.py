"""The watchlist page: add, remove and reorder markets and coins, with HTMX and without."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse

from alerts.links import heatmap_path
from alerts.models import WatchlistItem
from grids.targets import Target
from markets.models import Candle
from tests.alerts.factories import T0, band, make_market, store_grid, store_oi

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def names(user):
    return [item.market.symbol if item.market else item.coin for item in WatchlistItem.objects.filter(user=user)]


def test_rows_show_price_oi_change_and_the_largest_bands(owner, owner_client, market):
    WatchlistItem.objects.create(user=owner, market=market)
    Candle.objects.create(
        market=market, interval="15m", time=T0 + timedelta(hours=30), open=1, high=1, low=1, close=64123.5, volume=1
    )
    store_oi(market, [1000.0] + [1100.0] * 23 + [1250.0])  # 24 h: 1000 → 1250
    store_grid(
        market=market,
        close=64000,
        bands=[
            band(side="above", low=65000, high=65500, usd=3.1e6, close=64000, since=T0),
            band(side="above", low=66000, high=66500, usd=1e6, close=64000, since=T0),
            band(side="below", low=62000, high=62500, usd=2.2e6, close=64000, since=T0, verdict="cool-down"),
        ],
    )
    page = owner_client.get(reverse("alerts:watchlist")).content.decode()
    assert "64,123.5" in page  # the newest close, not the grid's
    assert "+25.00 %" in page
    assert "$3.1M" in page and "65,000.0–65,500.0" in page and "+1.95 %" in page and "strong build-up" in page
    assert "$1.0M" not in page  # only the largest band per side
    assert "$2.2M" in page and "cool-down" in page
    assert f'href="{heatmap_path(Target.of_market(market), interval="15m")}"' in page


def test_a_coin_row_reads_the_aggregate_grid_and_links_to_the_coin_heatmap(owner, owner_client, db):
    WatchlistItem.objects.create(user=owner, coin="SOL")
    store_grid(coin="SOL", close=142.31, bands=[band(side="below", low=138, high=139, usd=4.4e6, close=142.31, since=T0)])
    page = owner_client.get(reverse("alerts:watchlist")).content.decode()
    assert "142.31" in page and "$4.4M" in page and "all exchanges" in page


def test_a_coin_and_its_only_market_show_one_price_from_the_same_data(owner, owner_client, market):
    """BTC showed 60,750.0 (its grid's last close, where open interest ends) and BTCUSDT 61,180.0 (the newest candle)."""
    WatchlistItem.objects.create(user=owner, market=market)
    WatchlistItem.objects.create(user=owner, coin="BTC")
    for hours, close in ((12, 60750.0), (18, 61180.0)):  # candles go on after the grid's last step (12:00)
        Candle.objects.create(
            market=market,
            interval="15m",
            time=T0 + timedelta(hours=hours),
            open=close,
            high=close,
            low=close,
            close=close,
            volume=1,
        )
    store_grid(market=market, close=60750.0, as_of=T0 + timedelta(hours=12))
    store_grid(coin="BTC", close=60750.0, as_of=T0 + timedelta(hours=12))
    page = owner_client.get(reverse("alerts:watchlist")).content.decode()
    prices = re.findall(r'<td class="num">([\d,.]+)<div class="hint">([^<]+)</div></td>', page)
    assert prices == [("61,180.0", "2026-06-26 18:00"), ("61,180.0", "2026-06-26 18:00")]
    assert "60,750.0" not in page


def test_a_market_without_data_shows_dashes_not_errors(owner, owner_client, market):
    WatchlistItem.objects.create(user=owner, market=market)
    page = owner_client.get(reverse("alerts:watchlist")).content.decode()
    assert "not computed yet" in page and "BTCUSDT" in page


def test_add_remove_and_reorder_without_javascript(owner, owner_client, market):
    sol = make_market("SOLUSDT", "SOL")
    for target in (f"m:{market.pk}", f"m:{sol.pk}", "c:BTC"):
        response = owner_client.post(reverse("alerts:watchlist_add"), {"target": target})
        assert response.status_code == 302 and response["Location"] == reverse("alerts:watchlist")
    assert names(owner) == ["BTCUSDT", "SOLUSDT", "BTC"]

    btc_coin = WatchlistItem.objects.get(user=owner, coin="BTC")
    owner_client.post(reverse("alerts:watchlist_move", args=[btc_coin.pk]), {"direction": "up"})
    assert names(owner) == ["BTCUSDT", "BTC", "SOLUSDT"]
    owner_client.post(reverse("alerts:watchlist_move", args=[btc_coin.pk]), {"direction": "up"})
    owner_client.post(reverse("alerts:watchlist_move", args=[btc_coin.pk]), {"direction": "up"})  # already first
    assert names(owner) == ["BTC", "BTCUSDT", "SOLUSDT"]
    assert list(WatchlistItem.objects.filter(user=owner).values_list("position", flat=True)) == [0, 1, 2]

    owner_client.post(reverse("alerts:watchlist_remove", args=[btc_coin.pk]))
    assert names(owner) == ["BTCUSDT", "SOLUSDT"]


def test_htmx_requests_get_the_watchlist_part_only(owner, owner_client, market):
    response = owner_client.post(reverse("alerts:watchlist_add"), {"target": f"m:{market.pk}"}, **HTMX)
    page = response.content.decode()
    assert response.status_code == 200
    assert page.lstrip().startswith('<section id="watchlist"') and "<html" not in page
    item = WatchlistItem.objects.get(user=owner)
    response = owner_client.post(reverse("alerts:watchlist_remove", args=[item.pk]), **HTMX)
    assert "<html" not in response.content.decode() and "watchlist is empty" in response.content.decode()
    full = owner_client.get(reverse("alerts:watchlist"))
    assert "<html" in full.content.decode() and "HX-Request" in full["Vary"]


def test_adding_twice_or_an_unknown_market_says_why(owner, owner_client, market):
    owner_client.post(reverse("alerts:watchlist_add"), {"target": f"m:{market.pk}"})
    again = owner_client.post(reverse("alerts:watchlist_add"), {"target": f"m:{market.pk}"}, **HTMX)
    assert "already on your watchlist" in again.content.decode()
    unknown = owner_client.post(reverse("alerts:watchlist_add"), {"target": "m:999999"})
    assert unknown.status_code == 200 and "Select a valid choice" in unknown.content.decode()
    assert WatchlistItem.objects.filter(user=owner).count() == 1


def test_markets_of_a_disabled_exchange_are_not_offered_and_are_refused(owner, owner_client, market):
    # A disabled exchange is never refreshed again: a watch or a rule on its markets could never show anything new.
    other = make_market("SOLUSDT", "SOL", plugin="sample_okx")
    other.exchange.enabled = False
    other.exchange.save()
    for page in (reverse("alerts:watchlist"), reverse("alerts:rule_list")):
        html = owner_client.get(page).content.decode()
        assert f'value="m:{market.pk}"' in html and 'value="c:BTC"' in html
        assert f'value="m:{other.pk}"' not in html and 'value="c:SOL"' not in html
    refused = owner_client.post(reverse("alerts:watchlist_add"), {"target": f"m:{other.pk}"})
    assert "Select a valid choice" in refused.content.decode()
    assert not WatchlistItem.objects.filter(user=owner, market=other).exists()
