"""The public exchange-plugin API: what third-party plugins import.

from liqsite.exchanges import ExchangePlugin, Candle, ExchangeError
"""

from liqsite.exchanges.base import PLUGIN_API_VERSION, ExchangePlugin
from liqsite.exchanges.errors import ExchangeError
from liqsite.exchanges.intervals import INTERVAL_SECONDS, INTERVALS, interval_delta
from liqsite.exchanges.streams import LiquidationStream
from liqsite.exchanges.types import (
    Candle,
    FundingRatePoint,
    Instrument,
    LiquidationEvent,
    LongShortPoint,
    MarginTier,
    OpenInterestPoint,
    chain_floors,
)

__all__ = [
    "PLUGIN_API_VERSION",
    "INTERVALS",
    "INTERVAL_SECONDS",
    "Candle",
    "ExchangeError",
    "ExchangePlugin",
    "FundingRatePoint",
    "Instrument",
    "LiquidationEvent",
    "LiquidationStream",
    "LongShortPoint",
    "MarginTier",
    "OpenInterestPoint",
    "chain_floors",
    "interval_delta",
]
