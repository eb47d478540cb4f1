"""Read-side queries for pages (writes live in services)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Count, DateTimeField, ExpressionWrapper, Max, Min, OuterRef, Subquery

from liqsite.exchanges import INTERVAL_SECONDS
from markets.models import Candle, Market
from markets.series_kinds import SERIES


@dataclass(frozen=True)
class SeriesCoverage:
    kind: str
    interval: str | None
    first: datetime
    last: datetime
    rows: int


@dataclass
class MarketCoverage:
    market: Market
    series: list[SeriesCoverage] = field(default_factory=list)

    @property
    def total_rows(self) -> int:
        return sum(s.rows for s in self.series)


def market_coverage_list(*, markets=None) -> list[MarketCoverage]:
    """Every market with the first/last time and row count of each stored series.

    One grouped query per series kind, whatever the number of markets.
    """
    markets = list(markets if markets is not None else Market.objects.select_related("exchange"))
    by_id = {market.pk: MarketCoverage(market) for market in markets}
    for kind in SERIES.values():
        group = ["market_id", "interval"] if kind.per_interval else ["market_id"]
        rows = (
            kind.model.objects.filter(market_id__in=by_id)
            .values(*group)
            .annotate(first=Min("time"), last=Max("time"), rows=Count("pk"))
            .order_by(*group)
        )
        for row in rows:
            by_id[row["market_id"]].series.append(
                SeriesCoverage(kind.label, row.get("interval"), row["first"], row["last"], row["rows"])
            )
    order = {kind.label: position for position, kind in enumerate(SERIES.values())}
    for item in by_id.values():
        item.series.sort(key=lambda s: (order[s.kind], INTERVAL_SECONDS.get(s.interval or "", 0)))
    return list(by_id.values())


DAY = timedelta(hours=24)


@dataclass(frozen=True)
class MarketPrice:
    """A market's newest stored close and how it moved over the 24 hours before it."""

    close: float
    time: datetime  # open time of the candle it closes
    interval: str
    change_24h_pct: float | None  # None when no candle lies 24 h (± one step) earlier


def market_prices(markets: Iterable[Market]) -> dict[int, MarketPrice]:
    """The last price of each market: the close of its newest candle, with its change over 24 hours.

    Read from the interval whose newest candle is newest (the finest on a tie),
    the same for a page, a watchlist row or a coin, so one market never shows two
    prices. One query whatever the number of markets: per interval, correlated
    subqueries that each seek the (market, interval, time) index.
    """
    markets = list(markets)
    intervals = sorted({i for m in markets for i in m.intervals if i in INTERVAL_SECONDS}, key=INTERVAL_SECONDS.__getitem__)
    if not markets or not intervals:
        return {}
    columns = {}
    for interval in intervals:
        newest = Candle.objects.filter(market=OuterRef("pk"), interval=interval).order_by("-time")
        columns[f"time_{interval}"] = Subquery(newest.values("time")[:1])
        columns[f"close_{interval}"] = Subquery(newest.values("close")[:1])
        day_before = ExpressionWrapper(OuterRef(f"time_{interval}") - DAY, output_field=DateTimeField())
        earlier = Candle.objects.filter(market=OuterRef("pk"), interval=interval, time__lte=day_before).order_by("-time")
        columns[f"then_time_{interval}"] = Subquery(earlier.values("time")[:1])
        columns[f"then_close_{interval}"] = Subquery(earlier.values("close")[:1])
    rows = Market.objects.filter(pk__in=[m.pk for m in markets]).annotate(**columns).values("pk", *columns)
    prices = {}
    for row in rows:
        found = [i for i in intervals if row[f"time_{i}"] is not None]
        if not found:
            continue
        # Newest candle first; on equal times the finer interval (listed first) wins.
        interval = max(found, key=lambda i: (row[f"time_{i}"], -INTERVAL_SECONDS[i]))
        close, time = row[f"close_{interval}"], row[f"time_{interval}"]
        then_close, then_time = row[f"then_close_{interval}"], row[f"then_time_{interval}"]
        step = timedelta(seconds=INTERVAL_SECONDS[interval])
        change = None
        # Across a gap the candle before is not "24 hours ago": no change rather than a misleading one.
        if then_close and then_time is not None and time - then_time <= DAY + step:
            change = (close - then_close) / then_close * 100
        prices[row["pk"]] = MarketPrice(close=close, time=time, interval=interval, change_24h_pct=change)
    return prices
