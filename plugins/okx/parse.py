"""OKX v5 bodies and stream messages → the core's dataclasses. Pure functions, no I/O.

OKX wraps answers as ``{"code": "0", "msg": "", "data": [...]}``; ``code`` is
a string, except in some 404 bodies where it is a number. Time series come
newest first as arrays of strings and are reversed here. Swap sizes are in
contracts: ``ctVal`` base coin each for linear swaps, ``ctVal`` USD each for
inverse ones.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
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

EXCHANGE = "OKX"

# 50001 service temporarily unavailable, 50004 endpoint timeout, 50011 rate
# limit, 50013 system busy, 50026 system error: worth retrying.
TRANSIENT_CODES = {"50001", "50004", "50011", "50013", "50026"}


def unwrap(body: Any, reader: ResponseReader) -> list:
    """The ``data`` list of a successful answer; an ``ExchangeError`` carrying ``msg`` otherwise."""
    envelope = reader.mapping(body, "body")
    code = str(reader.field(envelope, "code"))
    if code != "0":
        message = f"code {code}: {envelope.get('msg', '')}"
        if code in TRANSIENT_CODES:
            raise reader.transient(message)
        raise reader.permanent(message)
    return reader.sequence(reader.field(envelope, "data"), "data")


def _rows(data: list, reader: ResponseReader, width: int) -> list[tuple[str, list]]:
    rows = []
    for index, row in enumerate(data):
        where = f"data[{index}]"
        reader.sequence(row, where)
        if len(row) < width:
            raise reader.malformed(f"a row has {len(row)} fields, expected at least {width}", where)
        rows.append((where, row))
    return rows


def candles(data: list, reader: ResponseReader) -> list[Candle]:
    """``/api/v5/market/history-candles``: ``[ts, o, h, l, c, vol, volCcy, volCcyQuote, confirm]``.

    For swaps ``volCcy`` is the volume in base coin (``vol`` is contracts).
    OKX offers no taker-buy volume per candle.
    """
    found = []
    for where, row in _rows(data, reader, 7):
        number = lambda position, name: reader.number(row[position], f"{where}.{name}")  # noqa: E731
        found.append(
            Candle(
                time=reader.time_ms(row[0], f"{where}.ts"),
                open=number(1, "o"),
                high=number(2, "h"),
                low=number(3, "l"),
                close=number(4, "c"),
                volume=number(6, "volCcy"),
            )
        )
    found.reverse()
    return list(reader.ascending(found, "ts"))


def open_interest_history(data: list, reader: ResponseReader) -> list[OpenInterestPoint]:
    """``/api/v5/rubik/stat/contracts/open-interest-history``: ``[ts, oi, oiCcy, oiUsd]``.

    ``oiCcy`` is already in base coin (``oi`` is contracts), ``oiUsd`` in USD.
    """
    points = []
    for where, row in _rows(data, reader, 4):
        points.append(
            OpenInterestPoint(
                reader.time_ms(row[0], f"{where}.ts"),
                reader.number(row[2], f"{where}.oiCcy"),
                reader.number(row[3], f"{where}.oiUsd"),
            )
        )
    points.reverse()
    return list(reader.ascending(points, "ts"))


def long_short_ratio(data: list, reader: ResponseReader) -> list[LongShortPoint]:
    """``…/long-short-account-ratio-contract``: ``[ts, longShortAcctRatio]`` → long share r / (1 + r)."""
    points = []
    for where, row in _rows(data, reader, 2):
        ratio = reader.number(row[1], f"{where}.longShortAcctRatio")
        if ratio < 0:
            raise reader.malformed(f"a ratio of accounts cannot be negative ({ratio})", f"{where}.longShortAcctRatio")
        points.append(LongShortPoint(reader.time_ms(row[0], f"{where}.ts"), ratio / (1.0 + ratio)))
    points.reverse()
    return list(reader.ascending(points, "ts"))


def funding_rate_history(data: list, reader: ResponseReader) -> list[FundingRatePoint]:
    """``/api/v5/public/funding-rate-history``: the settled ``realizedRate`` when set, else ``fundingRate``."""
    points = []
    for index, row in enumerate(data):
        where = f"data[{index}]"
        reader.mapping(row, where)
        realized = reader.optional_number(row.get("realizedRate"), f"{where}.realizedRate")
        rate = (
            realized if realized is not None else reader.number(reader.field(row, "fundingRate", where), f"{where}.fundingRate")
        )
        points.append(FundingRatePoint(reader.time_ms(reader.field(row, "fundingTime", where), f"{where}.fundingTime"), rate))
    points.reverse()
    return list(reader.ascending(points, "fundingTime"))


def instruments(data: list, reader: ResponseReader) -> tuple[list[Instrument], dict[str, dict]]:
    """``/api/v5/public/instruments?instType=SWAP`` → live swaps, and per symbol its family and listing time."""
    found, extra = [], {}
    for index, raw in enumerate(data):
        where = f"data[{index}]"
        if raw.get("instType") != "SWAP" or raw.get("state") != "live":
            continue
        symbol = reader.field(raw, "instId", where)
        family = raw.get("instFamily") or raw.get("uly") or ""
        base, _, quote = family.partition("-")
        if not (base and quote):
            raise reader.malformed(f"cannot tell base and quote of {symbol!r}", f"{where}.instFamily")
        kind = reader.field(raw, "ctType", where)
        if kind not in ("linear", "inverse"):
            raise reader.malformed(f"unknown contract type {kind!r}", f"{where}.ctType")
        size = reader.number(reader.field(raw, "ctVal", where), f"{where}.ctVal")
        size *= reader.optional_number(raw.get("ctMult"), f"{where}.ctMult") or 1.0
        found.append(
            Instrument(symbol, base, quote, kind, size, reader.number(reader.field(raw, "tickSz", where), f"{where}.tickSz"))
        )
        extra[symbol] = {
            "family": family,
            "listed_ms": int(reader.optional_number(raw.get("listTime"), f"{where}.listTime") or 0),
        }
    return found, extra


def position_tiers(data: list, reader: ResponseReader, *, units_to_notional: float, inverse: bool = False) -> list[MarginTier]:
    """``/api/v5/public/position-tiers`` → tiers by notional.

    OKX bounds each tier by position size (``minSz``/``maxSz``, contracts for
    swaps). ``units_to_notional`` converts a size to the engine's notional:
    for a linear swap ``ctVal × price`` (quote currency); for an inverse one
    ``ctVal / price`` (coin). OKX charges a tier's rate on the whole position,
    so there is no maintenance amount.

    The ranges are inclusive whole numbers (``minSz 2001, maxSz 4000`` follows
    ``maxSz 2000``): converted as they are, a position between 2000 and 2001
    contracts would fall between two tiers. Only the caps are kept, and each
    floor is the previous cap, so the tiers cover every notional once.
    """
    tiers = []
    for index, row in enumerate(data):
        where = f"data[{index}]"
        low = reader.number(reader.field(row, "minSz", where), f"{where}.minSz")
        high = reader.number(reader.field(row, "maxSz", where), f"{where}.maxSz")
        mmr = reader.number(reader.field(row, "mmr", where), f"{where}.mmr")
        leverage = reader.number(reader.field(row, "maxLever", where), f"{where}.maxLever")
        if not 0 <= mmr < 1:
            raise reader.malformed(f"maintenance margin rate {mmr} is not a fraction", f"{where}.mmr")
        if not 0 <= low <= high:
            raise reader.malformed(f"size range {low}..{high} is empty", f"{where}.maxSz")
        tiers.append(MarginTier(low * units_to_notional, high * units_to_notional, mmr, leverage, 0.0))
    return chain_floors(tiers)


def liquidation_orders(message: str | bytes, instruments_by_symbol: Mapping[str, Instrument]) -> list[LiquidationEvent]:
    """One ``liquidation-orders`` message → events for the instruments asked about.

    ``side`` is the side of the forced order (``sell`` closes a long, so the
    liquidated position is long); ``bkPx`` the bankruptcy price; ``sz``
    contracts, converted with the instrument's ``ctVal``.
    """
    reader = ResponseReader(EXCHANGE, "liquidation-orders stream")
    if message in ("pong", b"pong"):
        return []
    try:
        payload = json.loads(message)
    except ValueError:
        raise reader.malformed(f"not JSON: {str(message)[:60]!r}") from None
    payload = reader.mapping(payload, "message")
    if "event" in payload:
        if payload["event"] == "error":
            raise ExchangeError(
                f"code {payload.get('code')}: {payload.get('msg', '')}",
                permanent=True,
                exchange=EXCHANGE,
                endpoint="liquidation-orders stream",
            )
        return []  # subscribe / unsubscribe acknowledgements
    events = []
    for index, item in enumerate(reader.sequence(reader.field(payload, "data"), "data")):
        where = f"data[{index}]"
        instrument = instruments_by_symbol.get(reader.field(item, "instId", where))
        if instrument is None:
            continue
        for number, detail in enumerate(reader.sequence(reader.field(item, "details", where), f"{where}.details")):
            spot = f"{where}.details[{number}]"
            side = reader.field(detail, "side", spot)
            if side not in ("buy", "sell"):
                raise reader.malformed(f"unknown side {side!r}", f"{spot}.side")
            price = reader.number(reader.field(detail, "bkPx", spot), f"{spot}.bkPx")
            contracts = reader.number(reader.field(detail, "sz", spot), f"{spot}.sz")
            if price <= 0 or contracts <= 0:
                raise reader.malformed(f"price {price} and size {contracts} must be positive", f"{spot}.bkPx")
            if instrument.contract_type == "inverse":
                usd = contracts * instrument.contract_size
                quantity = usd / price
            else:
                quantity = contracts * instrument.contract_size
                usd = quantity * price
            events.append(
                LiquidationEvent(
                    symbol=instrument.symbol,
                    time=reader.time_ms(reader.field(detail, "ts", spot), f"{spot}.ts"),
                    side="long" if side == "sell" else "short",
                    price=price,
                    quantity=quantity,
                    usd=usd,
                )
            )
    return events
