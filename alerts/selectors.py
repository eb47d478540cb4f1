"""Read-side queries for the alerts pages (writes live in ``alerts.services``).

Every per-user query takes ``user`` and filters on it, so a view that reads
through these cannot show another user's rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import QuerySet

from alerts import oi
from alerts.links import heatmap_path
from alerts.models import Alert, AlertRule, WatchlistItem
from grids.analysis import current_snapshot, largest_band
from grids.models import GridSnapshot
from markets.models import Market
from markets.selectors import market_prices


def target_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """Grouped choices for a target field: every market on an enabled exchange, then every coin they trade.

    A market whose exchange is disabled is never refreshed again, so a rule or watch on it could never
    show anything new; it is not offered (items made before the exchange was disabled stay listed).
    """
    offered = Market.objects.filter(exchange__enabled=True).select_related("exchange")
    markets = [(f"m:{m.pk}", f"{m.symbol} · {m.exchange.label}") for m in offered]
    coins = {coin.upper() for coin in offered.exclude(base="").values_list("base", flat=True)}
    return [
        ("Markets", markets),
        ("Coins (all exchanges)", [(f"c:{coin}", f"{coin} · all exchanges") for coin in sorted(coins)]),
    ]


@dataclass
class WatchlistRow:
    item: WatchlistItem
    price: float | None
    price_time: datetime | None  # open time of the candle whose close is the price
    oi_change: oi.Change | None
    grid: GridSnapshot | None
    above: dict | None
    below: dict | None
    heatmap_url: str


def watchlist_items(*, user) -> QuerySet[WatchlistItem]:
    return WatchlistItem.objects.filter(user=user).select_related("market__exchange")


def watchlist_rows(*, user) -> list[WatchlistRow]:
    """The user's watchlist in order, each row with price, 24h OI change and the largest bands.

    Price is the last price the market picker shows (``markets.selectors.market_prices``,
    the newest stored candle); a coin's is the newest among its markets, so a coin and
    its only market never show two prices from the same data. Watchlists are short,
    so a few queries per row are fine; no row ever recomputes a grid.
    """
    items = list(watchlist_items(user=user))
    coins = {item.coin for item in items if item.coin}
    coin_markets = list(Market.objects.filter(base__in=coins, exchange__enabled=True)) if coins else []
    prices = market_prices([item.market for item in items if item.market] + coin_markets)
    rows = []
    for item in items:
        grid = current_snapshot(item.target)  # the grid the heatmap shows by default
        analysis = grid.analysis if grid else {}
        series = oi.oi_series(item.target, span=timedelta(hours=30))
        if item.market:
            last = prices.get(item.market_id)
        else:
            found = [prices[m.pk] for m in coin_markets if m.base == item.coin and m.pk in prices]
            last = max(found, key=lambda p: p.time, default=None)
        rows.append(
            WatchlistRow(
                item=item,
                price=last.close if last else analysis.get("close"),
                price_time=last.time if last else None,
                oi_change=oi.latest_change(series, 24),
                grid=grid,
                above=largest_band(analysis, "above") if grid else None,
                below=largest_band(analysis, "below") if grid else None,
                heatmap_url=heatmap_path(item.target, interval=grid.interval if grid else ""),
            )
        )
    return rows


def rule_list(*, user) -> QuerySet[AlertRule]:
    return AlertRule.objects.filter(user=user).select_related("market__exchange")


def alert_log(*, user) -> QuerySet[Alert]:
    return Alert.objects.filter(user=user).select_related("message", "market__exchange")
