"""Exchange liquidation-price formulas and maintenance-margin tiers.

The model page fixes the default formulas (isolated margin, maintenance margin
measured at the liquidation price, as Binance USDⓈ-M / COIN-M do):

    linear   long  = E (1 - 1/L) / (1 - m)        short = E (1 + 1/L) / (1 + m)
    inverse  long  = E (1 + m) / (1 + 1/L)        short = E (1 - m) / (1 - 1/L)

Two things vary between exchanges and are parameters here:

* ``maintenance_basis``: Binance (and Bybit's current unified-account inverse
  formula) charge maintenance margin on the position value *at the liquidation
  price*; Bybit's classic USDT-contract formula charges it on the value *at
  entry*, which gives ``long = E (1 - 1/L + m)``. Both are documented by the
  exchanges with worked examples (see tests/liqengine/test_formulas.py).
* a maintenance amount ``c`` (Binance ``cum``, Bybit "MM deduction") from the
  tier the position falls in. The model only knows aggregate open interest, not
  position sizes, so every level of a bucket is priced as if it belonged to one
  position of a *representative notional* ``N`` (quote currency for linear,
  base coin for inverse). Then ``c / Q = c E / N`` and every level price is still
  proportional to its entry price, which keeps the engine vectorised.

A formula returns NaN where the exchange would show no liquidation price
(``L <= 1`` for an inverse short, or any non-positive result, which Binance
displays as "--"): the engine creates no level there.

The single-position functions at the bottom (Binance USDⓈ-M / COIN-M with a
wallet balance, cross or isolated) are the exchanges' own formulas, used by the
tests to check this module against published examples and a real Binance
``positionRisk`` response.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

__all__ = [
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

_CONTRACTS = ("linear", "inverse")
_BASES = ("liquidation", "entry")


@dataclass(frozen=True)
class LiquidationFormula:
    """An exchange's isolated-margin liquidation price for one new position.

    ``contract`` is ``"linear"`` (USDT/USDC-margined, quantity in base coin) or
    ``"inverse"`` (coin-margined, quantity in USD contracts).
    ``maintenance_basis`` is ``"liquidation"`` (Binance; the model page's
    formulas) or ``"entry"`` (Bybit classic USDT contracts: maintenance margin
    on the entry value).
    """

    contract: str = "linear"
    maintenance_basis: str = "liquidation"

    def __post_init__(self):
        if self.contract not in _CONTRACTS:
            raise ValueError(f"contract must be one of {_CONTRACTS}, got {self.contract!r}")
        if self.maintenance_basis not in _BASES:
            raise ValueError(f"maintenance_basis must be one of {_BASES}, got {self.maintenance_basis!r}")

    def level_prices(self, entry, leverage, mmr, amount_ratio=None):
        """Long and short liquidation prices for every (entry price, bucket) pair.

        ``entry`` has shape (M,), ``leverage``/``mmr``/``amount_ratio`` shape (K,);
        ``amount_ratio`` is ``c / N`` (maintenance amount over representative
        notional, 0 for a first tier). Returns two (M, K) float64 arrays, NaN
        where no level exists. When ``amount_ratio`` is 0 the expressions are
        evaluated in exactly the model page's order, so the result is
        bit-for-bit what a plain-Python implementation of that page computes.
        """
        e = np.asarray(entry, dtype=np.float64)[:, None]
        lev = np.asarray(leverage, dtype=np.float64)[None, :]
        m = np.asarray(mmr, dtype=np.float64)[None, :]
        r = None
        if amount_ratio is not None:
            r = np.asarray(amount_ratio, dtype=np.float64)[None, :]
            if not r.any():
                r = None
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            if self.contract == "linear":
                if self.maintenance_basis == "liquidation":
                    if r is None:
                        long = e * (1 - 1 / lev) / (1 - m)
                        short = e * (1 + 1 / lev) / (1 + m)
                    else:
                        long = (e * (1 - 1 / lev) - e * r) / (1 - m)
                        short = (e * (1 + 1 / lev) + e * r) / (1 + m)
                else:
                    rr = 0.0 if r is None else r
                    long = e * (1 - 1 / lev + m - rr)
                    short = e * (1 + 1 / lev - m + rr)
            else:
                rr = 0.0 if r is None else r
                if self.maintenance_basis == "liquidation":
                    if r is None:
                        long = e * (1 + m) / (1 + 1 / lev)
                        short = e * (1 - m) / (1 - 1 / lev)
                    else:
                        long = e * (1 + m) / (1 + 1 / lev + rr)
                        short = e * (1 - m) / (1 - 1 / lev - rr)
                    short_den = 1 - 1 / lev - rr
                else:
                    long = e / (1 + 1 / lev - m + rr)
                    short_den = 1 - 1 / lev + m - rr
                    short = e / short_den
                # "No level when L <= 1": a short with a non-positive denominator
                # can never be liquidated (the formula's sign flips).
                short = np.where(np.broadcast_to(short_den, short.shape) > 0, short, np.nan)
        long = np.where(np.isfinite(long) & (long > 0), long, np.nan)
        short = np.where(np.isfinite(short) & (short > 0), short, np.nan)
        return long, short

    def liquidation_price(self, entry: float, leverage: float, mmr: float, side: str, amount_ratio: float = 0.0):
        """One position's liquidation price (NaN when none); ``side`` is "long" or "short"."""
        if side not in ("long", "short"):
            raise ValueError(f"side must be 'long' or 'short', got {side!r}")
        long, short = self.level_prices([entry], [leverage], [mmr], [amount_ratio])
        return float((long if side == "long" else short)[0, 0])


#: The model page's formulas (Binance-style, linear): the engine's default.
LINEAR = LiquidationFormula("linear", "liquidation")
#: The model page's inverse formulas (Binance COIN-M, Bybit unified inverse).
INVERSE = LiquidationFormula("inverse", "liquidation")
#: Bybit classic USDT-contract isolated formula (maintenance margin at entry).
BYBIT_LINEAR = LiquidationFormula("linear", "entry")


@dataclass(frozen=True)
class Tier:
    """One maintenance-margin tier: notional range [floor, cap), rate, amount ``cum``."""

    floor: float
    cap: float
    mmr: float
    cum: float = 0.0
    max_leverage: float | None = None


def maintenance_amounts(floors: Sequence[float], rates: Sequence[float]) -> list[float]:
    """Maintenance amounts implied by a tier table without them.

    Binance's rule ("Maintenance Amount on Level n = Floor of Level n ×
    (MMR n − MMR n−1) + Maintenance Amount on Level n−1", level 1 = 0) makes the
    maintenance margin continuous across tier boundaries. Bybit's "MM deduction"
    follows the same rule.
    """
    if len(floors) != len(rates):
        raise ValueError(f"floors and rates need the same length (got {len(floors)} and {len(rates)})")
    out: list[float] = []
    for i, (floor, rate) in enumerate(zip(floors, rates)):
        out.append(0.0 if i == 0 else floor * (rate - rates[i - 1]) + out[-1])
    return out


@dataclass(frozen=True)
class TierTable:
    """An exchange's maintenance-margin tiers for one market, ordered by notional."""

    tiers: tuple[Tier, ...] = field(default_factory=tuple)

    def __post_init__(self):
        if not self.tiers:
            raise ValueError("a tier table needs at least one tier")
        for prev, cur in zip(self.tiers, self.tiers[1:]):
            if not cur.floor >= prev.floor:
                raise ValueError("tiers must be ordered by ascending notional floor")
        for t in self.tiers:
            if not (0 <= t.mmr < 1) or t.cap <= t.floor or t.cum < 0:
                raise ValueError(f"invalid tier {t!r}")

    @classmethod
    def from_binance_brackets(cls, brackets: Iterable[Mapping]) -> TierTable:
        """Build from Binance ``/fapi/v1/leverageBracket`` brackets or ccxt leverage tiers.

        Accepts either Binance's raw bracket keys (``notionalFloor``,
        ``notionalCap``, ``maintMarginRatio``, ``cum``, ``initialLeverage``) or
        ccxt's unified keys (``minNotional``, ``maxNotional``,
        ``maintenanceMarginRate``, ``maxLeverage``, with ``cum`` under ``info``).
        """
        tiers = []
        for b in brackets:
            if "notionalFloor" in b:
                tiers.append(
                    Tier(
                        float(b["notionalFloor"]),
                        float(b["notionalCap"]),
                        float(b["maintMarginRatio"]),
                        float(b.get("cum", 0.0)),
                        float(b["initialLeverage"]) if "initialLeverage" in b else None,
                    )
                )
            else:
                info = b.get("info", {})
                tiers.append(
                    Tier(
                        float(b["minNotional"]),
                        float(b["maxNotional"]),
                        float(b["maintenanceMarginRate"]),
                        float(info.get("cum", b.get("cum", 0.0))),
                        float(b["maxLeverage"]) if b.get("maxLeverage") is not None else None,
                    )
                )
        return cls(tuple(sorted(tiers, key=lambda t: t.floor)))

    @classmethod
    def from_records(cls, records: Iterable) -> TierTable:
        """Build from liqsite's stored tiers (``notional_floor``, ``notional_cap``,
        ``maintenance_margin_rate``, ``max_leverage``, ``maintenance_amount``), as
        dicts or objects with those attributes."""
        tiers = []
        for r in records:
            get = r.get if isinstance(r, Mapping) else lambda k, d=None, r=r: getattr(r, k, d)
            max_lev = get("max_leverage", None)
            tiers.append(
                Tier(
                    float(get("notional_floor")),
                    float(get("notional_cap")),
                    float(get("maintenance_margin_rate")),
                    float(get("maintenance_amount", 0.0) or 0.0),
                    None if max_lev is None else float(max_lev),
                )
            )
        return cls(tuple(sorted(tiers, key=lambda t: t.floor)))

    def to_records(self) -> list[dict]:
        """The tiers as JSON-ready dicts in liqsite's stored-tier field names."""
        return [
            {
                "notional_floor": t.floor,
                "notional_cap": t.cap,
                "maintenance_margin_rate": t.mmr,
                "maintenance_amount": t.cum,
                "max_leverage": t.max_leverage,
            }
            for t in self.tiers
        ]

    @classmethod
    def from_rates(cls, floors: Sequence[float], caps: Sequence[float], rates: Sequence[float]) -> TierTable:
        """Build from a table without maintenance amounts, deriving them with :func:`maintenance_amounts`."""
        cums = maintenance_amounts(floors, rates)
        return cls(tuple(Tier(float(f), float(c), float(r), float(a)) for f, c, r, a in zip(floors, caps, rates, cums)))

    def tier_for(self, notional: float) -> Tier:
        """The tier whose [floor, cap) holds ``notional`` (the last tier above the top cap)."""
        for t in self.tiers:
            if t.floor <= notional < t.cap:
                return t
        if notional < self.tiers[0].floor:
            return self.tiers[0]
        return self.tiers[-1]

    def bucket_terms(
        self,
        formula: LiquidationFormula,
        leverage: Sequence[float],
        position_notional: Sequence[float | None] | float | None,
    ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Per-side, per-bucket ``(mmr, c/N)`` for positions of the given representative notionals.

        ``position_notional`` is one value per bucket (or one for all); ``None``
        means "a position small enough for the first tier" with no maintenance
        amount, which reproduces the model page's default rules exactly.

        The tier is the one that holds the position's notional *at its
        liquidation price*, as Binance prescribes ("if your position calculated
        at the liquidation price and at the opening price are of different
        levels, substitute the level at the liquidation price"). Because every
        level price is proportional to its entry price, that notional is
        ``N × price/entry`` whatever the entry, so the tier is fixed per bucket
        and side. When no tier is self-consistent, the tier of the entry
        notional is used. Returns ``{"long": (mmr, ratio), "short": (mmr, ratio)}``.
        """
        lev = np.asarray(leverage, dtype=np.float64)
        k = len(lev)
        if position_notional is None or np.isscalar(position_notional):
            notionals = [position_notional] * k
        else:
            notionals = list(position_notional)
            if len(notionals) != k:
                raise ValueError(f"position_notional needs one value per bucket (got {len(notionals)}, expected {k})")
        out = {side: (np.empty(k), np.zeros(k)) for side in ("long", "short")}
        for i, n in enumerate(notionals):
            if n is None:
                for side in out:
                    out[side][0][i] = self.tiers[0].mmr
                continue
            n = float(n)
            if not (np.isfinite(n) and n > 0):
                raise ValueError(f"position_notional must be > 0, got {n!r}")
            for j, side in enumerate(("long", "short")):
                chosen = self.tier_for(n)
                for t in self.tiers:
                    prices = formula.level_prices([1.0], [lev[i]], [t.mmr], [t.cum / n])
                    # Notional at the liquidation price, for a linear contract:
                    # Q × LP = N × LP / E. An inverse position's notional in coin
                    # is S / LP = N × E / LP.
                    rel = prices[j][0, 0]
                    at_liq = n * rel if formula.contract == "linear" else n / rel
                    if np.isfinite(at_liq) and t.floor <= at_liq < t.cap:
                        chosen = t
                        break
                out[side][0][i] = chosen.mmr
                out[side][1][i] = chosen.cum / n
        return out


def binance_usdm_liquidation_price(
    wallet_balance: float,
    position: float,
    entry_price: float,
    mmr: float,
    cum: float = 0.0,
    *,
    other_maintenance: float = 0.0,
    other_unrealized_pnl: float = 0.0,
) -> float:
    """Binance USDⓈ-M liquidation price of one one-way position (cross or isolated).

    Binance's formula: ``LP = (WB − TMM1 + UPNL1 + cum − side·Q·EP) / (Q·MMR − side·Q)``
    with ``position`` signed (+ long, − short), ``Q = |position|``. In isolated
    mode ``wallet_balance`` is the isolated wallet and ``other_*`` are 0; with
    ``WB = Q·EP/L`` it reduces to the model page's linear formula.
    """
    side = 1.0 if position > 0 else -1.0
    q = abs(position)
    return (wallet_balance - other_maintenance + other_unrealized_pnl + cum - side * q * entry_price) / (q * mmr - side * q)


def binance_coinm_liquidation_price(
    wallet_balance: float, contracts: float, contract_size: float, entry_price: float, mmr: float, cum: float = 0.0
) -> float:
    """Binance COIN-M liquidation price of one one-way position (isolated, or cross alone).

    ``LP = (S·MMR + side·S) / (WB + cum + side·S/EP)`` with ``S = |contracts| ×
    contract_size`` in USD and ``WB``, ``cum`` in coin. With ``WB = S/(EP·L)`` it
    reduces to the model page's inverse formula.
    """
    side = 1.0 if contracts > 0 else -1.0
    s = abs(contracts) * contract_size
    return (s * mmr + side * s) / (wallet_balance + cum + side * s / entry_price)
