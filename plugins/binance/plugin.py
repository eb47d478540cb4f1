"""Binance USDⓈ-M futures over its public REST API.

Endpoints (https://developers.binance.com/docs/derivatives/usds-margined-futures):
``/fapi/v1/klines`` (limit ≤ 1500, weight 10 at that size), ``/fapi/v1/fundingRate``
(limit ≤ 1000, ascending from ``startTime``), ``/futures/data/openInterestHist`` and
``/futures/data/globalLongShortAccountRatio`` (limit ≤ 500, only the latest 30
days, 1000 requests / 5 min / IP), ``/fapi/v1/exchangeInfo``. Maintenance
tiers come from a bundled table because ``/fapi/v1/leverageBracket`` needs a key.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from liqsite.exchanges import (
    INTERVAL_SECONDS,
    INTERVALS,
    Candle,
    FundingRatePoint,
    Instrument,
    LongShortPoint,
    MarginTier,
    OpenInterestPoint,
    http,
)
from liqsite.exchanges.http import ResponseReader, ceil_ms, fetch_windows, floor_ms, to_ms
from liqsite.exchanges.http_plugin import HttpExchangePlugin
from liqsite.exchanges.streams import LiquidationStream
from plugins.binance import parse
from plugins.binance.tiers import bundled_tiers

KLINE_LIMIT = 1500
STATS_LIMIT = 500
FUNDING_LIMIT = 1000
STATS_HISTORY = timedelta(days=30)
# The statistics endpoints keep these periods; a finer interval reads the
# nearest coarser period, a coarser one keeps the readings on its boundaries.
STATS_PERIOD = {"1m": "5m", "5m": "5m", "15m": "15m", "30m": "30m", "1h": "1h", "2h": "2h", "4h": "4h", "8h": "4h", "1d": "1d"}
STREAM_URL = "wss://fstream.binance.com/stream?streams="

# Half of Binance's published budgets, leaving room for other clients on the same IP.
_WEIGHT = http.shared_limiter("binance:weight", 1200, 60)  # REQUEST_WEIGHT 2400 / min
_STATS = http.shared_limiter("binance:futures-data", 500, 300)  # 1000 requests / 5 min
_FUNDING = http.shared_limiter("binance:funding", 250, 300)  # 500 / 5 min, shared with fundingInfo


def _kline_weight(limit: int) -> int:
    return 1 if limit < 100 else 2 if limit < 500 else 5 if limit <= 1000 else 10


class BinanceExchange(HttpExchangePlugin):
    """Binance USDⓈ-M perpetuals: candles with taker-buy volume, OI, funding, long/short, tiers, liquidations."""

    # "USDS-M", not Binance's "USDⓈ-M": no font Debian's Chromium has draws the circled S (issue 14).
    label = "Binance USDS-M"
    description = "Binance USDS-M perpetual futures over the public REST API; liquidations from the forceOrder stream."
    intervals = INTERVALS
    # Shown beside Binance liquidations on pages.
    liquidation_notice = parse.FORCE_ORDER_NOTICE
    default_settings = {**HttpExchangePlugin.default_settings, "base_url": "https://fapi.binance.com"}
    unwrap = staticmethod(parse.unwrap)

    def __init__(self, settings=None, *, transport=None):
        super().__init__(settings, transport=transport)
        self._instruments: list[Instrument] | None = None
        self._listed_ms: dict[str, int] = {}

    def _get(self, path, params, parser, *, weight=1, limiter=_WEIGHT):
        body = self.http.get_json(path, params, weight=weight, limiter=limiter)
        return parser(body, ResponseReader(self.label, path))

    # --- metadata ---------------------------------------------------------------
    def instruments(self) -> Sequence[Instrument]:
        if self._instruments is None:
            self._instruments, self._listed_ms = self._get("/fapi/v1/exchangeInfo", {}, parse.exchange_info)
        return self._instruments

    def margin_tiers(self, symbol: str) -> Sequence[MarginTier]:
        return bundled_tiers(symbol)

    def listed_ms(self, symbol: str) -> int | None:
        self.instrument(symbol)
        return self._listed_ms.get(symbol)

    # --- series -------------------------------------------------------------------
    def candles(self, symbol: str, interval: str, since: datetime | None) -> Iterable[Sequence[Candle]]:
        step = INTERVAL_SECONDS[interval] * 1000
        start = floor_ms(self.start_ms(symbol, since), step)

        def fetch(lo, hi):
            params = {"symbol": symbol, "interval": interval, "startTime": lo, "endTime": hi - 1, "limit": KLINE_LIMIT}
            return self._get("/fapi/v1/klines", params, parse.klines, weight=_kline_weight(KLINE_LIMIT))

        return fetch_windows(
            fetch,
            start_ms=start,
            end_ms=to_ms(http.utc_now()),
            step_ms=step * KLINE_LIMIT,
            since_ms=to_ms(since) if since else None,
        )

    def _statistics(self, path, parser, symbol, interval, since):
        period = STATS_PERIOD[interval]
        step = INTERVAL_SECONDS[period] * 1000
        now = http.utc_now()
        # Only the latest 30 days exist; start one period inside that edge.
        earliest_ms = ceil_ms(to_ms(now - STATS_HISTORY), step) + step
        start = floor_ms(self.start_ms(symbol, since, earliest_ms), step)
        keep_every = INTERVAL_SECONDS[interval] * 1000

        def fetch(lo, hi):
            params = {"symbol": symbol, "period": period, "startTime": lo, "endTime": hi - 1, "limit": STATS_LIMIT}
            return self._get(path, params, parser, limiter=_STATS)

        return fetch_windows(
            fetch,
            start_ms=start,
            end_ms=to_ms(now),
            step_ms=step * STATS_LIMIT,
            since_ms=to_ms(since) if since else None,
            keep=(lambda row: to_ms(row.time) % keep_every == 0) if keep_every > step else None,
        )

    def open_interest(self, symbol: str, interval: str, since: datetime | None) -> Iterable[Sequence[OpenInterestPoint]]:
        return self._statistics("/futures/data/openInterestHist", parse.open_interest_hist, symbol, interval, since)

    def long_short_ratios(self, symbol: str, interval: str, since: datetime | None) -> Iterable[Sequence[LongShortPoint]]:
        return self._statistics("/futures/data/globalLongShortAccountRatio", parse.long_short_ratios, symbol, interval, since)

    def funding_rates(self, symbol: str, since: datetime | None) -> Iterable[Sequence[FundingRatePoint]]:
        # Funding has its own cadence (8h, 4h, 1h): page by cursor, not by window.
        start = self.start_ms(symbol, since)
        now_ms = to_ms(http.utc_now())
        while start <= now_ms:
            params = {"symbol": symbol, "startTime": start, "limit": FUNDING_LIMIT}
            page = self._get("/fapi/v1/fundingRate", params, parse.funding_rates, limiter=_FUNDING)
            rows = [row for row in page if to_ms(row.time) >= start]
            if rows:
                yield rows
            if len(page) < FUNDING_LIMIT or not rows:
                return
            start = to_ms(rows[-1].time) + 1

    # --- liquidations ---------------------------------------------------------------
    def liquidation_streams(self, symbols: Sequence[str]) -> Sequence[LiquidationStream]:
        """One combined connection with each symbol's ``<symbol>@forceOrder`` stream."""
        if not symbols:
            return ()
        names = "/".join(f"{symbol.lower()}@forceOrder" for symbol in symbols)
        wanted = frozenset(symbols)
        return (
            LiquidationStream(
                name=names[:100],
                url=STREAM_URL + names,
                parse=lambda message: parse.force_order(message, wanted),
            ),
        )
