"""Options of the model that the reference rules leave out, each off by default.

The model page's rules are the reference; the accuracy backtest
(``accuracy/``) measures these options against them. With every
option off the engine's output is the reference's, bit for bit in the code
paths (the options add work only when given).

* **Intrabar crossing order** (``MarketSeries.high_first``). The page lets a
  level opened at step ``t`` be crossed from ``t + 1`` on. Inside a candle the
  price visits its high and its low in some order; positions opened during the
  candle (at the typical price) can be liquidated by the extreme that comes
  *after* them. With ``high_first[t] == 1`` (the high came first, then the
  low) every long level opened at ``t`` with ``P >= low[t]`` is liquidated
  within step ``t``; with ``high_first[t] == 0`` (low first) every short level
  opened at ``t`` with ``P <= high[t]`` is. ``-1`` (unknown) keeps the page's
  rule for that step. Such levels are realized at ``t`` with their full
  opening quantity (they were opened after the step's closing) and never
  become pending. :func:`intrabar_order` derives the order from finer candles
  when they are stored, else from the candle's own direction.
* **Ageing of untouched levels** (``ModelParams.half_life_steps``). Traders
  add margin, move stops or close for reasons open interest does not show; a
  level nobody touched for a long time is less likely to still be there. Every
  pending level's quantity is multiplied by ``a = 2 ** (-1 / half_life_steps)``
  at every step ``t >= 1``, together with the closing factor (step 2 of the
  page, after crossing, before opening). The closing rule itself is unchanged:
  its crossed quantity ``Lq_t`` is the aged one.

* **Turnover** (``ModelParams.turnover``, a number κ ≥ 0). Open interest is
  a net figure: in a step where it does not move, traders still close
  positions and others open new ones, far more of them than the net change
  shows (a perpetual trades its open interest over in about a day). The page
  only opens levels for the net rise, so after a quiet day the map holds
  nothing near the price and a small move liquidates nobody, which is never
  what the exchanges report. With turnover, at every step ``t >= 1`` a share
  ``ρ_t = 1 − (low_t / high_t) ** κ`` of every pending level is closed
  (step 2, after the page's closing factor) and the same share of the open
  interest, ``ρ_t × min(OI_{t−1}, OI_t)``, is opened again at the step's
  prices (step 3, added to the rise ``ΔOI_t`` if any). Trading activity
  follows the price range (volume and range move together), so the share is
  the step's range in log terms times κ: a 1 % candle with κ = 1 turns about
  1 % of the open interest over. Re-opening at most ``ρ × min(OI_{t−1}, OI_t)``
  keeps the pending quantity at or below the open interest, as the page's
  rules do.
* **Entry points** (``ModelParams.entry_points``, a whole number n ≥ 1).
  The page opens a step's new positions at its typical price. Trades happen
  at every price the candle visited, so with n ≥ 2 the new quantity is split
  equally over n prices evenly spaced from the step's low to its high, both
  included: ``E_i = low × (1 − i/(n−1)) + high × i/(n−1)``. With n = 1 the
  typical price is kept.

Long share from taker volume or from the long/short account ratio, and other
leverage mixes, are inputs the engine already takes (``long_share``,
``taker_buy_volume`` + ``volume``, ``leverage`` + ``weights``).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "HIGH_FIRST",
    "LOW_FIRST",
    "UNKNOWN_ORDER",
    "intrabar_order",
    "direction_order",
    "check_high_first",
    "check_half_life",
    "check_turnover",
    "check_entry_points",
    "log_age_per_step",
    "turnover_keep",
    "log_keep_per_step",
    "entry_prices",
    "same_step_crossed",
]

HIGH_FIRST = 1
LOW_FIRST = 0
UNKNOWN_ORDER = -1


def check_high_first(high_first, n: int) -> np.ndarray:
    """``high_first`` as an int8 array of length ``n`` holding only -1, 0 and 1 (raises ``ValueError``)."""
    try:
        arr = np.asarray(high_first, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"high_first must be a 1-D array of -1, 0 or 1 ({exc})") from None
    if arr.ndim != 1:
        raise ValueError(f"high_first must be a 1-D array, got shape {arr.shape}")
    if len(arr) != n:
        raise ValueError(f"input series must have the same length (got high={n}, high_first={len(arr)})")
    bad = ~np.isin(arr, (-1.0, 0.0, 1.0))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"high_first must hold -1 (unknown), 0 (low first) or 1 (high first); row {i} is {arr[i].item()!r}")
    return arr.astype(np.int8)


def check_half_life(half_life_steps) -> float | None:
    """``None`` (no ageing) or a finite half-life > 0 in steps (raises ``ValueError``)."""
    if half_life_steps is None:
        return None
    try:
        value = float(half_life_steps)
    except (TypeError, ValueError):
        raise ValueError(f"half_life_steps must be a number of steps > 0 or None, got {half_life_steps!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"half_life_steps must be a finite number of steps > 0, got {half_life_steps!r}")
    return value


def check_turnover(turnover) -> float | None:
    """``None`` (no turnover) or a finite κ >= 0 (raises ``ValueError``); 0 turns nothing over."""
    if turnover is None:
        return None
    try:
        value = float(turnover)
    except (TypeError, ValueError):
        raise ValueError(f"turnover must be a number >= 0 or None, got {turnover!r}") from None
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"turnover must be a finite number >= 0, got {turnover!r}")
    return value


def check_entry_points(entry_points) -> int:
    """A whole number of entry prices per step, at least 1 (raises ``ValueError``)."""
    if isinstance(entry_points, bool) or not isinstance(entry_points, (int, np.integer)) or entry_points < 1:
        raise ValueError(f"entry_points must be a whole number >= 1, got {entry_points!r}")
    return int(entry_points)


def turnover_keep(high: np.ndarray, low: np.ndarray, turnover: float | None) -> np.ndarray | None:
    """The share ``(low_t / high_t) ** κ`` of each pending level that stays through step t's turnover.

    Step 0 turns nothing over (there is nothing before it), so its share is 1.
    ``None`` without turnover.
    """
    if turnover is None:
        return None
    keep = (np.asarray(low, dtype=np.float64) / np.asarray(high, dtype=np.float64)) ** turnover
    if len(keep):
        keep[0] = 1.0
    return keep


def log_keep_per_step(n: int, half_life_steps: float | None, keep: np.ndarray | None) -> np.ndarray | None:
    """Per step, the log of the factor every pending level is multiplied by besides f: ageing and turnover.

    0 at step 0; ``None`` when neither option is on (the page's rules).
    """
    if half_life_steps is None and keep is None:
        return None
    out = np.zeros(n)
    if half_life_steps is not None and n > 1:
        out[1:] += log_age_per_step(half_life_steps)
    if keep is not None and n > 1:
        with np.errstate(divide="ignore"):
            # low > 0 is checked on input, so keep > 0 and the log is finite.
            out[1:] += np.log(keep[1:])
    return out


def entry_prices(high: np.ndarray, low: np.ndarray, close: np.ndarray, rows: np.ndarray, entry_points: int) -> np.ndarray:
    """Entry prices of the positions opened at ``rows``: shape (len(rows), entry_points).

    One point: the typical price ``(high + low + close) / 3`` (the page's
    rule). Several: evenly from the low to the high, both included.
    """
    h, lo = high[rows], low[rows]
    if entry_points == 1:
        return ((h + lo + close[rows]) / 3)[:, None]
    x = np.arange(entry_points, dtype=np.float64) / (entry_points - 1)
    return lo[:, None] * (1 - x)[None, :] + h[:, None] * x[None, :]


def log_age_per_step(half_life_steps: float | None) -> float:
    """``log a`` for the ageing factor ``a = 2 ** (-1 / half_life_steps)``; 0.0 without ageing."""
    if half_life_steps is None:
        return 0.0
    return -math.log(2.0) / float(half_life_steps)


def same_step_crossed(
    side: str, rows: np.ndarray, price: np.ndarray, high_first: np.ndarray, high: np.ndarray, low: np.ndarray
) -> np.ndarray:
    """Which levels opened at ``rows`` are liquidated within their own step (bool per level).

    A long opened in a candle whose high came first is crossed by the low that
    follows if ``P >= low``; a short opened in a candle whose low came first is
    crossed by the high that follows if ``P <= high``. Exact comparisons, as
    the page's crossing rule.
    """
    if side == "long":
        return (high_first[rows] == HIGH_FIRST) & (price >= low[rows])
    return (high_first[rows] == LOW_FIRST) & (price <= high[rows])


def direction_order(open_, close) -> np.ndarray:
    """The usual guess from one candle alone: a rising candle went open → low → high → close
    (low first), a falling one open → high → low → close (high first); a flat one is unknown."""
    o = np.asarray(open_, dtype=np.float64)
    c = np.asarray(close, dtype=np.float64)
    out = np.full(len(o), UNKNOWN_ORDER, dtype=np.int8)
    out[c > o] = LOW_FIRST
    out[c < o] = HIGH_FIRST
    return out


def intrabar_order(
    open_,
    close,
    *,
    open_time=None,
    step_ms: int | None = None,
    fine_open_time=None,
    fine_open=None,
    fine_high=None,
    fine_low=None,
    fine_close=None,
) -> np.ndarray:
    """Which extreme of each candle came first: 1 high first, 0 low first, -1 unknown.

    With finer candles (``fine_*``, ``fine_open_time`` in the same ms as
    ``open_time``, every fine candle inside one step ``[open_time, open_time +
    step_ms)``), the order is that of the first fine candle reaching the step's
    highest fine high and the first reaching its lowest fine low. When both
    fall in the same fine candle, or a step has no fine candle, that fine
    candle's (or the step's own) direction decides (:func:`direction_order`).
    Only data inside each step is used, so the order is known at the step's end.
    """
    guess = direction_order(open_, close)
    if fine_open_time is None:
        return guess
    if open_time is None or step_ms is None:
        raise ValueError("intrabar_order needs open_time and step_ms together with finer candles")
    ot = np.asarray(open_time, dtype=np.int64)
    ft = np.asarray(fine_open_time, dtype=np.int64)
    fh = np.asarray(fine_high, dtype=np.float64)
    fl = np.asarray(fine_low, dtype=np.float64)
    fine_guess = direction_order(fine_open, fine_close)
    # Step of each fine candle: the last step starting at or before it, if the candle lies inside it.
    step = np.searchsorted(ot, ft, side="right") - 1
    inside = (step >= 0) & (ft >= ot[np.maximum(step, 0)]) & (ft < ot[np.maximum(step, 0)] + int(step_ms))
    step, ft, fh, fl, fine_guess = step[inside], ft[inside], fh[inside], fl[inside], fine_guess[inside]
    out = guess.copy()
    if len(step) == 0:
        return out
    order = np.lexsort((ft, step))
    step, fh, fl, fine_guess = step[order], fh[order], fl[order], fine_guess[order]
    starts = np.flatnonzero(np.r_[True, step[1:] != step[:-1]])
    top = np.maximum.reduceat(fh, starts)
    bottom = np.minimum.reduceat(fl, starts)
    group = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(step)]))
    position = np.arange(len(step))
    big = len(step) + 1
    # First fine candle of each step at the step's highest high / lowest low.
    first_high = np.minimum.reduceat(np.where(fh == top[group], position, big), starts)
    first_low = np.minimum.reduceat(np.where(fl == bottom[group], position, big), starts)
    steps_with = step[starts]
    decided = np.where(first_high < first_low, HIGH_FIRST, LOW_FIRST).astype(np.int8)
    same = first_high == first_low
    decided[same] = fine_guess[first_high[same]]
    out[steps_with] = decided
    return out
