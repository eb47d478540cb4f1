"""A plain, step-by-step implementation of the model page, for checking the engine.

It keeps a list of pending levels and walks the steps exactly as
``liquidation-model.md`` words them: crossing, then closing, then opening; a
snapshot of every pending level after each step. No numpy in the stepping, no
cleverness: slow (O(steps × pending levels)) and obviously right.

Two documented engine choices are mirrored so the comparison is exact:
a level whose formula gives no price (inverse short with L <= 1, or a price
<= 0) is not created, and levels with zero quantity are not created (they
would add nothing anywhere).

The engine's options (``liqengine/options.py``) are spelled out here
too, off by default, so one loop holds the engine to the page and to them:

* ``half_life_steps`` (ageing): in step 2 every pending level is multiplied by
  the closing factor AND by ``2 ** (-1 / half_life_steps)``; the closing rule
  itself reads the aged quantities.
* ``high_first`` (intrabar crossing order): after step 3, a long level just
  opened in a candle whose high came first (1) is liquidated at once if its
  price is at or above the candle's low; a short level just opened in a candle
  whose low came first (0) if its price is at or below the high. It is
  realized with its full quantity and never becomes pending. -1: nothing.
* ``turnover`` (κ): in step 2, after the closing factor, every pending level
  is also multiplied by ``keep = (low / high) ** κ``; in step 3 the quantity
  opened is ``max(ΔOI, 0) + (1 − keep) × min(OI_{t−1}, OI_t)`` (opening happens
  whenever that is positive, not only when OI rose).
* ``entry_points`` (n): in step 3 the opened quantity is split equally over n
  entry prices ``low × (1 − i/(n−1)) + high × i/(n−1)``, i = 0 … n−1 (n = 1:
  the typical price), each giving one level per side and bucket.
"""

from __future__ import annotations

import bisect
import itertools
import math

DEFAULT_LEVERAGE = (5, 10, 25, 50, 100)
DEFAULT_WEIGHTS = (0.10, 0.25, 0.30, 0.20, 0.15)


def level_price(entry, lev, m, side, contract="linear", basis="liquidation", ratio=0.0):
    """The model page's liquidation price, written out per case; None when there is no level."""
    e, L = entry, lev
    if contract == "linear" and basis == "liquidation":
        if ratio == 0.0:
            p = e * (1 - 1 / L) / (1 - m) if side == "long" else e * (1 + 1 / L) / (1 + m)
        else:
            p = (e * (1 - 1 / L) - e * ratio) / (1 - m) if side == "long" else (e * (1 + 1 / L) + e * ratio) / (1 + m)
    elif contract == "linear":
        p = e * (1 - 1 / L + m - ratio) if side == "long" else e * (1 + 1 / L - m + ratio)
    elif basis == "liquidation":
        if side == "long":
            p = e * (1 + m) / (1 + 1 / L) if ratio == 0.0 else e * (1 + m) / (1 + 1 / L + ratio)
        else:
            den = 1 - 1 / L - ratio
            if den <= 0:
                return None
            p = e * (1 - m) / (1 - 1 / L) if ratio == 0.0 else e * (1 - m) / den
    else:
        if side == "long":
            p = e / (1 + 1 / L - m + ratio)
        else:
            den = 1 - 1 / L + m - ratio
            if den <= 0:
                return None
            p = e / den
    if not math.isfinite(p) or p <= 0:
        return None
    return p


def reference_model(
    high,
    low,
    close,
    open_interest,
    edges,
    long_share=None,
    leverage=DEFAULT_LEVERAGE,
    weights=DEFAULT_WEIGHTS,
    mmr=(0.004,) * 5,
    *,
    contract="linear",
    basis="liquidation",
    ratios=None,
    default_long_share=0.5,
    taker_buy_volume=None,
    volume=None,
    only_bucket=None,
    half_life_steps=None,
    high_first=None,
    turnover=None,
    entry_points=1,
):
    """Return a dict of lists: long_grid, short_grid (T × bins), realized_*, pending_*, f, remaining_q, pending_q.

    With ``only_bucket`` (a bucket index) the grids, realized and pending
    outputs count that bucket's levels only; the model still runs with all.
    """
    n = len(high)
    nb = len(edges) - 1
    k = len(leverage)
    ratios = ratios or {"long": [0.0] * k, "short": [0.0] * k}
    age = 1.0 if half_life_steps is None else 2.0 ** (-1.0 / half_life_steps)
    mmrs = mmr if isinstance(mmr, dict) else {"long": list(mmr), "short": list(mmr)}
    out = {
        "long_grid": [[0.0] * nb for _ in range(n)],
        "short_grid": [[0.0] * nb for _ in range(n)],
        "realized_long": [0.0] * n,
        "realized_short": [0.0] * n,
        "pending_long": [0.0] * n,
        "pending_short": [0.0] * n,
        "f": [1.0] * n,
        # Quantity left pending after each step's crossing (what f then scales).
        "remaining_q": [0.0] * n,
        # Quantity pending after each step (base units, every bucket, in view or not).
        "pending_q": [0.0] * n,
    }
    pending = []  # each level: [side, price, quantity, bin, bucket]

    def shown(bucket):
        return only_bucket is None or bucket == only_bucket

    for t in range(n):
        if t >= 1:
            # 1. Crossing: levels created before t whose price the candle reached.
            lq = 0.0
            still = []
            for lv in pending:
                side, price, q, _, bucket = lv
                hit = price >= low[t] if side == "long" else price <= high[t]
                if hit:
                    if shown(bucket):
                        out["realized_" + side][t] += q * price
                    lq += q
                else:
                    still.append(lv)
            pending = still
            out["remaining_q"][t] = sum(lv[2] for lv in pending)
            # 2. Closing: the fall in OI not explained by liquidations, pro rata.
            prev = open_interest[t - 1]
            # The engine's documented reading of "<= 0": a remainder below a
            # billionth of the open interest is rounding (see model.EMPTIED_FRACTION).
            if prev - lq <= 1e-9 * prev:
                f = 0.0
            else:
                d = max(0.0, prev - open_interest[t] - lq)
                f = min(1.0, max(0.0, 1 - d / (prev - lq)))
            out["f"][t] = f
            keep = 1.0 if turnover is None else (low[t] / high[t]) ** turnover
            for lv in pending:
                lv[2] *= f
                lv[2] *= age
                lv[2] *= keep
            # 3. Opening: new positions at the typical price (or the entry points), split by side and bucket.
            d_oi = open_interest[t] - open_interest[t - 1]
            opened = max(d_oi, 0.0)
            if turnover is not None:
                opened += (1 - keep) * min(open_interest[t - 1], open_interest[t])
            if entry_points == 1:
                entries = [(high[t] + low[t] + close[t]) / 3]
            else:
                entries = [
                    low[t] * (1 - i / (entry_points - 1)) + high[t] * (i / (entry_points - 1)) for i in range(entry_points)
                ]
            if opened > 0:
                sigma = None
                if long_share is not None and not math.isnan(long_share[t]):
                    sigma = long_share[t]
                elif taker_buy_volume is not None and volume is not None:
                    tb, v = taker_buy_volume[t], volume[t]
                    if not math.isnan(tb) and not math.isnan(v) and v > 0:
                        sigma = min(1.0, max(0.0, tb / v))
                if sigma is None:
                    sigma = default_long_share
                for entry, (side, share) in itertools.product(entries, (("long", sigma), ("short", 1 - sigma))):
                    for j in range(k):
                        price = level_price(entry, leverage[j], mmrs[side][j], side, contract, basis, ratios[side][j])
                        q = opened / entry_points * share * weights[j]
                        if price is None or q <= 0:
                            continue
                        # 4. The extreme that came after the opening (intrabar option).
                        order = -1 if high_first is None else high_first[t]
                        if side == "long" and order == 1 and price >= low[t]:
                            if shown(j):
                                out["realized_long"][t] += q * price
                            continue
                        if side == "short" and order == 0 and price <= high[t]:
                            if shown(j):
                                out["realized_short"][t] += q * price
                            continue
                        b = bisect.bisect_right(edges, price) - 1
                        pending.append([side, price, q, b if 0 <= b < nb else -1, j])
        # Snapshot after the step.
        out["pending_q"][t] = sum(lv[2] for lv in pending)
        for side, price, q, b, bucket in pending:
            if not shown(bucket):
                continue
            out["pending_" + side][t] += q * price
            if b >= 0:
                out[side + "_grid"][t][b] += q * price
    return out
