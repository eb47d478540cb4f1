"""Models of the heatmaps app, one module per job."""

from heatmaps.models.markets import Exchange, Market
from heatmaps.models.series import Candle, FundingRate, Liquidation, LongShortRatio, OpenInterest

__all__ = ["Candle", "Exchange", "FundingRate", "Liquidation", "LongShortRatio", "Market", "OpenInterest"]
