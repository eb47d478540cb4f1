"""Three naive maps every score is shown beside, computed the same way as the model's.

All use only what was known before the step they score (the previous step's
close and open interest) plus the step's own price range, exactly as the
model's "realised" liquidations use the levels known before a step and the
range the step then traded:

* **Range** (key ``volatility``, its name before per-side scores): a step's
  liquidations are its price range times the open interest at its start (USD:
  base units × price), the same for longs and shorts. On a price map it is
  that value spread evenly over the prices within one step range of the last
  close.
* **Swing**: the side-aware version. Longs are liquidated by how far the step
  fell below the last close, ``(close_{t−1} − low_t)⁺ × OI_{t−1}``, shorts by
  how far it rose above it, ``(high_t − close_{t−1})⁺ × OI_{t−1}``. On a price
  map: the long value on the prices from the last close down by the step's
  fall, the short value up by its rise.
* **Fixed bands**: every bucket ``L`` of the reference mix puts half its share
  ``w_L`` of the last open interest (USD) at ``last close × (1 − 1/L)`` (longs)
  and half at ``last close × (1 + 1/L)`` (shorts); a step realises the bands
  its range reaches. No maintenance margin, no history: bands move with price.

Pure numpy, no Django.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "volatility_per_step",
    "swing_per_side",
    "bands_per_step",
    "bands_per_side",
    "volatility_rows",
    "swing_rows",
    "bands_rows",
    "BASELINES",
    "DESCRIPTIONS",
]

# Keys and labels of the baselines, in the order tables show them.
BASELINES = {
    "volatility": "Range baseline (step range × open interest)",
    "swing": "Swing baseline (fall / rise from the last close × open interest)",
    "bands": "Fixed bands at ±1/L around the last price",
}
DESCRIPTIONS = {
    "volatility": "A step's liquidations are its high − low times the open interest at its start, for longs and shorts "
    "alike; on a price map, that value on every price within one step range of the last close.",
    "swing": "Longs: how far the step fell below the last close, shorts: how far it rose above it, times the open "
    "interest at its start; on a price map, each side's value on the prices it swung through.",
    "bands": "Half of each leverage bucket's share of the last open interest at last close × (1 − 1/L), half at "
    "× (1 + 1/L), for the reference buckets; a step realises the bands its range reaches.",
}


def volatility_per_step(high, low, open_interest) -> np.ndarray:
    """``(high_t − low_t) × OI_{t−1}`` per step (0 at the first step: no open interest known before it)."""
    h, lo, oi = (np.asarray(a, dtype=np.float64) for a in (high, low, open_interest))
    out = np.zeros(len(h))
    out[1:] = (h[1:] - lo[1:]) * oi[:-1]
    return out


def swing_per_side(high, low, close, open_interest) -> tuple[np.ndarray, np.ndarray]:
    """``((close_{t−1} − low_t)⁺ × OI_{t−1}, (high_t − close_{t−1})⁺ × OI_{t−1})`` per step (0 at the first step)."""
    h, lo, c, oi = (np.asarray(a, dtype=np.float64) for a in (high, low, close, open_interest))
    longs, shorts = np.zeros(len(h)), np.zeros(len(h))
    longs[1:] = np.maximum(c[:-1] - lo[1:], 0.0) * oi[:-1]
    shorts[1:] = np.maximum(h[1:] - c[:-1], 0.0) * oi[:-1]
    return longs, shorts


def _band_prices(last_close: np.ndarray, leverage) -> tuple[np.ndarray, np.ndarray]:
    lev = np.asarray(leverage, dtype=np.float64)
    return last_close[:, None] * (1 - 1 / lev)[None, :], last_close[:, None] * (1 + 1 / lev)[None, :]


def bands_per_side(high, low, close, open_interest, leverage, weights) -> tuple[np.ndarray, np.ndarray]:
    """USD of the fixed long and short bands (set at the previous close) each step's range reaches (0 at the first step)."""
    h, lo, c, oi = (np.asarray(a, dtype=np.float64) for a in (high, low, close, open_interest))
    w = np.asarray(weights, dtype=np.float64)
    out_long, out_short = np.zeros(len(h)), np.zeros(len(h))
    if len(h) < 2:
        return out_long, out_short
    longs, shorts = _band_prices(c[:-1], leverage)
    value = 0.5 * (oi[:-1] * c[:-1])[:, None] * w[None, :]
    out_long[1:] = ((longs >= lo[1:, None]) * value).sum(axis=1)
    out_short[1:] = ((shorts <= h[1:, None]) * value).sum(axis=1)
    return out_long, out_short


def bands_per_step(high, low, close, open_interest, leverage, weights) -> np.ndarray:
    """USD of the fixed bands (set at the previous close) that each step's range reaches (0 at the first step)."""
    longs, shorts = bands_per_side(high, low, close, open_interest, leverage, weights)
    return longs + shorts


def volatility_rows(rows, high, low, close, open_interest, edges) -> np.ndarray:
    """The volatility map after each of ``rows``: ``OI_r × range_r`` on every bin within one range of ``close_r``."""
    rows = np.asarray(rows, dtype=np.int64)
    out = np.zeros((len(rows), len(edges) - 1))
    h, lo, c, oi = (np.asarray(a, dtype=np.float64)[rows] for a in (high, low, close, open_interest))
    span = h - lo
    # Bins overlapping [c - span, c + span].
    first = np.searchsorted(edges, c - span, side="right") - 1
    last = np.searchsorted(edges, c + span, side="left")  # exclusive
    first = np.clip(first, 0, len(edges) - 1)
    last = np.clip(last, 0, len(edges) - 1)
    for i in range(len(rows)):
        out[i, first[i] : max(last[i], first[i] + 1)] = oi[i] * span[i]
    return out


def swing_rows(rows, high, low, close, open_interest, edges) -> np.ndarray:
    """The swing map after each of ``rows``: the step's long value on the bins from ``close_r`` down by its fall,
    the short value on the bins up by its rise (a row's map uses that row's step only, as the others do)."""
    rows = np.asarray(rows, dtype=np.int64)
    out = np.zeros((len(rows), len(edges) - 1))
    longs, shorts = swing_per_side(high, low, close, open_interest)
    c = np.asarray(close, dtype=np.float64)
    prev = np.r_[c[0], c[:-1]]
    fall = np.maximum(prev - np.asarray(low, dtype=np.float64), 0.0)
    rise = np.maximum(np.asarray(high, dtype=np.float64) - prev, 0.0)
    last = len(edges) - 1
    for i, r in enumerate(rows.tolist()):
        for value, lo_price, hi_price in ((longs[r], c[r] - fall[r], c[r]), (shorts[r], c[r], c[r] + rise[r])):
            if value <= 0:
                continue
            first = int(np.clip(np.searchsorted(edges, lo_price, side="right") - 1, 0, last))
            stop = int(np.clip(np.searchsorted(edges, hi_price, side="left"), 0, last))
            out[i, first : max(stop, first + 1)] += value
    return out


def bands_rows(rows, close, open_interest, edges, leverage, weights) -> np.ndarray:
    """The fixed-bands map after each of ``rows``: each band's USD in the bin holding its price."""
    rows = np.asarray(rows, dtype=np.int64)
    nb = len(edges) - 1
    out = np.zeros((len(rows), nb))
    c = np.asarray(close, dtype=np.float64)[rows]
    oi = np.asarray(open_interest, dtype=np.float64)[rows]
    w = np.asarray(weights, dtype=np.float64)
    longs, shorts = _band_prices(c, leverage)
    value = 0.5 * (oi * c)[:, None] * w[None, :]
    for prices in (longs, shorts):
        b = np.searchsorted(edges, prices, side="right") - 1
        ok = (b >= 0) & (b < nb)
        r = np.broadcast_to(np.arange(len(rows))[:, None], b.shape)
        np.add.at(out, (r[ok], b[ok]), value[ok])
    return out
