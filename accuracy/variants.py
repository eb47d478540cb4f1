"""The model variants the backtest scores, and the leverage mixes they use.

Every variant is the reference model with one option changed, except the last
ones, which combine the options that each helped on their own. The engine
options behind them are in ``liqengine/options.py`` and the inputs (long
share from the account ratio, taker volume or the candle's direction, other
leverage buckets) are the engine's ordinary inputs. A variant with a fitted
parameter chooses it on the first part of the period only (see
:mod:`.backtest`).

Pure Python/numpy, no Django.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from liqengine.params import DEFAULT_LEVERAGE, DEFAULT_WEIGHTS

__all__ = [
    "Mix",
    "Variant",
    "VARIANTS",
    "SITE_DEFAULT",
    "REFERENCE_MIX",
    "EXCHANGE_MIXES",
    "AGEING_HOURS",
    "MAX_LEVERAGE_MIX",
    "DIRECTION_LONG_SHARE",
    "mix_candidates",
]


@dataclass(frozen=True)
class Mix:
    """Leverage buckets and the share of new positions in each."""

    leverage: tuple[float, ...]
    weights: tuple[float, ...]
    source: str = ""

    def to_dict(self) -> dict:
        return {
            "leverage": [float(x) for x in self.leverage],
            "weights": [round(float(w), 6) for w in self.weights],
            "source": self.source,
        }


REFERENCE_MIX = Mix(DEFAULT_LEVERAGE, DEFAULT_WEIGHTS, "the model page's reference buckets")

# Per-exchange priors: assumptions written down before any score was seen,
# each with the public fact it leans on. An exchange without an entry uses the
# reference mix (the variant is then not distinct and is not scored).
EXCHANGE_MIXES = {
    "binance": Mix(
        (2.0, 5.0, 10.0, 20.0, 50.0, 100.0),
        (0.10, 0.15, 0.15, 0.35, 0.15, 0.10),
        "assumed: 20x was Binance USDS-M's default leverage for every account (FAQ 360034946672, 2019) and "
        "still is for 'advanced' accounts, 2x and 5x the defaults for beginner and experienced ones; "
        "125x is the cap on BTCUSDT. Weights are a guess around those defaults.",
    ),
}

# "Any move liquidates someone": the reference buckets plus one at the highest leverage the big
# exchanges offer on BTC (125x on Binance USDS-M BTCUSDT), whose positions are liquidated 0.4 %
# from their entry. Its 10 % comes from the 25x and 100x buckets (5 points each), so the mix
# keeps its shape and its mean distance to liquidation moves only a little.
MAX_LEVERAGE_MIX = Mix(
    (5.0, 10.0, 25.0, 50.0, 100.0, 125.0),
    (0.10, 0.25, 0.25, 0.20, 0.10, 0.10),
    "the reference buckets plus 125x, the highest leverage offered on BTC (Binance USDS-M)",
)
# Long share of new positions in a rising / falling candle: the side that pushed the price opened more.
DIRECTION_LONG_SHARE = (0.6, 0.4)

# Hours the ageing variant's half-life is chosen from (on the fit part).
AGEING_HOURS = (6.0, 12.0, 24.0, 48.0, 96.0, 192.0)
# The fitted mix searches the reference leverages with weights on a simplex
# grid of this step (70 mixes), plus the reference and the exchange's own mix.
MIX_GRID_STEP = 0.25


@dataclass(frozen=True)
class Variant:
    """One way of running the model: the reference with one option changed."""

    key: str
    label: str
    description: str
    # "fixed" (50/50), "long_short" (account ratio), "taker" (taker buy share) or "direction" (the candle's)
    long_share: str = "fixed"
    mix: str = "reference"  # "reference", "exchange" (prior), "fitted" or "max_leverage"
    intrabar: bool = False
    ageing: str | None = None  # None or "fitted"
    turnover: float | None = None  # the engine's turnover option (κ)
    entry_points: int = 1  # the engine's entry-points option

    @property
    def fitted(self) -> bool:
        return self.mix == "fitted" or self.ageing == "fitted"


VARIANTS = (
    Variant(
        "reference",
        "Reference rules",
        "The model page's rules: 50 % of new positions long, leverage 5/10/25/50/100× with 10/25/30/20/15 % of them.",
    ),
    Variant(
        "long_short",
        "Long share from the long/short account ratio",
        "The share of new positions that are long is the exchange's published share of long accounts at that step.",
        long_share="long_short",
    ),
    Variant(
        "taker",
        "Long share from taker buy/sell volume",
        "The share of new positions that are long is the share of the step's volume bought by takers.",
        long_share="taker",
    ),
    Variant(
        "mix_exchange",
        "Leverage mix of the exchange",
        "Leverage buckets and weights written down for this exchange from its published defaults (an assumption).",
        mix="exchange",
    ),
    Variant(
        "mix_fitted",
        "Leverage mix fitted on the first part",
        "Weights of the 5/10/25/50/100× buckets chosen (25 % steps) to best rank the first part's observed steps.",
        mix="fitted",
    ),
    Variant(
        "intrabar",
        "Intrabar crossing order",
        "Positions opened during a candle are liquidated in that candle by the extreme that came after them "
        "(order from finer candles when stored, else from the candle's direction).",
        intrabar=True,
    ),
    Variant(
        "ageing",
        "Ageing of untouched levels",
        "Every pending level loses half its size per half-life (6 h … 8 days, chosen on the first part).",
        ageing="fitted",
    ),
    Variant(
        "direction",
        "Long share from the candle's direction",
        "60 % of the positions opened in a rising candle are long, 40 % in a falling one: the side that pushed "
        "the price opened more of them.",
        long_share="direction",
    ),
    Variant(
        "max_leverage",
        "A bucket at the highest leverage (125×)",
        "The reference buckets plus 125× (10 %, taken from 25× and 100×): the closest a new position's liquidation "
        "can be to its entry (0.4 %).",
        mix="max_leverage",
    ),
    Variant(
        "turnover",
        "Turnover of positions at every step",
        "At every step a share of every position closes and the same share of the open interest opens again at the "
        "step's prices, however little the open interest moved; the share is the step's range (1 − low/high).",
        turnover=1.0,
    ),
    Variant(
        "entry_points",
        "Entries spread over the candle",
        "New positions are opened half at the candle's low and half at its high, instead of all at its typical price.",
        entry_points=2,
    ),
    Variant(
        "turnover_entries",
        "Turnover + entries spread over the candle",
        "The two options above together.",
        turnover=1.0,
        entry_points=2,
    ),
    Variant(
        "continuous",
        "Turnover + entries spread + 125× bucket",
        "Positions turn over at every step, open across the candle's range, with leverage up to 125×: "
        "whatever the move, someone near the price is liquidated.",
        mix="max_leverage",
        turnover=1.0,
        entry_points=2,
    ),
)
# The variant the site's stored grids use today (grids/computation.py).
SITE_DEFAULT = "reference"


def mix_candidates(exchange_mix: Mix | None) -> list[Mix]:
    """The fitted mix's candidates: the reference first, the exchange's prior, then the simplex grid."""
    out = [REFERENCE_MIX]
    if exchange_mix is not None:
        out.append(exchange_mix)
    k = len(DEFAULT_LEVERAGE)
    units = round(1 / MIX_GRID_STEP)
    for cut in itertools.combinations(range(units + k - 1), k - 1):
        # Stars and bars: the gaps between the k - 1 bars are the bucket counts.
        bounds = (-1, *cut, units + k - 1)
        counts = [bounds[i + 1] - bounds[i] - 1 for i in range(k)]
        weights = tuple(c / units for c in counts)
        out.append(Mix(DEFAULT_LEVERAGE, weights, "fitted"))
    return out
