"""What exchange plugins return: frozen, validated-by-the-core value objects.

Units are the core's, whatever the exchange sends: times are timezone-aware
UTC ``datetime``s, prices are in the quote currency, quantities (volume, open
interest, liquidation size) are in base-asset units (BTC for BTCUSDT), USD
notionals are floats, and shares are fractions in [0, 1]. Plugins convert
contracts and coin-margined units before returning. The core validates each
batch before writing, so plugins need not repeat those checks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

ContractType = Literal["linear", "inverse"]
Side = Literal["long", "short"]


@dataclass(frozen=True, slots=True)
class Instrument:
    """One tradable contract on an exchange."""

    symbol: str
    base: str
    quote: str
    contract_type: ContractType = "linear"
    # Base units per contract for linear contracts (OKX BTC-USDT-SWAP: 0.01 BTC),
    # USD per contract for inverse ones (Bybit BTCUSD: 1 USD).
    contract_size: float = 1.0
    tick_size: float | None = None
    # Free-form notes a plugin wants shown beside the market (e.g. "OI covers all SOL contracts").
    note: str = ""


@dataclass(frozen=True, slots=True)
class Candle:
    """One OHLCV step; ``time`` is the start of the step."""

    time: datetime
    open: float
    high: float
    low: float
    close: float
    volume: float
    taker_buy_volume: float | None = None


@dataclass(frozen=True, slots=True)
class OpenInterestPoint:
    """Open interest measured at ``time``, in base units (and USD when the exchange says).

    A plugin returns ``time`` as the exchange stamps it; the plugin's
    ``open_interest_stamp`` says whether that is the instant of the snapshot
    ("open") or the open of the step at whose close it was taken ("close"),
    and the core stores every reading at the instant it was taken.
    """

    time: datetime
    open_interest: float
    open_interest_usd: float | None = None


@dataclass(frozen=True, slots=True)
class FundingRatePoint:
    """A settled funding rate (a fraction per funding interval) at ``time``."""

    time: datetime
    rate: float


@dataclass(frozen=True, slots=True)
class LongShortPoint:
    """Share of accounts that are long, in [0, 1], for the period starting at ``time``."""

    time: datetime
    long_share: float


@dataclass(frozen=True, slots=True)
class MarginTier:
    """One maintenance-margin tier: positions with notional in [floor, cap) use this rate."""

    notional_floor: float
    notional_cap: float
    maintenance_margin_rate: float
    max_leverage: float
    # Binance's ``cum``: subtracted from the maintenance margin of positions in
    # this tier so the requirement is continuous across tier boundaries.
    maintenance_amount: float = 0.0


def chain_floors(tiers: Sequence[MarginTier]) -> list[MarginTier]:
    """Tiers by cap, each starting exactly where the one below it ends (the first at 0).

    Exchanges bound tiers in their own way (Bybit sends only caps, OKX inclusive
    whole-contract ranges such as 0..2000 then 2001..4000); converted to
    notional, those floors would leave gaps that no tier covers. Chaining the
    floors to the previous cap makes the tiers cover every notional once.
    """
    ordered = sorted(tiers, key=lambda tier: tier.notional_cap)
    floors = [0.0] + [tier.notional_cap for tier in ordered[:-1]]
    return [
        MarginTier(floor, t.notional_cap, t.maintenance_margin_rate, t.max_leverage, t.maintenance_amount)
        for floor, t in zip(floors, ordered)
    ]


@dataclass(frozen=True, slots=True)
class LiquidationEvent:
    """One forced close reported by an exchange's public liquidation stream.

    ``side`` is the side of the position that was liquidated (a long is closed
    by a forced sell).
    """

    symbol: str
    time: datetime
    side: Side
    price: float
    quantity: float
    usd: float
