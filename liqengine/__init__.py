"""liqsite's liquidation-heatmap engine: pure numpy, no Django.

Arrays in, arrays out. The rules are the model page's (the shared
``liquidation-model.md``); this package's own notes are in ``docs/engine.md``.
Entry point::

    from liqengine import liquidation_grid
    r = liquidation_grid(high, low, close, open_interest, bin_edges)
    r.long_grid, r.short_grid, r.realized_long, r.pending_short, ...

Beyond it: :func:`aggregate_grid` (several markets on one grid),
:func:`window_grid` (warm-up + at most N columns, streamed), :func:`analyse_map`
(bands, brightening/fading, OI confirmation, persistence) and
:func:`squeeze_summary`, and the four readings (:func:`read_map`).
"""

from .aggregate import aggregate_grid
from .bands import VERDICT_LABELS, AnalysisSettings, Band, MapAnalysis, analyse_map, detect_bands
from .compute import MarketRun, bin_index, default_bin_edges, liquidation_grid
from .formulas import (
    BYBIT_LINEAR,
    INVERSE,
    LINEAR,
    LiquidationFormula,
    Tier,
    TierTable,
    binance_coinm_liquidation_price,
    binance_usdm_liquidation_price,
    maintenance_amounts,
)
from .params import MarketSeries, ModelParams
from .readings import MapReadings, ReadingSettings, read_map, reading_series
from .results import LiquidationGrid, ReducedGrid, ReducedLayer
from .squeeze import DEFAULT_SQUEEZE_PCTS, SqueezeLevel, SqueezeSummary, squeeze_summary
from .window import DEFAULT_MAX_COLUMNS, DEFAULT_WARMUP_MS, column_layout, window_grid

__all__ = [
    "liquidation_grid",
    "default_bin_edges",
    "bin_index",
    "aggregate_grid",
    "window_grid",
    "column_layout",
    "DEFAULT_WARMUP_MS",
    "DEFAULT_MAX_COLUMNS",
    "analyse_map",
    "detect_bands",
    "AnalysisSettings",
    "Band",
    "MapAnalysis",
    "VERDICT_LABELS",
    "squeeze_summary",
    "SqueezeSummary",
    "SqueezeLevel",
    "read_map",
    "reading_series",
    "ReadingSettings",
    "MapReadings",
    "DEFAULT_SQUEEZE_PCTS",
    "MarketRun",
    "MarketSeries",
    "ModelParams",
    "LiquidationGrid",
    "ReducedGrid",
    "ReducedLayer",
    "LiquidationFormula",
    "LINEAR",
    "INVERSE",
    "BYBIT_LINEAR",
    "Tier",
    "TierTable",
    "maintenance_amounts",
    "binance_usdm_liquidation_price",
    "binance_coinm_liquidation_price",
]
