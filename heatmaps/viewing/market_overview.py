"""The market picker (the home page): every market with its price, open interest and nearest bands.

Everything is read from what is stored: the newest candles (``markets.selectors.market_prices``)
and the analysis the computation wrote beside each grid (``GridSnapshot.analysis``); nothing
is computed on request. A fixed number of queries whatever the number of markets: the
markets, their prices, which grid each shows by default, and those grids' analyses.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from grids.models import GridSnapshot, LongShareMethod
from liqsite.exchanges import INTERVAL_SECONDS
from markets.models import Market
from markets.selectors import MarketPrice, market_prices


@dataclass(frozen=True)
class Band:
    price: float
    usd: float
    distance_pct: float  # from the market's last price, signed


@dataclass(frozen=True)
class MarketRow:
    market: Market
    price: MarketPrice | None
    interval: str  # of the grid the bands are read from ("" when none is stored)
    map_as_of: datetime | None  # last step of that grid
    oi_usd: float | None  # open interest now, in USD (base units × the map's close)
    oi_trend: str  # rising / flat / falling / unknown ("" without a grid)
    oi_change_pct: float | None
    oi_hours: float | None
    above: Band | None  # the nearest band above the last price
    below: Band | None
    status: str  # ok / error / stopped / inactive / exchange disabled / exchange banned
    status_detail: str = ""

    @property
    def map_behind(self) -> bool:
        """The map ends more than one step before the last candle (its open interest stopped earlier)."""
        if self.price is None or self.map_as_of is None:
            return False
        return self.price.time - self.map_as_of > timedelta(seconds=INTERVAL_SECONDS.get(self.interval, 0))

    @property
    def change_24h_pct(self) -> float | None:
        return self.price.change_24h_pct if self.price else None


# What each column sorts on; rows without the value go last whatever the direction.
SORT_KEYS = {
    "market": lambda row: row.market.symbol.lower(),
    "exchange": lambda row: row.market.exchange.label.lower(),
    "price": lambda row: row.price.close if row.price else None,
    "change": lambda row: row.change_24h_pct,
    "oi": lambda row: row.oi_usd,
    "oi_change": lambda row: row.oi_change_pct,
    "above": lambda row: row.above.distance_pct if row.above else None,
    "below": lambda row: -row.below.distance_pct if row.below else None,
}
DEFAULT_SORT = "oi"


def market_status(market: Market) -> tuple[str, str]:
    """One word for whether the market's data is being kept up to date, and why not."""
    exchange = market.exchange
    if not exchange.enabled:
        return "exchange disabled", "the exchange is disabled in the admin: nothing is refreshed"
    if exchange.ban_remaining() > 0:
        return "exchange banned", f"the exchange banned this server until {exchange.banned_until:%Y-%m-%d %H:%M} UTC"
    if market.last_error:
        return ("error" if market.active else "stopped"), market.last_error
    if not market.active:
        return "inactive", "not refreshed periodically"
    return "ok", ""


def _default_grids(market_ids: list[int]) -> dict[int, GridSnapshot]:
    """Per market, the grid its heatmap shows by default (finest interval, fixed share first), with its analysis.

    Two queries: the small (id, interval, method) rows of every snapshot, then the analyses of the chosen ones.
    """
    candidates: dict[int, tuple] = {}
    rows = GridSnapshot.objects.filter(market_id__in=market_ids).values_list("pk", "market_id", "interval", "long_share_method")
    for pk, market_id, interval, method in rows:
        rank = (INTERVAL_SECONDS.get(interval, 1 << 40), method != LongShareMethod.FIXED, method)
        if market_id not in candidates or rank < candidates[market_id][0]:
            candidates[market_id] = (rank, pk)
    chosen = GridSnapshot.objects.filter(pk__in=[pk for _, pk in candidates.values()]).only(
        "pk", "market_id", "interval", "analysis"
    )
    return {grid.market_id: grid for grid in chosen}


def _nearest(bands: list[dict], side: str, price: float) -> Band | None:
    """The band nearest the last price on one side. Distances are from the last price, which may be newer
    than the map: a band the price has since moved through is no longer on that side and is left out."""
    best = None
    for band in bands:
        if band.get("side") != side or not band.get("price"):
            continue
        distance = (band["price"] - price) / price * 100
        if (side == "above") != (distance > 0):
            continue
        if best is None or abs(distance) < abs(best.distance_pct):
            best = Band(price=band["price"], usd=band.get("usd") or 0.0, distance_pct=distance)
    return best


def market_rows(*, search: str = "", sort: str = DEFAULT_SORT, descending: bool = True) -> list[MarketRow]:
    """Every market matching ``search`` (symbol, base, quote or exchange), sorted on one column."""
    markets = list(Market.objects.select_related("exchange"))
    needle = search.strip().lower()
    if needle:
        markets = [
            m
            for m in markets
            if any(needle in text.lower() for text in (m.symbol, m.base, m.quote, m.exchange.label, m.exchange.plugin))
        ]
    prices = market_prices(markets)
    grids = _default_grids([m.pk for m in markets])
    rows = []
    for market in markets:
        price = prices.get(market.pk)
        grid = grids.get(market.pk)
        analysis = grid.analysis if grid and isinstance(grid.analysis, dict) else {}
        oi = analysis.get("oi") or {}
        close = analysis.get("close")
        reference = price.close if price else close
        bands = analysis.get("bands") or []
        status, detail = market_status(market)
        rows.append(
            MarketRow(
                market=market,
                price=price,
                interval=grid.interval if grid else "",
                map_as_of=datetime.fromisoformat(analysis["as_of"]) if analysis.get("as_of") else None,
                oi_usd=oi["now"] * close if oi.get("now") and close else None,
                oi_trend=oi.get("trend", "") if grid else "",
                oi_change_pct=oi.get("change_pct"),
                oi_hours=oi.get("hours"),
                above=_nearest(bands, "above", reference) if reference else None,
                below=_nearest(bands, "below", reference) if reference else None,
                status=status,
                status_detail=detail,
            )
        )
    return sort_rows(rows, sort, descending)


def sort_rows(rows: list[MarketRow], sort: str, descending: bool) -> list[MarketRow]:
    key = SORT_KEYS.get(sort, SORT_KEYS[DEFAULT_SORT])
    present = [row for row in rows if key(row) is not None]
    missing = [row for row in rows if key(row) is None]
    return sorted(present, key=key, reverse=descending) + sorted(missing, key=SORT_KEYS["market"])
