"""Bybit v5 linear (USDT/USDC) and inverse perpetuals over the public REST API.

Endpoints (https://bybit-exchange.github.io/docs/v5/market/): ``kline``
(limit ≤ 1000, newest first), ``open-interest`` (intervalTime 5min…1d,
limit ≤ 200, back to the symbol's launch), ``funding/history`` (limit ≤ 200;
``startTime`` alone is an error, so both ends are sent), ``account-ratio``
(period 5min…1d, limit ≤ 500, from 2020-07-20), ``risk-limit`` and
``instruments-info``. Every request names its ``category`` (linear or
inverse), found from the instrument.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from liqsite.exchanges import (
    INTERVAL_SECONDS,
    Candle,
    ExchangeError,
    FundingRatePoint,
    Instrument,
    LongShortPoint,
    MarginTier,
    OpenInterestPoint,
    http,
)
from liqsite.exchanges.http import ResponseReader, fetch_windows, floor_ms, to_ms
from liqsite.exchanges.http_plugin import HttpExchangePlugin
from liqsite.exchanges.streams import LiquidationStream
from plugins.bybit import parse

KLINE_LIMIT = 1000
OI_LIMIT = 200
FUNDING_LIMIT = 200
RATIO_LIMIT = 500
CATEGORIES = ("linear", "inverse")
KLINE_INTERVAL = {"1m": "1", "5m": "5", "15m": "15", "30m": "30", "1h": "60", "2h": "120", "4h": "240", "1d": "D"}
# Statistics periods Bybit keeps, per liqsite interval (finer intervals read the nearest coarser period).
STATS_PERIOD = {"1m": "5min", "5m": "5min", "15m": "15min", "30m": "30min", "1h": "1h", "2h": "1h", "4h": "4h", "1d": "1d"}
PERIOD_SECONDS = {"5min": 300, "15min": 900, "30min": 1800, "1h": 3600, "4h": 14400, "1d": 86400}
RATIO_EARLIEST = datetime(2020, 7, 20, tzinfo=UTC)
STREAM_URL = "wss://stream.bybit.com/v5/public/{category}"
SUBSCRIBE_BATCH = 10  # topics per subscribe request

# Bybit allows 600 requests per 5 s per IP; use half.
_REQUESTS = http.shared_limiter("bybit:requests", 300, 5)


class BybitExchange(HttpExchangePlugin):
    """Bybit linear and inverse perpetuals.

    Candles, OI (inverse converted to base), funding, long/short, risk limits, liquidations.
    """

    label = "Bybit"
    # Bybit's USDT-contract isolated formula charges maintenance margin on the
    # entry value (LP = E × (1 − 1/L + MMR)); its inverse formula follows Binance's.
    maintenance_basis = {"linear": "entry", "inverse": "liquidation"}
    description = "Bybit v5 linear (USDT/USDC) and inverse perpetuals over the public REST API; liquidations from allLiquidation."
    intervals = tuple(KLINE_INTERVAL)
    default_settings = {**HttpExchangePlugin.default_settings, "base_url": "https://api.bybit.com"}
    unwrap = staticmethod(parse.unwrap)

    def __init__(self, settings=None, *, transport=None):
        super().__init__(settings, transport=transport)
        self._known: dict[str, Instrument] = {}
        self._launched: dict[str, int] = {}

    def _get(self, path, params, parser, **options):
        result = self.http.get_json(path, params, limiter=_REQUESTS)
        return parser(result, ResponseReader(self.label, path), **options)

    # --- metadata ---------------------------------------------------------------
    def _listing(self, category: str, symbol: str | None = None) -> list[Instrument]:
        found, cursor = [], None
        while True:
            params = {
                "category": category,
                "limit": 1000,
                **({"symbol": symbol} if symbol else {}),
                **({"cursor": cursor} if cursor else {}),
            }
            page, launched, cursor = self._get("/v5/market/instruments-info", params, parse.instruments)
            found += page
            self._launched.update(launched)
            if not cursor or symbol:
                return found

    def instruments(self) -> Sequence[Instrument]:
        listing = [instrument for category in CATEGORIES for instrument in self._listing(category)]
        self._known.update((instrument.symbol, instrument) for instrument in listing)
        return listing

    def instrument(self, symbol: str) -> Instrument:
        """Looked up by symbol in each category (cheaper than listing every contract)."""
        if symbol not in self._known:
            for category in CATEGORIES:
                matches = [instrument for instrument in self._listing(category, symbol) if instrument.symbol == symbol]
                if matches:
                    self._known[symbol] = matches[0]
                    break
            else:
                raise ExchangeError(
                    f"unknown symbol {symbol!r} (no trading linear or inverse perpetual)", permanent=True, exchange=self.label
                )
        return self._known[symbol]

    def _category(self, symbol: str) -> str:
        return self.instrument(symbol).contract_type

    def margin_tiers(self, symbol: str) -> Sequence[MarginTier]:
        category, tiers, cursor = self._category(symbol), [], None
        while True:
            params = {"category": category, "symbol": symbol, **({"cursor": cursor} if cursor else {})}
            page, cursor = self._get("/v5/market/risk-limit", params, parse.risk_limits, symbol=symbol)
            tiers += page
            if not cursor:
                break
        # Each page chains its own floors; chain them again across pages.
        return tuple(parse.chain_floors(tiers))

    # --- where a fetch starts -----------------------------------------------------
    def listed_ms(self, symbol: str) -> int | None:
        self.instrument(symbol)  # category, launch time, and a permanent error for an unknown symbol
        return self._launched.get(symbol)

    # --- series -------------------------------------------------------------------
    def _klines(self, symbol: str, interval_code: str, lo: int, hi: int) -> list[Candle]:
        params = {
            "category": self._category(symbol),
            "symbol": symbol,
            "interval": interval_code,
            "start": lo,
            "end": hi - 1,
            "limit": KLINE_LIMIT,
        }
        return self._get("/v5/market/kline", params, parse.klines, inverse=self._category(symbol) == "inverse")

    def candles(self, symbol: str, interval: str, since: datetime | None) -> Iterable[Sequence[Candle]]:
        step = INTERVAL_SECONDS[interval] * 1000
        start = floor_ms(self.start_ms(symbol, since), step)
        return fetch_windows(
            lambda lo, hi: self._klines(symbol, KLINE_INTERVAL[interval], lo, hi),
            start_ms=start,
            end_ms=to_ms(http.utc_now()),
            step_ms=step * KLINE_LIMIT,
            since_ms=to_ms(since) if since else None,
        )

    def _keep_on(self, interval: str, period_ms: int):
        every = INTERVAL_SECONDS[interval] * 1000
        return (lambda row: to_ms(row.time) % every == 0) if every > period_ms else None

    def open_interest(self, symbol: str, interval: str, since: datetime | None) -> Iterable[Sequence[OpenInterestPoint]]:
        period = STATS_PERIOD[interval]
        step = PERIOD_SECONDS[period] * 1000
        start = floor_ms(self.start_ms(symbol, since), step)
        inverse = self._category(symbol) == "inverse"
        contract_size = self.instrument(symbol).contract_size
        kline_code = KLINE_INTERVAL[{"5min": "5m", "15min": "15m", "30min": "30m", "1h": "1h", "4h": "4h", "1d": "1d"}[period]]

        def fetch(lo, hi):
            params = {
                "category": self._category(symbol),
                "symbol": symbol,
                "intervalTime": period,
                "startTime": lo,
                "endTime": hi - 1,
                "limit": OI_LIMIT,
            }
            raw = self._get("/v5/market/open-interest", params, parse.open_interest)
            # Inverse open interest is in USD contracts: convert with the price at each reading.
            price_at = {c.time: c.open for c in self._klines(symbol, kline_code, lo, hi)} if inverse and raw else {}
            return parse.open_interest_points(raw, inverse=inverse, contract_size=contract_size, price_at=price_at)

        return fetch_windows(
            fetch,
            start_ms=start,
            end_ms=to_ms(http.utc_now()),
            step_ms=step * OI_LIMIT,
            since_ms=to_ms(since) if since else None,
            keep=self._keep_on(interval, step),
        )

    def long_short_ratios(self, symbol: str, interval: str, since: datetime | None) -> Iterable[Sequence[LongShortPoint]]:
        period = STATS_PERIOD[interval]
        step = PERIOD_SECONDS[period] * 1000
        start = floor_ms(self.start_ms(symbol, since, to_ms(RATIO_EARLIEST)), step)

        def fetch(lo, hi):
            params = {
                "category": self._category(symbol),
                "symbol": symbol,
                "period": period,
                "startTime": lo,
                "endTime": hi - 1,
                "limit": RATIO_LIMIT,
            }
            return self._get("/v5/market/account-ratio", params, parse.account_ratio)

        return fetch_windows(
            fetch,
            start_ms=start,
            end_ms=to_ms(http.utc_now()),
            step_ms=step * RATIO_LIMIT,
            since_ms=to_ms(since) if since else None,
            keep=self._keep_on(interval, step),
        )

    def funding_rates(self, symbol: str, since: datetime | None) -> Iterable[Sequence[FundingRatePoint]]:
        # Funding settles every 8h, 4h or 1h: windows of 200 hours hold at most one page.
        start = self.start_ms(symbol, since)

        def fetch(lo, hi):
            params = {
                "category": self._category(symbol),
                "symbol": symbol,
                "startTime": lo,
                "endTime": hi - 1,
                "limit": FUNDING_LIMIT,
            }
            return self._get("/v5/market/funding/history", params, parse.funding_history)

        return fetch_windows(
            fetch,
            start_ms=start,
            end_ms=to_ms(http.utc_now()),
            step_ms=3_600_000 * FUNDING_LIMIT,
            since_ms=to_ms(since) if since else None,
        )

    # --- liquidations ---------------------------------------------------------------
    def liquidation_streams(self, symbols: Sequence[str]) -> Sequence[LiquidationStream]:
        """One connection per category, subscribed to ``allLiquidation.<symbol>`` for each symbol."""
        streams = []
        inverse = frozenset(symbol for symbol in symbols if self._category(symbol) == "inverse")
        for category in CATEGORIES:
            chosen = [symbol for symbol in symbols if (symbol in inverse) == (category == "inverse")]
            if not chosen:
                continue
            topics = [f"allLiquidation.{symbol}" for symbol in chosen]
            subscribe = [
                http_json({"op": "subscribe", "args": topics[i : i + SUBSCRIBE_BATCH]})
                for i in range(0, len(topics), SUBSCRIBE_BATCH)
            ]
            streams.append(
                LiquidationStream(
                    name=",".join(topics)[:100],
                    url=STREAM_URL.format(category=category),
                    parse=lambda message, inverse=inverse: parse.all_liquidation(message, inverse_symbols=inverse),
                    subscribe=subscribe,
                    ping_message='{"op":"ping"}',
                    ping_interval=20.0,
                )
            )
        return streams


def http_json(payload) -> str:
    """Compact JSON for websocket requests."""
    return json.dumps(payload, separators=(",", ":"))
