"""The home page is a market picker: price, 24 h change, OI, nearest bands, search, sort; a status page beside it."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse

from markets.models import Candle, Exchange, Market
from tests.alerts.factories import T0, band, store_grid

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def add_market(exchange, symbol, base, *, close, day_before, oi=1e6, bands=(), interval="15m"):
    """A market with candles now and 24 h before, and a stored grid whose analysis has ``bands``."""
    market = Market.objects.create(exchange=exchange, symbol=symbol, base=base, quote="USDT", intervals=[interval])
    now = T0 + timedelta(days=2)
    for time, value in ((now - timedelta(hours=24), day_before), (now - timedelta(minutes=15), close), (now, close)):
        Candle.objects.create(
            market=market, interval=interval, time=time, open=value, high=value, low=value, close=value, volume=1
        )
    store_grid(
        market=market,
        interval=interval,
        close=close,
        as_of=now,
        bands=[band(side=side, low=low, high=high, usd=usd, close=close, since=T0) for side, low, high, usd in bands],
        oi={"now": oi, "trend": "rising", "change_pct": 3.2, "hours": 4},
    )
    return market


@pytest.fixture
def markets(db):
    sample = Exchange.objects.create(plugin="sample")
    return {
        "BTC": add_market(
            sample,
            "BTCUSDT",
            "BTC",
            close=60_000,
            day_before=57_000,
            oi=2e4,
            bands=[
                ("above", 61_000, 61_200, 9e6),
                ("above", 63_000, 63_200, 5e7),
                ("below", 58_000, 58_200, 4e6),
            ],
        ),
        "SOL": add_market(sample, "SOLUSDT", "SOL", close=140, day_before=150, oi=1e6, bands=[("below", 130, 131, 2e6)]),
    }


def cells(html: str, market: Market) -> str:
    row = re.search(rf'<tr id="market-{market.pk}".*?</tr>', html, re.S).group(0)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip()


def test_each_market_shows_price_change_oi_and_nearest_bands(client, markets):
    html = client.get(reverse("heatmaps:market_list")).content.decode()
    btc = cells(html, markets["BTC"])
    assert "60,000.0" in btc and "+5.26 %" in btc  # 60,000 vs 57,000 a day before
    assert "$1.2B" in btc  # 20,000 BTC × 60,000
    assert "rising +3.20 % / 4 h" in btc
    # The nearest band above, not the largest: 61,100 (+1.83 %), though 63,100 holds more.
    assert "61,100.0 +1.83 %" in btc and "$9.0M est." in btc and "63,100.0" not in btc
    assert "58,100.0 −3.17 %" in btc
    sol = cells(html, markets["SOL"])
    assert "140.00" in sol and "−6.67 %" in sol and "130.50 −6.79 %" in sol and "none" in sol  # no band above
    assert reverse("heatmaps:market_heatmap", args=[markets["SOL"].pk]) in html
    assert reverse("heatmaps:coin_heatmap", args=["SOL"]) in html
    assert reverse("heatmaps:market_status") in html  # coverage and errors stay one click away


def test_sorted_by_any_column_both_ways_and_searched(client, markets):
    def order(**params):
        html = client.get(reverse("heatmaps:market_list"), params).content.decode()
        return re.findall(r'<tr id="market-\d+" data-symbol="([^"]+)"', html)

    assert order() == ["BTCUSDT", "SOLUSDT"]  # open interest in USD, largest first
    assert order(sort="oi", dir="asc") == ["SOLUSDT", "BTCUSDT"]
    assert order(sort="change") == ["BTCUSDT", "SOLUSDT"]
    assert order(sort="change", dir="asc") == ["SOLUSDT", "BTCUSDT"]
    assert order(sort="market", dir="desc") == ["SOLUSDT", "BTCUSDT"]
    assert order(sort="above") == ["BTCUSDT", "SOLUSDT"]  # SOL has none: last either way
    assert order(sort="above", dir="desc") == ["BTCUSDT", "SOLUSDT"]
    assert order(sort="nonsense", dir="sideways") == ["BTCUSDT", "SOLUSDT"]  # bad values: the default order
    assert order(q="sol") == ["SOLUSDT"]
    assert order(q="sample") == ["BTCUSDT", "SOLUSDT"]  # the exchange's name
    assert "No market matches" in client.get(reverse("heatmaps:market_list"), {"q": "doge"}).content.decode()


def test_search_and_sort_swap_only_the_table(client, markets):
    response = client.get(reverse("heatmaps:market_list"), {"q": "btc"}, **HTMX)
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="market-table">') and "<input" not in html and "SOLUSDT" not in html
    assert "HX-Request" in response["Vary"]
    # Every header link keeps the search and flips the direction of the current column.
    assert 'href="?sort=oi&amp;dir=asc&amp;q=btc"' in html and 'href="?sort=price&amp;dir=desc&amp;q=btc"' in html


def test_a_fixed_number_of_queries_whatever_the_number_of_markets(client, markets, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        client.get(reverse("heatmaps:market_list"))
    okx = Exchange.objects.create(plugin="okx")
    for number in range(40):
        add_market(okx, f"C{number}-USDT-SWAP", f"C{number}", close=10 + number, day_before=10, bands=[("above", 60, 61, 1e6)])
    with django_assert_max_num_queries(6):
        html = client.get(reverse("heatmaps:market_list")).content.decode()
    assert html.count('<tr id="market-') == 42


def test_a_market_without_candles_or_grid_says_so(client, db):
    market = Market.objects.create(
        exchange=Exchange.objects.create(plugin="sample"), symbol="ETHUSDT", base="ETH", intervals=["15m"]
    )
    row = cells(client.get(reverse("heatmaps:market_list")).content.decode(), market)
    assert "no candles" in row and "not computed" in row


def test_a_gap_before_the_newest_candle_gives_no_24h_change(client, db):
    market = add_market(Exchange.objects.create(plugin="sample"), "BTCUSDT", "BTC", close=60_000, day_before=50_000)
    Candle.objects.filter(market=market, close=50_000).update(time=T0 - timedelta(days=5))  # only a much older candle
    row = cells(client.get(reverse("heatmaps:market_list")).content.decode(), market)
    assert "60,000.0" in row and "%" not in row.split("60,000.0")[1].split("$")[0]


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({}, None),
        ({"exchange_enabled": False}, "exchange disabled"),
        ({"active": False}, "inactive"),
        ({"last_error": "symbol delisted", "active": False}, "stopped"),
        ({"last_error": "HTTP 502", "active": True}, "error"),
    ],
)
def test_a_market_whose_data_is_not_kept_up_to_date_never_reads_ok(client, markets, change, status):
    """A disabled exchange used to show "ok" on "/": the picker and the status page say what is wrong."""
    market = markets["BTC"]
    if "exchange_enabled" in change:
        Exchange.objects.filter(pk=market.exchange_id).update(enabled=False)
    Market.objects.filter(pk=market.pk).update(**{k: v for k, v in change.items() if k != "exchange_enabled"})
    row = cells(client.get(reverse("heatmaps:market_list")).content.decode(), market)
    status_page = client.get(reverse("heatmaps:market_status")).content.decode()
    status_cell = re.search(r"BTCUSDT.*?</tr>", status_page, re.S).group(0)
    if status is None:
        assert "status ok" in status_cell
        assert not any(word in row for word in ("disabled", "inactive", "stopped", "error"))
    else:
        assert status in row
        assert "status ok" not in status_cell and (status in status_cell or change.get("last_error", "@") in status_cell)
