"""Read-side queries for the alerts pages (writes live in ``alerts.services``).

Every per-user query takes ``user`` and filters on it, so a view that reads
through these cannot show another user's rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import OuterRef, QuerySet, Subquery

from alerts import oi
from alerts.links import heatmap_path
from alerts.models import Alert, AlertRule, WatchlistItem
from heatmaps.analysis import current_snapshot, largest_band
from heatmaps.models import Candle, GridSnapshot, Market


def target_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """Grouped choices for a target field: every market, then every coin (base asset)."""
    markets = [(f"m:{m.pk}", f"{m.symbol} · {m.exchange.label}") for m in Market.objects.select_related("exchange")]
    coins = {coin.upper() for coin in Market.objects.exclude(base="").values_list("base", flat=True)}
    coins |= set(GridSnapshot.objects.filter(market__isnull=True).values_list("coin", flat=True))
    return [
        ("Markets", markets),
        ("Coins (all exchanges)", [(f"c:{coin}", f"{coin} · all exchanges") for coin in sorted(coins)]),
    ]


@dataclass
class WatchlistRow:
    item: WatchlistItem
    price: float | None
    oi_change: oi.Change | None
    grid: GridSnapshot | None
    above: dict | None
    below: dict | None
    heatmap_url: str


def watchlist_items(*, user) -> QuerySet[WatchlistItem]:
    return WatchlistItem.objects.filter(user=user).select_related("market__exchange")


def watchlist_rows(*, user) -> list[WatchlistRow]:
    """The user's watchlist in order, each row with price, 24h OI change and the largest bands.

    Price is the last stored close (the newest candle of any interval); for a
    coin, the close in its aggregate grid. Watchlists are short, so a few
    queries per row are fine; no row ever recomputes a grid.
    """
    last_close = Candle.objects.filter(market=OuterRef("market")).order_by("-time").values("close")[:1]
    items = watchlist_items(user=user).annotate(last_close=Subquery(last_close))
    rows = []
    for item in items:
        grid = current_snapshot(market=item.market, coin=item.coin)  # the grid the heatmap shows by default
        analysis = grid.analysis if grid else {}
        series = oi.oi_series(market_id=item.market_id, coin=item.coin, span=timedelta(hours=30))
        rows.append(WatchlistRow(
            item=item,
            price=item.last_close if item.last_close is not None else analysis.get("close"),
            oi_change=oi.latest_change(series, 24),
            grid=grid,
            above=largest_band(analysis, "above") if grid else None,
            below=largest_band(analysis, "below") if grid else None,
            heatmap_url=heatmap_path(market_id=item.market_id, coin=item.coin, interval=grid.interval if grid else ""),
        ))
    return rows


def rule_list(*, user) -> QuerySet[AlertRule]:
    return AlertRule.objects.filter(user=user).select_related("market__exchange")


def alert_log(*, user) -> QuerySet[Alert]:
    return Alert.objects.filter(user=user).select_related("message", "market__exchange")
