"""Binance USDⓈ-M bodies and stream messages → the core's dataclasses. Pure functions, no I/O.

Each parser reads a whole page and raises ``ExchangeError`` (naming the
endpoint and field) before returning anything, so a bad page is never
partly stored.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from liqsite.exchanges import Candle, FundingRatePoint, Instrument, LiquidationEvent, LongShortPoint, OpenInterestPoint
from liqsite.exchanges.http import ResponseReader

EXCHANGE = "Binance USDS-M"  # shown on pages in error texts: ASCII S, see BinanceExchange.label

# Binance's force-order stream pushes at most one liquidation per symbol per
# second (the latest in that second), so totals from it are a lower bound.
FORCE_ORDER_NOTICE = (
    "Binance publishes at most one liquidation per symbol per second on its public stream "
    "(the latest of that second), so Binance liquidation totals shown here are a lower bound."
)


def unwrap(body: Any, reader: ResponseReader) -> Any:
    """Binance answers errors as ``{"code": -1121, "msg": "Invalid symbol."}``, and some with HTTP 200 as
    ``{"status": "ERROR", "type": "GENERAL", "code": "99099990", "errorData": "illegal params.", "data": null}``."""
    if isinstance(body, dict) and body.get("status") == "ERROR":
        # This gateway envelope answers parameters the endpoint refuses (e.g. a limit above its
        # maximum): asking again with the same request cannot succeed, so it is permanent.
        detail = body.get("errorData") or body.get("msg") or "no detail given"
        kind = f" {body['type']}" if body.get("type") else ""
        raise reader.permanent(f"error {body.get('code')}{kind}: {detail}")
    if isinstance(body, dict) and "code" in body and "msg" in body and body.get("code") not in (0, 200):
        code = body.get("code")
        # -1003 TOO_MANY_REQUESTS and -1001 DISCONNECTED are worth retrying; the rest are about the request.
        if code in (-1003, -1001, -1007):
            raise reader.transient(f"error {code}: {body.get('msg')}")
        raise reader.permanent(f"error {code}: {body.get('msg')}")
    return body


def klines(body: Any, reader: ResponseReader) -> list[Candle]:
    """``/fapi/v1/klines``: ``[openTime, o, h, l, c, volume, closeTime, quoteVolume, trades, takerBuyBase, ...]``."""
    rows = reader.sequence(body, "body")
    candles = []
    for index, row in enumerate(rows):
        where = f"[{index}]"
        reader.sequence(row, where)
        if len(row) < 10:
            raise reader.malformed(f"a kline has {len(row)} fields, expected at least 10 (through takerBuyBaseVolume)", where)
        value = lambda position, name: reader.number(row[position], f"{where}.{name}")  # noqa: E731
        candles.append(
            Candle(
                time=reader.time_ms(row[0], f"{where}.openTime"),
                open=value(1, "open"),
                high=value(2, "high"),
                low=value(3, "low"),
                close=value(4, "close"),
                volume=value(5, "volume"),
                taker_buy_volume=value(9, "takerBuyBaseVolume"),
            )
        )
    return list(reader.ascending(candles, "openTime"))


def open_interest_hist(body: Any, reader: ResponseReader) -> list[OpenInterestPoint]:
    """``/futures/data/openInterestHist``: ``sumOpenInterest`` is already in base units."""
    points = []
    for index, row in enumerate(reader.sequence(body, "body")):
        where = f"[{index}]"
        points.append(
            OpenInterestPoint(
                time=reader.time_ms(reader.field(row, "timestamp", where), f"{where}.timestamp"),
                open_interest=reader.number(reader.field(row, "sumOpenInterest", where), f"{where}.sumOpenInterest"),
                open_interest_usd=reader.optional_number(row.get("sumOpenInterestValue"), f"{where}.sumOpenInterestValue"),
            )
        )
    return list(reader.ascending(points, "timestamp"))


def funding_rates(body: Any, reader: ResponseReader) -> list[FundingRatePoint]:
    """``/fapi/v1/fundingRate`` (``markPrice`` is newer and optional, so not required)."""
    points = []
    for index, row in enumerate(reader.sequence(body, "body")):
        where = f"[{index}]"
        points.append(
            FundingRatePoint(
                time=reader.time_ms(reader.field(row, "fundingTime", where), f"{where}.fundingTime"),
                rate=reader.number(reader.field(row, "fundingRate", where), f"{where}.fundingRate"),
            )
        )
    return list(reader.ascending(points, "fundingTime"))


def long_short_ratios(body: Any, reader: ResponseReader) -> list[LongShortPoint]:
    """``/futures/data/globalLongShortAccountRatio``: ``longAccount`` is the long share already."""
    points = []
    for index, row in enumerate(reader.sequence(body, "body")):
        where = f"[{index}]"
        share = reader.number(reader.field(row, "longAccount", where), f"{where}.longAccount")
        if not 0 <= share <= 1:
            raise reader.malformed(f"long share {share} outside [0, 1]", f"{where}.longAccount")
        points.append(LongShortPoint(reader.time_ms(reader.field(row, "timestamp", where), f"{where}.timestamp"), share))
    return list(reader.ascending(points, "timestamp"))


def exchange_info(body: Any, reader: ResponseReader) -> tuple[list[Instrument], dict[str, int]]:
    """``/fapi/v1/exchangeInfo`` → trading perpetuals, and each one's listing time (ms)."""
    symbols = reader.sequence(reader.field(reader.mapping(body, "body"), "symbols"), "symbols")
    instruments, listed = [], {}
    for index, raw in enumerate(symbols):
        where = f"symbols[{index}]"
        if raw.get("contractType") != "PERPETUAL" or raw.get("status") != "TRADING":
            continue
        symbol = reader.field(raw, "symbol", where)
        tick = None
        for rule in raw.get("filters") or ():
            if rule.get("filterType") == "PRICE_FILTER":
                tick = reader.number(reader.field(rule, "tickSize", f"{where}.PRICE_FILTER"), f"{where}.PRICE_FILTER.tickSize")
        instruments.append(
            Instrument(
                symbol=symbol,
                base=reader.field(raw, "baseAsset", where),
                quote=reader.field(raw, "quoteAsset", where),
                contract_type="linear",
                contract_size=1.0,
                tick_size=tick,
            )
        )
        if raw.get("onboardDate"):
            listed[symbol] = int(reader.number(raw["onboardDate"], f"{where}.onboardDate"))
    return instruments, listed


def force_order(message: str | bytes, symbols: Sequence[str] | None = None) -> list[LiquidationEvent]:
    """One ``forceOrder`` stream message (raw, or wrapped as ``{"stream", "data"}``) → events.

    ``S`` is the side of the forced order: a SELL closes a long, so the
    liquidated position is long. Price is the average fill price ``ap`` when
    set, else the order price ``p``; quantity is the filled amount ``z``.
    """
    reader = ResponseReader(EXCHANGE, "forceOrder stream")
    try:
        payload = json.loads(message)
    except ValueError:
        raise reader.malformed(f"not JSON: {str(message)[:60]!r}") from None
    if isinstance(payload, dict) and "data" in payload and "stream" in payload:
        payload = payload["data"]
    if isinstance(payload, dict) and "result" in payload and "id" in payload:
        return []  # a reply to a SUBSCRIBE request
    payload = reader.mapping(payload, "message")
    if payload.get("e") != "forceOrder":
        return []
    order = reader.mapping(reader.field(payload, "o"), "o")
    symbol = reader.field(order, "s", "o")
    if symbols is not None and symbol not in symbols:
        return []
    side = reader.field(order, "S", "o")
    if side not in ("BUY", "SELL"):
        raise reader.malformed(f"unknown side {side!r}", "o.S")
    price = reader.number(order.get("ap") or "0", "o.ap") or reader.number(reader.field(order, "p", "o"), "o.p")
    quantity = reader.number(order.get("z") or reader.field(order, "q", "o"), "o.z")
    if price <= 0 or quantity <= 0:
        raise reader.malformed(f"price {price} and quantity {quantity} must be positive", "o.p")
    return [
        LiquidationEvent(
            symbol=symbol,
            time=reader.time_ms(reader.field(order, "T", "o"), "o.T"),
            side="long" if side == "SELL" else "short",
            price=price,
            quantity=quantity,
            usd=price * quantity,
        )
    ]
