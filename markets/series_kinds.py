"""The kinds of market series the core stores, and how each is checked.

One table ties a kind to its model, the plugin method that fetches it and the
rules a batch must pass before it is written, so the ingest service, the CSV
importer and the coverage page all agree on what a series is.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.db import models

from liqsite.exchanges import INTERVAL_SECONDS, ExchangePlugin, interval_delta
from liqsite.exchanges import types as plugin_types
from liqsite.exchanges.oi_stamps import at_reading_time
from markets.models import Candle, FundingRate, Liquidation, LiquidationTotal, LongShortRatio, OpenInterest


@dataclass(frozen=True)
class SeriesKind:
    name: str
    label: str
    model: type[models.Model]
    row_type: type
    fields: tuple[str, ...]  # value fields, in CSV order after ``time``
    optional: frozenset[str]
    per_interval: bool
    # Fetch from a plugin: (plugin, symbol, interval, since) -> iterable of batches.
    fetch: Callable[[ExchangePlugin, str, str | None, datetime | None], object]
    # Row-level rules beyond "finite numbers": yields problems as text.
    check: Callable[[object, str | None], list[str]]
    # Fields read as text, not numbers (a liquidation's side).
    text_fields: frozenset[str] = frozenset()
    # Series have one row per time; single events (liquidations) may share a time.
    strictly_increasing: bool = True


@dataclass(frozen=True, slots=True)
class LiquidationTotalRow:
    """The USD liquidated in the step starting at ``time``, per side (an imported total)."""

    time: datetime
    long_usd: float
    short_usd: float


@dataclass(frozen=True, slots=True)
class LiquidationRecordRow:
    """One imported liquidation: the side of the position closed, its price, size (base units) and USD.

    ``usd`` may be left out: it is then ``price × quantity``.
    """

    time: datetime
    side: str
    price: float
    quantity: float
    usd: float | None = None


# Absolute ceilings that no real market reaches, whatever its quote currency:
# the dearest perpetual trades near 1e5 USD (1e9 even in the weakest fiat),
# and a coin's whole supply in its own units rarely passes 1e15. Anything above
# is a unit or typing error (satoshis as coins, a stray exponent), and values
# like 1e300 would overflow price × size × leverage in the engine to inf,
# which cannot be drawn or serialised. The CSV importer adds a check relative
# to the file's own prices (markets.csv_import) for errors below these ceilings.
MAX_PRICE = 1e12
MAX_AMOUNT = 1e18


def _check_candle(row, interval) -> list[str]:
    problems = []
    if min(row.open, row.high, row.low, row.close) <= 0:
        problems.append("prices must be positive")
    if row.high > MAX_PRICE:
        problems.append(f"high {row.high:g} is above {MAX_PRICE:.0e}, more than any market trades at (a unit error?)")
    if max(row.volume, row.taker_buy_volume or 0) > MAX_AMOUNT:
        problems.append(f"volume {row.volume:g} is above {MAX_AMOUNT:.0e} (a unit error?)")
    if row.high < row.low:
        problems.append(f"high {row.high} is below low {row.low}")
    elif not (row.low <= row.open <= row.high and row.low <= row.close <= row.high):
        problems.append(f"open {row.open} / close {row.close} outside [low {row.low}, high {row.high}]")
    if row.volume < 0:
        problems.append(f"volume {row.volume} is negative")
    if row.taker_buy_volume is not None and not (0 <= row.taker_buy_volume <= row.volume * (1 + 1e-9)):
        problems.append(f"taker_buy_volume {row.taker_buy_volume} outside [0, volume {row.volume}]")
    if interval and int(row.time.timestamp()) % INTERVAL_SECONDS[interval]:
        problems.append(f"time is not on a {interval} boundary (wrong interval or time unit?)")
    return problems


def _check_open_interest(row, interval) -> list[str]:
    problems = []
    if row.open_interest < 0:
        problems.append(f"open_interest {row.open_interest} is negative")
    if row.open_interest_usd is not None and row.open_interest_usd < 0:
        problems.append(f"open_interest_usd {row.open_interest_usd} is negative")
    if max(row.open_interest, row.open_interest_usd or 0) > MAX_AMOUNT:
        problems.append(f"open interest above {MAX_AMOUNT:.0e} (a unit error?)")
    return problems


def _fetch_open_interest(plugin: ExchangePlugin, symbol: str, interval: str, since: datetime | None):
    """The plugin's readings at the instant each was taken (see ``liqsite.exchanges.oi_stamps``).

    A "close"-stamped reading is stored one step after its stamp. ``since`` (the
    newest stored time, one step after that reading's stamp) is passed on as it
    is: the stamps from there on are exactly the readings not stored yet.
    """
    step = interval_delta(interval)
    stamp = plugin.open_interest_stamp
    for batch in plugin.open_interest(symbol, interval, since):
        yield list(at_reading_time(batch, stamp, step))


def _check_funding(row, interval) -> list[str]:
    # A funding rate of 100 % per interval means a unit error, not a market.
    return [] if abs(row.rate) < 1 else [f"rate {row.rate} is not a fraction per interval"]


def _check_long_share(row, interval) -> list[str]:
    return [] if 0 <= row.long_share <= 1 else [f"long_share {row.long_share} outside [0, 1]"]


def _check_liquidation_total(row, interval) -> list[str]:
    problems = [f"{name} {getattr(row, name)} is negative" for name in ("long_usd", "short_usd") if getattr(row, name) < 0]
    if max(row.long_usd, row.short_usd) > MAX_AMOUNT:
        problems.append(f"liquidations above {MAX_AMOUNT:.0e} USD in one step (a unit error?)")
    if interval and int(row.time.timestamp()) % INTERVAL_SECONDS[interval]:
        problems.append(f"time is not on a {interval} boundary (a total is for the step starting at its time)")
    return problems


def _check_liquidation_record(row, interval) -> list[str]:
    problems = []
    if row.side not in (Liquidation.Side.LONG, Liquidation.Side.SHORT):
        problems.append(
            f"side {row.side!r} must be 'long' or 'short' (the side of the position liquidated: a forced SELL closes a long)"
        )
    if row.price <= 0 or row.price > MAX_PRICE:
        problems.append(f"price {row.price:g} must be positive and at most {MAX_PRICE:.0e}")
    if row.quantity <= 0 or row.quantity > MAX_AMOUNT:
        problems.append(f"quantity {row.quantity:g} must be positive and at most {MAX_AMOUNT:.0e}")
    if row.usd is not None and not (0 < row.usd <= MAX_AMOUNT):
        problems.append(f"usd {row.usd:g} must be positive and at most {MAX_AMOUNT:.0e}")
    return problems


def _no_fetch(plugin: ExchangePlugin, symbol: str, interval: str | None, since: datetime | None):
    """Liquidation totals are imported, never fetched (the collector stores single liquidations)."""
    return iter(())


SERIES: dict[str, SeriesKind] = {
    kind.name: kind
    for kind in (
        SeriesKind(
            "candles",
            "Candles",
            Candle,
            plugin_types.Candle,
            ("open", "high", "low", "close", "volume", "taker_buy_volume"),
            frozenset({"taker_buy_volume"}),
            True,
            lambda plugin, symbol, interval, since: plugin.candles(symbol, interval, since),
            _check_candle,
        ),
        SeriesKind(
            "open_interest",
            "Open interest",
            OpenInterest,
            plugin_types.OpenInterestPoint,
            ("open_interest", "open_interest_usd"),
            frozenset({"open_interest_usd"}),
            True,
            _fetch_open_interest,
            _check_open_interest,
        ),
        SeriesKind(
            "long_short",
            "Long/short ratio",
            LongShortRatio,
            plugin_types.LongShortPoint,
            ("long_share",),
            frozenset(),
            True,
            lambda plugin, symbol, interval, since: plugin.long_short_ratios(symbol, interval, since),
            _check_long_share,
        ),
        SeriesKind(
            "funding",
            "Funding rate",
            FundingRate,
            plugin_types.FundingRatePoint,
            ("rate",),
            frozenset(),
            False,
            lambda plugin, symbol, interval, since: plugin.funding_rates(symbol, since),
            _check_funding,
        ),
        SeriesKind(
            "liquidations",
            "Liquidation totals",
            LiquidationTotal,
            LiquidationTotalRow,
            ("long_usd", "short_usd"),
            frozenset(),
            True,
            _no_fetch,
            _check_liquidation_total,
        ),
    )
}

# Single liquidations, imported from a file into the collector's table (``markets.csv_import``).
# Not a stored series of its own (events, not one row per step), so not in SERIES.
LIQUIDATION_RECORDS = SeriesKind(
    "liquidation_records",
    "Liquidation records",
    Liquidation,
    LiquidationRecordRow,
    ("side", "price", "quantity", "usd"),
    frozenset({"usd"}),
    False,
    _no_fetch,
    _check_liquidation_record,
    text_fields=frozenset({"side"}),
    strictly_increasing=False,
)


def validate_rows(kind: SeriesKind, interval: str | None, rows, *, describe=None, after: datetime | None = None) -> list[str]:
    """Every problem in a batch, each naming the row; empty when the batch is sound.

    ``describe(index)`` names a row in messages (the CSV importer passes line
    numbers); by default rows are named by their position in the batch.
    ``after`` is the time of the row before the batch (the previous batch's
    last), which the first row must follow.
    """
    describe = describe or (lambda index: f"row {index + 1}")
    problems = []
    previous = after
    for index, row in enumerate(rows):
        when = row.time.isoformat() if isinstance(row.time, datetime) else repr(row.time)
        where = f"{describe(index)} ({when})"
        if not isinstance(row, kind.row_type):
            problems.append(f"{describe(index)}: expected {kind.row_type.__name__}, got {type(row).__name__}")
            continue
        if not isinstance(row.time, datetime) or row.time.utcoffset() is None:
            problems.append(f"{where}: time must be a timezone-aware datetime")
            continue
        if previous is not None and kind.strictly_increasing and row.time <= previous:
            problems.append(f"{where}: time is not after the previous row ({previous.isoformat()}); times must increase")
        elif previous is not None and row.time < previous:
            problems.append(f"{where}: time is before the previous row ({previous.isoformat()}); sort the file by time")
        previous = row.time
        bad = [
            name
            for name in kind.fields
            if name not in kind.text_fields
            and not (getattr(row, name) is None and name in kind.optional)
            and not (isinstance(getattr(row, name), (int, float)) and math.isfinite(getattr(row, name)))
        ]
        if bad:
            problems.append(f"{where}: {', '.join(f'{name}={getattr(row, name)!r}' for name in bad)} not a finite number")
            continue
        problems.extend(f"{where}: {problem}" for problem in kind.check(row, interval))
        if len(problems) >= 20:
            problems.append("… further rows not checked")
            break
    return problems
