"""Models of the markets app, one module per job."""

from markets.models.liquidations import Liquidation, LiquidationCoverage, LiquidationImport, LiquidationTotal
from markets.models.markets import Exchange, Market
from markets.models.series import Candle, FundingRate, LongShortRatio, OpenInterest

__all__ = [
    "Candle",
    "Exchange",
    "FundingRate",
    "Liquidation",
    "LiquidationCoverage",
    "LiquidationImport",
    "LiquidationTotal",
    "LongShortRatio",
    "Market",
    "OpenInterest",
]
