"""The plain step-by-step loop of ``reference.py`` with the engine's options spelled out.

Each option of ``heatmaps/engine/variants.py`` is written here as words in a
loop, the way ``reference.py`` writes the model page, so the property tests
can hold the engine to it:

* ``half_life_steps`` (ageing): in step 2 every pending level is multiplied by
  the closing factor AND by ``2 ** (-1 / half_life_steps)``; the closing rule
  itself reads the aged quantities.
* ``high_first`` (intrabar crossing order): after step 3, a long level just
  opened in a candle whose high came first (1) is liquidated at once if its
  price is at or above the candle's low; a short level just opened in a candle
  whose low came first (0) if its price is at or below the high. It is
  realized with its full quantity and never becomes pending. -1: nothing.

With both options off this is ``reference.reference_model`` (a test checks it).
"""

from __future__ import annotations

import bisect
import math

from tests.engine.reference import DEFAULT_LEVERAGE, DEFAULT_WEIGHTS, level_price


def reference_variant_model(
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
    default_long_share=0.5,
    taker_buy_volume=None,
    volume=None,
    half_life_steps=None,
    high_first=None,
):
    """Return the same dict as ``reference_model``: grids, realized_*, pending_*, f, remaining_q."""
    n = len(high)
    nb = len(edges) - 1
    k = len(leverage)
    age = 1.0 if half_life_steps is None else 2.0 ** (-1.0 / half_life_steps)
    out = {
        "long_grid": [[0.0] * nb for _ in range(n)],
        "short_grid": [[0.0] * nb for _ in range(n)],
        "realized_long": [0.0] * n,
        "realized_short": [0.0] * n,
        "pending_long": [0.0] * n,
        "pending_short": [0.0] * n,
        "f": [1.0] * n,
        "remaining_q": [0.0] * n,
    }
    pending = []  # each level: [side, price, quantity, bin]
    for t in range(n):
        if t >= 1:
            # 1. Crossing.
            lq = 0.0
            still = []
            for lv in pending:
                side, price, q, _ = lv
                if (price >= low[t]) if side == "long" else (price <= high[t]):
                    out["realized_" + side][t] += q * price
                    lq += q
                else:
                    still.append(lv)
            pending = still
            out["remaining_q"][t] = sum(lv[2] for lv in pending)
            # 2. Closing (the page's rule on the aged quantities), then ageing.
            prev = open_interest[t - 1]
            if prev - lq <= 1e-9 * prev:
                f = 0.0
            else:
                d = max(0.0, prev - open_interest[t] - lq)
                f = min(1.0, max(0.0, 1 - d / (prev - lq)))
            out["f"][t] = f
            for lv in pending:
                lv[2] *= f
                lv[2] *= age
            # 3. Opening.
            d_oi = open_interest[t] - open_interest[t - 1]
            if d_oi > 0:
                entry = (high[t] + low[t] + close[t]) / 3
                sigma = None
                if long_share is not None and not math.isnan(long_share[t]):
                    sigma = long_share[t]
                elif taker_buy_volume is not None and volume is not None:
                    tb, v = taker_buy_volume[t], volume[t]
                    if not math.isnan(tb) and not math.isnan(v) and v > 0:
                        sigma = min(1.0, max(0.0, tb / v))
                if sigma is None:
                    sigma = default_long_share
                for side, share in (("long", sigma), ("short", 1 - sigma)):
                    for j in range(k):
                        price = level_price(entry, leverage[j], mmr[j], side, contract, basis)
                        q = d_oi * share * weights[j]
                        if price is None or q <= 0:
                            continue
                        # 4. The extreme that came after the opening (intrabar option).
                        order = -1 if high_first is None else high_first[t]
                        if side == "long" and order == 1 and price >= low[t]:
                            out["realized_long"][t] += q * price
                            continue
                        if side == "short" and order == 0 and price <= high[t]:
                            out["realized_short"][t] += q * price
                            continue
                        b = bisect.bisect_right(edges, price) - 1
                        pending.append([side, price, q, b if 0 <= b < nb else -1])
        for side, price, q, b in pending:
            out["pending_" + side][t] += q * price
            if b >= 0:
                out[side + "_grid"][t][b] += q * price
    return out
