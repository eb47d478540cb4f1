"""Read-side queries for pages (writes live in services)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, Max, Min

from heatmaps.models import Market
from heatmaps.series import SERIES
from liqsite.exchanges import INTERVAL_SECONDS


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
            .values(*group).annotate(first=Min("time"), last=Max("time"), rows=Count("pk")).order_by(*group)
        )
        for row in rows:
            by_id[row["market_id"]].series.append(
                SeriesCoverage(kind.label, row.get("interval"), row["first"], row["last"], row["rows"])
            )
    order = {kind.label: position for position, kind in enumerate(SERIES.values())}
    for item in by_id.values():
        item.series.sort(key=lambda s: (order[s.kind], INTERVAL_SECONDS.get(s.interval or "", 0)))
    return list(by_id.values())
