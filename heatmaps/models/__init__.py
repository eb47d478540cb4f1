"""Models of the heatmaps app, one module per job."""

from heatmaps.models.accuracy import AccuracyReport
from heatmaps.models.grids import GridSnapshot, LongShareMethod
from heatmaps.models.liquidations import Liquidation, LiquidationCoverage
from heatmaps.models.markets import Exchange, Market
from heatmaps.models.series import Candle, FundingRate, LongShortRatio, OpenInterest
from heatmaps.models.shares import ShareLink

__all__ = [
    "AccuracyReport", "Candle", "Exchange", "FundingRate", "GridSnapshot", "LongShareMethod", "Liquidation", "LiquidationCoverage", "LongShortRatio", "Market", "OpenInterest", "ShareLink",
]
