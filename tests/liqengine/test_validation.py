"""Bad input fails early with a clear ValueError that names the argument, row and value."""

from __future__ import annotations

import re

import numpy as np
import pytest

from liqengine import (
    MarketSeries,
    ModelParams,
    TierTable,
    aggregate_grid,
    liquidation_grid,
    window_grid,
)

H = [101.0, 102.0, 103.0]
L = [99.0, 100.0, 101.0]
C = [100.0, 101.0, 102.0]
OI = [10.0, 11.0, 12.0]
EDGES = np.linspace(50, 150, 11)


def call(**overrides):
    args = dict(high=H, low=L, close=C, open_interest=OI, bin_edges=EDGES)
    args.update(overrides)
    return liquidation_grid(**args)


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"close": C[:2]}, "input series must have the same length (got high=3, low=3, close=2)"),
        ({"open_interest": OI + [1.0]}, "input series must have the same length (got high=3, low=3, close=3, open_interest=4)"),
        ({"high": [101.0, np.nan, 103.0]}, "high must be finite (no NaN or inf); row 1 is nan"),
        ({"low": [99.0, 100.0, np.inf]}, "low must be finite (no NaN or inf); row 2 is inf"),
        ({"close": [100.0, -1.0, 102.0]}, "close must be > 0; row 1 is -1.0"),
        ({"low": [0.0, 100.0, 101.0]}, "low must be > 0; row 0 is 0.0"),
        ({"high": [101.0, 99.0, 103.0]}, "high < low at row 1 (high=99.0, low=100.0)"),
        ({"open_interest": [10.0, -0.5, 12.0]}, "open_interest must be >= 0; row 1 is -0.5"),
        ({"open_interest": [10.0, np.nan, 12.0]}, "open_interest must be finite (no NaN or inf); row 1 is nan"),
        ({"bin_edges": [50.0, 60.0, 60.0, 70.0]}, "bin_edges must be strictly ascending; edge 1 (60.0) >= edge 2 (60.0)"),
        ({"bin_edges": [70.0, 60.0]}, "bin_edges must be strictly ascending; edge 0 (70.0) >= edge 1 (60.0)"),
        ({"bin_edges": [50.0]}, "bin_edges needs at least 2 edges (1 bin), got 1"),
        ({"bin_edges": [50.0, np.nan]}, "bin_edges must be finite; edge 1 is nan"),
        ({"weights": (0.1, 0.25, 0.3, 0.2, 0.1)}, "weights must sum to 1 (got 0.95)"),
        ({"weights": (1.2, -0.2, 0.0, 0.0, 0.0)}, "weights must be >= 0; bucket 1 is -0.2"),
        ({"leverage": (5, 10, 0, 50, 100)}, "leverage must be > 0; bucket 2 is 0.0"),
        ({"leverage": (5, -10, 25, 50, 100)}, "leverage must be > 0; bucket 1 is -10.0"),
        ({"leverage": (5, 10), "mmr": (0.004,) * 5}, "leverage, weights and mmr need one value per bucket (got 2, 5, 5)"),
        ({"mmr": (0.004, 0.004, 1.0, 0.004, 0.004)}, "mmr must lie in [0, 1); bucket 2 is 1.0"),
        ({"long_share": [0.5, 1.2, 0.5]}, "long_share must lie in [0, 1]; row 1 is 1.2"),
        ({"long_share": [-0.1, 0.5, 0.5]}, "long_share must lie in [0, 1]; row 0 is -0.1"),
        ({"long_share": [0.5, 0.5]}, "long_share must have one value per step (got 2, expected 3)"),
        ({"default_long_share": 1.5}, "default long_share must lie in [0, 1], got 1.5"),
        ({"taker_buy_volume": [1.0, 1.0, 1.0]}, "taker_buy_volume and volume must be given together"),
        (
            {"taker_buy_volume": [1.0, 3.0, 1.0], "volume": [2.0, 2.0, 2.0]},
            "taker_buy_volume exceeds volume at row 1 (3.0 > 2.0)",
        ),
        ({"taker_buy_volume": [1.0, 1.0, 1.0], "volume": [2.0, -2.0, 2.0]}, "volume must be finite and >= 0; row 1 is -2.0"),
        ({"open_time": [0, 300_000, 300_000]}, "open_time must be strictly increasing; row 2 (300000) <= row 1 (300000)"),
        ({"open_time": [0.0, 1.0, 2.0]}, "open_time must hold integers (epoch milliseconds), got dtype float64"),
        ({"high": [[101.0, 102.0, 103.0]]}, "high must be a 1-D array, got shape (1, 3)"),
        ({"high": ["a", "b", "c"]}, "high must be a 1-D array of numbers"),
    ],
)
def test_bad_input_messages(overrides, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        call(**overrides)


def test_mmr_and_tiers_are_alternatives():
    tiers = TierTable.from_rates([0, 50_000], [50_000, 600_000], [0.004, 0.005])
    with pytest.raises(ValueError, match=re.escape("give either mmr or tiers, not both")):
        call(mmr=(0.004,) * 5, tiers=tiers)
    with pytest.raises(ValueError, match=re.escape("position_notional only applies together with tiers")):
        call(position_notional=1000.0)
    with pytest.raises(ValueError, match=re.escape("position_notional must be > 0, got -5.0")):
        call(tiers=tiers, position_notional=-5.0)
    with pytest.raises(ValueError, match=re.escape("position_notional needs one value per bucket (got 2, expected 5)")):
        call(tiers=tiers, position_notional=(1.0, 2.0))


def test_formula_must_be_a_formula():
    with pytest.raises(ValueError, match="formula must be a LiquidationFormula"):
        call(formula="linear")


def test_market_errors_name_the_market():
    good = MarketSeries(np.array(H), np.array(L), np.array(C), np.array(OI), open_time=np.array([0, 1, 2]))
    bad = MarketSeries(np.array(H), np.array(L), np.array(C), np.array([1.0, -1.0, 1.0]), open_time=np.array([0, 1, 2]))
    with pytest.raises(ValueError, match=re.escape("market 1: open_interest must be >= 0; row 1 is -1.0")):
        aggregate_grid([good, bad], EDGES)
    no_time = MarketSeries(np.array(H), np.array(L), np.array(C), np.array(OI))
    with pytest.raises(ValueError, match=re.escape("market 0 needs open_time (int64 ms) to be aligned with the others")):
        aggregate_grid([no_time], EDGES)
    with pytest.raises(ValueError, match="at least one market is needed"):
        aggregate_grid([], EDGES)


def test_window_arguments():
    m = MarketSeries(np.array(H), np.array(L), np.array(C), np.array(OI), open_time=np.array([0, 300_000, 600_000]))
    with pytest.raises(ValueError, match=re.escape("the window must end after it starts (start=600000, end=0)")):
        window_grid(m, EDGES, start=600_000, end=0)
    with pytest.raises(ValueError, match=re.escape("max_columns must be >= 1, got 0")):
        window_grid(m, EDGES, start=0, end=900_000, max_columns=0)
    with pytest.raises(ValueError, match=re.escape("warmup_ms must be >= 0, got -1")):
        window_grid(m, EDGES, start=0, end=900_000, warmup_ms=-1)


def test_model_params_checks():
    with pytest.raises(ValueError, match=re.escape("weights must sum to 1 (got 0.5)")):
        ModelParams(leverage=(10,), weights=(0.5,))
