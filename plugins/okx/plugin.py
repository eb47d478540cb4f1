"""OKX v5 perpetual swaps over the public REST API.

Endpoints (https://www.okx.com/docs-v5/en/): ``/api/v5/market/history-candles``
(``after`` = older than, ``before`` = newer than; 20 requests / 2 s),
``/api/v5/rubik/stat/contracts/open-interest-history`` and
``…/long-short-account-ratio-contract`` (``begin``/``end``, limit ≤ 100, only
the latest 1,440 entries; 10 and 5 requests / 2 s), ``/api/v5/public/funding-rate-history``
(three months; 10 / 2 s), ``/api/v5/public/position-tiers`` and
``/api/v5/public/instruments``. Page sizes stay at 100 rows, which every
version of these endpoints accepts.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

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
from plugins.okx import parse

PAGE_LIMIT = 100
STATS_ENTRIES = 1440  # the rubik endpoints keep the latest 1,440 entries
FUNDING_HISTORY = timedelta(days=90)
# UTC-aligned bars (OKX's 1D is aligned to UTC+8; 1Dutc to UTC).
BAR = {"1m": "1m", "5m": "5m", "15m": "15m", "30m": "30m", "1h": "1H", "2h": "2H", "4h": "4H", "1d": "1Dutc"}
STATS_PERIOD = {"1m": "5m", "5m": "5m", "15m": "15m", "30m": "30m", "1h": "1H", "2h": "2H", "4h": "4H", "1d": "1Dutc"}
PERIOD_SECONDS = {"5m": 300, "15m": 900, "30m": 1800, "1H": 3600, "2H": 7200, "4H": 14400, "1Dutc": 86400}
STREAM_URL = "wss://ws.okx.com:8443/ws/v5/public"

# Half of OKX's published per-endpoint limits.
_CANDLES = http.shared_limiter("okx:history-candles", 10, 2)
_OPEN_INTEREST = http.shared_limiter("okx:open-interest-history", 5, 2)
_RATIO = http.shared_limiter("okx:long-short-ratio", 2, 2)
_FUNDING = http.shared_limiter("okx:funding-rate-history", 5, 2)
_PUBLIC = http.shared_limiter("okx:public", 5, 2)


class OkxExchange(HttpExchangePlugin):
    """OKX perpetual swaps: candles, OI, funding, long/short, position tiers, liquidations."""

    label = "OKX"
    description = (
        "OKX v5 perpetual swaps (USDT- and coin-margined) over the public REST API; liquidations from liquidation-orders."
    )
    intervals = tuple(BAR)
    default_settings = {**HttpExchangePlugin.default_settings, "base_url": "https://www.okx.com"}
    unwrap = staticmethod(parse.unwrap)

    def __init__(self, settings=None, *, transport=None):
        super().__init__(settings, transport=transport)
        self._known: dict[str, Instrument] = {}
        self._extra: dict[str, dict] = {}

    def _get(self, path, params, parser, *, limiter, **options):
        data = self.http.get_json(path, params, limiter=limiter)
        return parser(data, ResponseReader(self.label, path), **options)

    # --- metadata ---------------------------------------------------------------
    def _listing(self, symbol: str | None = None) -> list[Instrument]:
        params = {"instType": "SWAP", **({"instId": symbol} if symbol else {})}
        found, extra = self._get("/api/v5/public/instruments", params, parse.instruments, limiter=_PUBLIC)
        self._known.update((instrument.symbol, instrument) for instrument in found)
        self._extra.update(extra)
        return found

    def instruments(self) -> Sequence[Instrument]:
        return self._listing()

    def instrument(self, symbol: str) -> Instrument:
        if symbol not in self._known:
            self._listing(symbol)
            if symbol not in self._known:
                raise ExchangeError(f"unknown symbol {symbol!r} (no live SWAP)", permanent=True, exchange=self.label)
        return self._known[symbol]

    def _last_price(self, symbol: str) -> float:
        """The close of the latest 1m candle: the price tiers in contracts are converted at."""
        latest = self._get(
            "/api/v5/market/history-candles", {"instId": symbol, "bar": "1m", "limit": 1}, parse.candles, limiter=_CANDLES
        )
        if not latest:
            raise ExchangeError(
                "no recent candle to price the position tiers with",
                exchange=self.label,
                endpoint="/api/v5/market/history-candles",
            )
        return latest[-1].close

    def margin_tiers(self, symbol: str) -> Sequence[MarginTier]:
        """Cross-margin tiers, converted from contracts to notional at the current price.

        OKX bounds tiers by position size, not value, so the notional bounds
        move with the price; they are recomputed on every refresh.
        """
        instrument = self.instrument(symbol)
        price = self._last_price(symbol)
        per_contract = (
            instrument.contract_size / price if instrument.contract_type == "inverse" else instrument.contract_size * price
        )
        params = {
            "instType": "SWAP",
            "tdMode": "cross",
            "instFamily": self._extra.get(symbol, {}).get("family") or f"{instrument.base}-{instrument.quote}",
        }
        return tuple(
            self._get(
                "/api/v5/public/position-tiers",
                params,
                parse.position_tiers,
                limiter=_PUBLIC,
                units_to_notional=per_contract,
                inverse=instrument.contract_type == "inverse",
            )
        )

    def listed_ms(self, symbol: str) -> int | None:
        self.instrument(symbol)
        return self._extra.get(symbol, {}).get("listed_ms")

    # --- series -------------------------------------------------------------------
    def candles(self, symbol: str, interval: str, since: datetime | None) -> Iterable[Sequence[Candle]]:
        self.instrument(symbol)  # an unknown symbol is a permanent error before any page
        step = INTERVAL_SECONDS[interval] * 1000
        start = floor_ms(self.start_ms(symbol, since), step)

        def fetch(lo, hi):
            # ``before`` and ``after`` are exclusive: (lo - 1, hi) is the window [lo, hi).
            params = {"instId": symbol, "bar": BAR[interval], "before": lo - 1, "after": hi, "limit": PAGE_LIMIT}
            return self._get("/api/v5/market/history-candles", params, parse.candles, limiter=_CANDLES)

        return fetch_windows(
            fetch,
            start_ms=start,
            end_ms=to_ms(http.utc_now()),
            step_ms=step * PAGE_LIMIT,
            since_ms=to_ms(since) if since else None,
        )

    def _statistics(self, path, parser, limiter, symbol, interval, since):
        period = STATS_PERIOD[interval]
        step = PERIOD_SECONDS[period] * 1000
        now_ms = to_ms(http.utc_now())
        earliest = floor_ms(now_ms, step) - (STATS_ENTRIES - 1) * step
        start = floor_ms(self.start_ms(symbol, since, earliest), step)
        every = INTERVAL_SECONDS[interval] * 1000

        def fetch(lo, hi):
            params = {"instId": symbol, "period": period, "begin": lo - 1, "end": hi, "limit": PAGE_LIMIT}
            return self._get(path, params, parser, limiter=limiter)

        return fetch_windows(
            fetch,
            start_ms=start,
            end_ms=now_ms,
            step_ms=step * PAGE_LIMIT,
            since_ms=to_ms(since) if since else None,
            keep=(lambda row: to_ms(row.time) % every == 0) if every > step else None,
        )

    def open_interest(self, symbol: str, interval: str, since: datetime | None) -> Iterable[Sequence[OpenInterestPoint]]:
        return self._statistics(
            "/api/v5/rubik/stat/contracts/open-interest-history",
            parse.open_interest_history,
            _OPEN_INTEREST,
            symbol,
            interval,
            since,
        )

    def long_short_ratios(self, symbol: str, interval: str, since: datetime | None) -> Iterable[Sequence[LongShortPoint]]:
        return self._statistics(
            "/api/v5/rubik/stat/contracts/long-short-account-ratio-contract",
            parse.long_short_ratio,
            _RATIO,
            symbol,
            interval,
            since,
        )

    def funding_rates(self, symbol: str, since: datetime | None) -> Iterable[Sequence[FundingRatePoint]]:
        now = http.utc_now()
        start = self.start_ms(symbol, since, to_ms(now - FUNDING_HISTORY))

        def fetch(lo, hi):
            params = {"instId": symbol, "before": lo - 1, "after": hi, "limit": PAGE_LIMIT}
            return self._get("/api/v5/public/funding-rate-history", params, parse.funding_rate_history, limiter=_FUNDING)

        # Funding settles at most hourly: 100-hour windows hold at most one page.
        return fetch_windows(
            fetch, start_ms=start, end_ms=to_ms(now), step_ms=3_600_000 * PAGE_LIMIT, since_ms=to_ms(since) if since else None
        )

    # --- liquidations ---------------------------------------------------------------
    def liquidation_streams(self, symbols: Sequence[str]) -> Sequence[LiquidationStream]:
        """One connection to ``liquidation-orders`` (all swaps), kept to the asked symbols."""
        if not symbols:
            return ()
        wanted = {symbol: self.instrument(symbol) for symbol in symbols}
        subscribe = json.dumps(
            {"op": "subscribe", "args": [{"channel": "liquidation-orders", "instType": "SWAP"}]}, separators=(",", ":")
        )
        return (
            LiquidationStream(
                name="liquidation-orders SWAP",
                url=STREAM_URL,
                parse=lambda message: parse.liquidation_orders(message, wanted),
                # OKX closes a connection silent for 30 s; "ping" is answered with "pong".
                subscribe=(subscribe,),
                ping_message="ping",
                ping_interval=25.0,
            ),
        )
