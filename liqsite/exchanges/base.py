"""The base class every exchange plugin implements.

A plugin fetches and normalises; it never writes to the database. The core
calls it from Celery tasks with the exchange's settings, validates what it
returns and upserts it. Network access goes through one seam: the
``transport`` given to the constructor (an ``httpx.BaseTransport``), so tests
replay recorded responses without touching the network.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar

from liqsite.exchanges.errors import ExchangeError
from liqsite.exchanges.intervals import INTERVALS
from liqsite.exchanges.types import Candle, FundingRatePoint, Instrument, LongShortPoint, MarginTier, OpenInterestPoint

# Bumped when the plugin contract changes incompatibly; the registry refuses
# plugins written for another version instead of failing later mid-refresh.
PLUGIN_API_VERSION = 1


class ExchangePlugin(abc.ABC):
    """One exchange. Subclasses set ``label`` and implement the fetch methods.

    Fetch methods take ``since`` (a UTC ``datetime`` or ``None``) and yield
    batches (pages) oldest first, each a sequence of rows with ``time >= since``.
    ``since=None`` means a new market: backfill as far as the exchange allows.
    Each batch is validated and written in its own transaction, so a long
    backfill interrupted half-way resumes from what was stored.
    Optional series default to yielding nothing (the exchange does not offer it).
    """

    api_version: ClassVar[int] = PLUGIN_API_VERSION
    label: ClassVar[str] = ""
    description: ClassVar[str] = ""
    intervals: ClassVar[tuple[str, ...]] = INTERVALS
    # Non-secret settings an admin may change, with their defaults. Secrets are
    # read from environment variables by the plugin itself, never stored.
    default_settings: ClassVar[Mapping[str, Any]] = {}
    # The exchange's liquidation-price rule, per contract type: "liquidation"
    # when maintenance margin is charged on the position value at the
    # liquidation price (Binance, the model page's formulas), "entry" when on
    # the value at entry (Bybit's classic USDT-contract formula).
    maintenance_basis: ClassVar[Mapping[str, str]] = {"linear": "liquidation", "inverse": "liquidation"}
    # When the snapshot behind an open-interest reading stamped T was taken:
    # "open" at T itself (the open of the step starting at T, the close of the
    # one before), "close" at the close of the step starting at T. The core
    # stores "close" readings one step later, at the instant they were taken
    # (see liqsite.exchanges.oi_stamps). Every plugin declares it, and its
    # tests check the declaration against real data (``stamp_shown_by``).
    open_interest_stamp: ClassVar[str] = "open"

    def __init__(self, settings: Mapping[str, Any] | None = None, *, transport: Any = None):
        settings = dict(settings or {})
        unknown = sorted(set(settings) - set(self.default_settings))
        if unknown:
            raise ExchangeError(
                f"unknown setting(s) {', '.join(unknown)}; this plugin accepts {', '.join(self.default_settings) or 'none'}",
                permanent=True,
                exchange=self.label,
            )
        self.settings = {**self.default_settings, **settings}
        self.transport = transport

    # --- metadata ---------------------------------------------------------
    @abc.abstractmethod
    def instruments(self) -> Sequence[Instrument]:
        """Every contract the exchange lists that this plugin can serve."""

    def instrument(self, symbol: str) -> Instrument:
        """One instrument by symbol; an unknown symbol is a permanent error."""
        for instrument in self.instruments():
            if instrument.symbol == symbol:
                return instrument
        raise ExchangeError(f"unknown symbol {symbol!r}", permanent=True, exchange=self.label)

    def margin_tiers(self, symbol: str) -> Sequence[MarginTier]:
        """Maintenance-margin tiers, lowest notional first; empty when unknown."""
        return ()

    # --- time series --------------------------------------------------------
    @abc.abstractmethod
    def candles(self, symbol: str, interval: str, since: datetime | None) -> Iterable[Sequence[Candle]]:
        """OHLCV steps of ``interval`` (with taker-buy volume where offered)."""

    def open_interest(self, symbol: str, interval: str, since: datetime | None) -> Iterable[Sequence[OpenInterestPoint]]:
        """Open interest readings at ``interval``, or at the nearest cadence the exchange keeps."""
        return ()

    def funding_rates(self, symbol: str, since: datetime | None) -> Iterable[Sequence[FundingRatePoint]]:
        """Settled funding rates."""
        return ()

    def long_short_ratios(self, symbol: str, interval: str, since: datetime | None) -> Iterable[Sequence[LongShortPoint]]:
        """Long share of accounts at ``interval``, or the nearest cadence kept."""
        return ()

    def close(self) -> None:  # noqa: B027 - an optional hook: plugins without connections need nothing here
        """Release network resources; called when the core is done with the plugin."""

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
