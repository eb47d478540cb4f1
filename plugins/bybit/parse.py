"""Bybit v5 bodies and stream messages → the core's dataclasses. Pure functions, no I/O.

Bybit wraps every answer as ``{"retCode": 0, "retMsg": "OK", "result": {...}}``
and says errors with HTTP 200 and ``retCode`` ≠ 0. Inside ``result`` every
number is a string; lists come newest first and are reversed here.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any

from liqsite.exchanges import (
    Candle,
    ExchangeError,
    FundingRatePoint,
    Instrument,
    LiquidationEvent,
    LongShortPoint,
    MarginTier,
    OpenInterestPoint,
    chain_floors,
)
from liqsite.exchanges.http import ResponseReader

EXCHANGE = "Bybit"

# retCodes worth retrying: 10000 server timeout, 10006 too many visits,
# 10016 server error, 10429 system frequency protection.
TRANSIENT_CODES = {10000, 10006, 10016, 10429}


def unwrap(body: Any, reader: ResponseReader) -> Any:
    """The ``result`` of a successful answer; an ``ExchangeError`` carrying ``retMsg`` otherwise."""
    envelope = reader.mapping(body, "body")
    code = reader.field(envelope, "retCode")
    # The API sends an integer; some recordings (ccxt's) stringify it.
    try:
        code = int(code)
    except (TypeError, ValueError):
        raise reader.malformed(f"expected an integer, got {code!r}", "retCode") from None
    if code != 0:
        message = f"retCode {code}: {envelope.get('retMsg', '')}"
        if code in TRANSIENT_CODES:
            raise reader.transient(message)
        raise reader.permanent(message)
    return reader.mapping(reader.field(envelope, "result"), "result")


def _newest_first(rows: list, reader: ResponseReader, field: str, time_of=lambda row: row.time) -> list:
    rows.reverse()
    return list(reader.ascending(rows, field, time_of=time_of))


def klines(result: Any, reader: ResponseReader, *, inverse: bool) -> list[Candle]:
    """``/v5/market/kline``: ``[start, o, h, l, c, volume, turnover]`` newest first.

    Linear volume is in base coin; inverse volume is in USD contracts and its
    turnover is in the base coin, so the base volume of an inverse candle is the turnover.
    """
    candles = []
    for index, row in enumerate(reader.sequence(reader.field(result, "list", "result"), "result.list")):
        where = f"list[{index}]"
        reader.sequence(row, where)
        if len(row) < 7:
            raise reader.malformed(f"a kline has {len(row)} fields, expected 7", where)
        number = lambda position, name: reader.number(row[position], f"{where}.{name}")  # noqa: E731
        candles.append(
            Candle(
                time=reader.time_ms(row[0], f"{where}.startTime"),
                open=number(1, "open"),
                high=number(2, "high"),
                low=number(3, "low"),
                close=number(4, "close"),
                volume=number(6, "turnover") if inverse else number(5, "volume"),
            )
        )
    return _newest_first(candles, reader, "startTime")


def open_interest(result: Any, reader: ResponseReader) -> list[tuple[Any, float]]:
    """``/v5/market/open-interest`` → ``(time, openInterest)`` oldest first, in the contract's own unit
    (base coin for linear, USD for inverse; the plugin converts)."""
    points = []
    for index, row in enumerate(reader.sequence(reader.field(result, "list", "result"), "result.list")):
        where = f"list[{index}]"
        points.append(
            (
                reader.time_ms(reader.field(row, "timestamp", where), f"{where}.timestamp"),
                reader.number(reader.field(row, "openInterest", where), f"{where}.openInterest"),
            )
        )
    return _newest_first(points, reader, "timestamp", time_of=lambda point: point[0])


def open_interest_points(
    raw: list[tuple[Any, float]], *, inverse: bool, contract_size: float, price_at: dict
) -> list[OpenInterestPoint]:
    """Base-unit open interest: linear as is; inverse USD contracts ÷ the price at that time.

    An inverse reading without a price (no candle starts at its time) is left out
    rather than guessed.
    """
    if not inverse:
        return [OpenInterestPoint(time, value) for time, value in raw]
    points = []
    for time, contracts in raw:
        price = price_at.get(time)
        if price:
            usd = contracts * contract_size
            points.append(OpenInterestPoint(time, usd / price, usd))
    return points


def funding_history(result: Any, reader: ResponseReader) -> list[FundingRatePoint]:
    points = []
    for index, row in enumerate(reader.sequence(reader.field(result, "list", "result"), "result.list")):
        where = f"list[{index}]"
        points.append(
            FundingRatePoint(
                reader.time_ms(reader.field(row, "fundingRateTimestamp", where), f"{where}.fundingRateTimestamp"),
                reader.number(reader.field(row, "fundingRate", where), f"{where}.fundingRate"),
            )
        )
    return _newest_first(points, reader, "fundingRateTimestamp")


def account_ratio(result: Any, reader: ResponseReader) -> list[LongShortPoint]:
    """``/v5/market/account-ratio``: ``buyRatio`` is the share of accounts net long."""
    points = []
    for index, row in enumerate(reader.sequence(reader.field(result, "list", "result"), "result.list")):
        where = f"list[{index}]"
        share = reader.number(reader.field(row, "buyRatio", where), f"{where}.buyRatio")
        if not 0 <= share <= 1:
            raise reader.malformed(f"long share {share} outside [0, 1]", f"{where}.buyRatio")
        points.append(LongShortPoint(reader.time_ms(reader.field(row, "timestamp", where), f"{where}.timestamp"), share))
    return _newest_first(points, reader, "timestamp")


def instruments(result: Any, reader: ResponseReader) -> tuple[list[Instrument], dict[str, int], str]:
    """``/v5/market/instruments-info`` → trading perpetuals, their launch times (ms) and the next cursor."""
    category = result.get("category", "")
    found, launched = [], {}
    for index, raw in enumerate(reader.sequence(reader.field(result, "list", "result"), "result.list")):
        where = f"list[{index}]"
        if raw.get("status") != "Trading" or raw.get("contractType") not in ("LinearPerpetual", "InversePerpetual"):
            continue
        symbol = reader.field(raw, "symbol", where)
        inverse = raw.get("contractType") == "InversePerpetual" or category == "inverse"
        tick = reader.field(
            reader.mapping(reader.field(raw, "priceFilter", where), f"{where}.priceFilter"), "tickSize", f"{where}.priceFilter"
        )
        found.append(
            Instrument(
                symbol=symbol,
                base=reader.field(raw, "baseCoin", where),
                quote=reader.field(raw, "quoteCoin", where),
                contract_type="inverse" if inverse else "linear",
                # Linear contracts are one base coin each; inverse contracts are 1 USD each.
                contract_size=1.0,
                tick_size=reader.number(tick, f"{where}.priceFilter.tickSize"),
            )
        )
        launch = reader.optional_number(raw.get("launchTime"), f"{where}.launchTime")
        if launch:
            launched[symbol] = int(launch)
    return found, launched, result.get("nextPageCursor") or ""


def risk_limits(result: Any, reader: ResponseReader, symbol: str) -> tuple[list[MarginTier], str]:
    """``/v5/market/risk-limit`` → tiers (floor = previous tier's cap) and the next cursor.

    ``riskLimitValue`` is the tier's cap (USDT for linear, coin for inverse).
    The docs example gives rates in percent (``"maintenanceMargin": "0.5"``
    beside ``"initialMargin": "1"`` and ``maxLeverage`` 100) while live
    answers give fractions; the unit is told apart by checking ``1 /
    initialMargin`` against ``maxLeverage``. ``mmDeduction`` is the
    maintenance amount when set; empty means the tier's rate applies to the
    whole position (amount 0).
    """
    rows = [row for row in reader.sequence(reader.field(result, "list", "result"), "result.list") if row.get("symbol") == symbol]
    parsed = []
    for index, row in enumerate(rows):
        where = f"list[{index}]"
        cap = reader.number(reader.field(row, "riskLimitValue", where), f"{where}.riskLimitValue")
        mmr = reader.number(reader.field(row, "maintenanceMargin", where), f"{where}.maintenanceMargin")
        imr = reader.number(reader.field(row, "initialMargin", where), f"{where}.initialMargin")
        leverage = reader.number(reader.field(row, "maxLeverage", where), f"{where}.maxLeverage")
        if imr > 0 and abs(100 / imr - leverage) < abs(1 / imr - leverage):
            mmr, imr = mmr / 100, imr / 100
        if not 0 <= mmr < 1:
            raise reader.malformed(f"maintenance margin rate {mmr} is not a fraction", f"{where}.maintenanceMargin")
        amount = reader.optional_number(row.get("mmDeduction"), f"{where}.mmDeduction") or 0.0
        parsed.append(MarginTier(0.0, cap, mmr, leverage, amount))
    return chain_floors(parsed), result.get("nextPageCursor") or ""


def all_liquidation(message: str | bytes, *, inverse_symbols: Collection[str] = ()) -> list[LiquidationEvent]:
    """One public-stream message → events (``allLiquidation.<symbol>`` topic; housekeeping gives []).

    Bybit documents ``S`` as the position side: "when you receive a Buy update,
    this means that a long position has been liquidated". ``p`` is the
    bankruptcy price; ``v`` the executed size (USD contracts for inverse).
    """
    reader = ResponseReader(EXCHANGE, "allLiquidation stream")
    try:
        payload = json.loads(message)
    except ValueError:
        raise reader.malformed(f"not JSON: {str(message)[:60]!r}") from None
    payload = reader.mapping(payload, "message")
    if "op" in payload or "success" in payload:
        if payload.get("success") is False:
            raise ExchangeError(
                f"subscription refused: {payload.get('ret_msg', '')}",
                permanent=True,
                exchange=EXCHANGE,
                endpoint="allLiquidation stream",
            )
        return []  # subscription acknowledgement or pong
    if not str(payload.get("topic", "")).startswith("allLiquidation."):
        return []
    events = []
    for index, row in enumerate(reader.sequence(reader.field(payload, "data"), "data")):
        where = f"data[{index}]"
        symbol = reader.field(row, "s", where)
        side = reader.field(row, "S", where)
        if side not in ("Buy", "Sell"):
            raise reader.malformed(f"unknown side {side!r}", f"{where}.S")
        price = reader.number(reader.field(row, "p", where), f"{where}.p")
        size = reader.number(reader.field(row, "v", where), f"{where}.v")
        if price <= 0 or size <= 0:
            raise reader.malformed(f"price {price} and size {size} must be positive", f"{where}.p")
        inverse = symbol in inverse_symbols
        events.append(
            LiquidationEvent(
                symbol=symbol,
                time=reader.time_ms(reader.field(row, "T", where), f"{where}.T"),
                side="long" if side == "Buy" else "short",
                price=price,
                quantity=size / price if inverse else size,
                usd=size if inverse else size * price,
            )
        )
    return events
