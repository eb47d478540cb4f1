"""Model parameters and per-market inputs, as plain frozen dataclasses.

``ModelParams`` gathers the model page's parameters (leverage buckets, weights,
maintenance margin or tiers, the exchange formula, the default long share) so
one object can be stored beside a computed grid and shown on the page that
displays it. ``MarketSeries`` is one market's rows as the engine needs them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .formulas import LINEAR, LiquidationFormula, TierTable
from .options import check_entry_points, check_half_life, check_high_first, check_turnover
from .validate import (
    check_buckets,
    check_long_share,
    check_open_interest,
    check_open_time,
    check_prices,
    check_same_length,
    check_taker,
)

__all__ = ["ModelParams", "MarketSeries", "DEFAULT_LEVERAGE", "DEFAULT_WEIGHTS", "DEFAULT_MMR"]

DEFAULT_LEVERAGE = (5.0, 10.0, 25.0, 50.0, 100.0)
DEFAULT_WEIGHTS = (0.10, 0.25, 0.30, 0.20, 0.15)
DEFAULT_MMR = 0.004


@dataclass(frozen=True)
class ModelParams:
    """The model page's parameters for one market.

    ``mmr`` and ``tiers`` are alternatives: give a maintenance margin rate per
    bucket, or an exchange tier table (then each bucket's rate and maintenance
    amount come from the tier of ``position_notional``; see
    :meth:`TierTable.bucket_terms`). With neither, every bucket uses 0.004.
    """

    leverage: tuple[float, ...] = DEFAULT_LEVERAGE
    weights: tuple[float, ...] = DEFAULT_WEIGHTS
    mmr: tuple[float, ...] | None = None
    formula: LiquidationFormula = LINEAR
    tiers: TierTable | None = None
    position_notional: tuple[float | None, ...] | float | None = None
    default_long_share: float = 0.5
    # Options the page's rules leave out (see .options): ageing of untouched
    # levels, turnover of positions at every step, entry prices spread over the range.
    half_life_steps: float | None = None
    turnover: float | None = None
    entry_points: int = 1

    def __post_init__(self):
        # Normalise sequences to tuples so the dataclass stays hashable and frozen.
        object.__setattr__(self, "leverage", tuple(float(x) for x in self.leverage))
        object.__setattr__(self, "weights", tuple(float(x) for x in self.weights))
        if self.mmr is not None:
            object.__setattr__(self, "mmr", tuple(float(x) for x in self.mmr))
        if self.position_notional is not None and not np.isscalar(self.position_notional):
            object.__setattr__(self, "position_notional", tuple(self.position_notional))
        if not isinstance(self.formula, LiquidationFormula):
            raise ValueError(f"formula must be a LiquidationFormula, got {self.formula!r}")
        if self.tiers is not None and self.mmr is not None:
            raise ValueError("give either mmr or tiers, not both (tiers set each bucket's mmr)")
        if self.tiers is None and self.position_notional is not None:
            raise ValueError("position_notional only applies together with tiers")
        k = len(self.leverage)
        mmr = self.mmr if self.mmr is not None else (DEFAULT_MMR,) * k
        check_buckets(self.leverage, self.weights, mmr if self.tiers is None else (0.0,) * k)
        if not (0.0 <= float(self.default_long_share) <= 1.0):
            raise ValueError(f"default long_share must lie in [0, 1], got {self.default_long_share!r}")
        object.__setattr__(self, "half_life_steps", check_half_life(self.half_life_steps))
        object.__setattr__(self, "turnover", check_turnover(self.turnover))
        object.__setattr__(self, "entry_points", check_entry_points(self.entry_points))

    def to_dict(self) -> dict:
        """JSON-ready description of the parameters (stored beside a grid, shown on its page)."""
        terms = self.bucket_terms()
        return {
            "leverage": list(self.leverage),
            "weights": list(self.weights),
            "mmr": None if self.mmr is None else list(self.mmr),
            "formula": {"contract": self.formula.contract, "maintenance_basis": self.formula.maintenance_basis},
            "tiers": None if self.tiers is None else self.tiers.to_records(),
            "position_notional": (
                list(self.position_notional) if isinstance(self.position_notional, tuple) else self.position_notional
            ),
            "default_long_share": float(self.default_long_share),
            "half_life_steps": self.half_life_steps,
            "turnover": self.turnover,
            "entry_points": self.entry_points,
            # The per-bucket terms actually used, after any tier lookup.
            "effective": {side: {"mmr": m.tolist(), "amount_ratio": r.tolist()} for side, (m, r) in terms.items()},
        }

    def bucket_terms(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Per-side ``(mmr, c/N)`` arrays, one value per bucket."""
        k = len(self.leverage)
        if self.tiers is not None:
            return self.tiers.bucket_terms(self.formula, self.leverage, self.position_notional)
        mmr = np.asarray(self.mmr if self.mmr is not None else (DEFAULT_MMR,) * k, dtype=np.float64)
        return {"long": (mmr, np.zeros(k)), "short": (mmr, np.zeros(k))}


@dataclass(frozen=True)
class MarketSeries:
    """One market's rows: candles, open interest (base units, end of step) and optional extras.

    ``open_time`` (int64 epoch ms, strictly increasing) is needed to align
    markets and to cut windows; ``liquidation_grid`` works without it.
    ``long_share`` may hold NaN for steps without a reading.
    ``taker_buy_volume`` and ``volume`` switch on the documented taker-ratio
    long share for steps without ``long_share``. ``high_first`` (per step: 1
    high first, 0 low first, -1 unknown) switches on the intrabar crossing
    order option (see :mod:`.options`).
    """

    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    open_interest: np.ndarray
    open_time: np.ndarray | None = None
    long_share: np.ndarray | None = None
    taker_buy_volume: np.ndarray | None = None
    volume: np.ndarray | None = None
    params: ModelParams = field(default_factory=ModelParams)
    high_first: np.ndarray | None = None

    def checked(self) -> MarketSeries:
        """Return a copy with every array validated and converted (raises ``ValueError``)."""
        h, lo, c = check_prices(self.high, self.low, self.close)
        oi = check_open_interest(self.open_interest)
        n = check_same_length(high=h, low=lo, close=c, open_interest=oi)
        ot = None if self.open_time is None else check_open_time(self.open_time, n)
        ls = None if self.long_share is None else check_long_share(self.long_share, n, self.params.default_long_share)
        tb, v = check_taker(self.taker_buy_volume, self.volume, n)
        hf = None if self.high_first is None else check_high_first(self.high_first, n)
        return MarketSeries(h, lo, c, oi, ot, ls, tb, v, self.params, high_first=hf)

    def __len__(self) -> int:
        return len(self.high)

    def slice(self, start: int, stop: int) -> MarketSeries:
        """Rows ``[start, stop)`` of every array (no copy)."""

        def cut(a):
            return None if a is None else a[start:stop]

        return MarketSeries(
            self.high[start:stop],
            self.low[start:stop],
            self.close[start:stop],
            self.open_interest[start:stop],
            cut(self.open_time),
            cut(self.long_share),
            cut(self.taker_buy_volume),
            cut(self.volume),
            self.params,
            high_first=cut(self.high_first),
        )

    def long_share_series(self) -> np.ndarray:
        """σ_t for every step: ``long_share`` where present, else the taker ratio (if given), else the default."""
        n = len(self.high)
        sigma = check_long_share(self.long_share, n, self.params.default_long_share)
        if self.taker_buy_volume is not None and self.volume is not None:
            tb = np.asarray(self.taker_buy_volume, dtype=np.float64)
            vol = np.asarray(self.volume, dtype=np.float64)
            usable = np.isfinite(tb) & np.isfinite(vol) & (vol > 0)
            ratio = np.full(n, np.nan)
            # Exchanges round the two volumes independently: clip the ratio into [0, 1].
            ratio[usable] = np.clip(tb[usable] / vol[usable], 0.0, 1.0)
            sigma = np.where(np.isnan(sigma), ratio, sigma)
        return np.where(np.isnan(sigma), float(self.params.default_long_share), sigma)
