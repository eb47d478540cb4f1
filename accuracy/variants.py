"""The model variants the backtest scores, and the leverage mixes they use.

Every variant is the reference model with one option changed; the engine
options behind them are in ``liqengine/variants.py`` and the inputs
(long share from the account ratio or taker volume, other leverage buckets)
are the engine's ordinary inputs. A variant with a fitted parameter chooses it
on the first part of the period only (see :mod:`.backtest`).

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
    long_share: str = "fixed"  # "fixed" (50/50), "long_short" (account ratio) or "taker" (taker buy share)
    mix: str = "reference"  # "reference", "exchange" (prior) or "fitted"
    intrabar: bool = False
    ageing: str | None = None  # None or "fitted"

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
