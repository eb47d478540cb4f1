"""Input checks for the liquidation engine.

Every public entry point runs its arrays through these helpers first, so a bad
input fails early with a message that names the argument, the row and the
value, instead of surfacing later as a NaN in a grid or a silent wrong answer.
Each helper returns a clean float64 (or int64) copy the engine may trust.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

__all__ = [
    "as_series",
    "check_prices",
    "check_open_interest",
    "check_bin_edges",
    "check_buckets",
    "check_long_share",
    "check_taker",
    "check_open_time",
    "check_same_length",
]

# Weights are user settings typed as decimals (0.10, 0.25, ...): their float sum is
# 1 only to within rounding, so "sums to 1" allows a few ulps and no more.
WEIGHT_SUM_TOLERANCE = 1e-9


def as_series(name: str, values, *, dtype=np.float64) -> np.ndarray:
    """Return ``values`` as a 1-D array of ``dtype`` or raise ``ValueError`` naming ``name``."""
    try:
        arr = np.asarray(values, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a 1-D array of numbers ({exc})") from None
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array, got shape {arr.shape}")
    return np.array(arr, dtype=dtype, copy=True)


def _num(value) -> str:
    """A value as plain Python prints it (numpy 2's repr would add ``np.float64(...)``)."""
    return repr(value.item() if isinstance(value, np.generic) else value)


def _first_bad(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


def check_same_length(**arrays: np.ndarray) -> int:
    """Raise unless every array has the same length; return that length."""
    lengths = {name: len(a) for name, a in arrays.items() if a is not None}
    if len(set(lengths.values())) > 1:
        detail = ", ".join(f"{name}={n}" for name, n in lengths.items())
        raise ValueError(f"input series must have the same length (got {detail})")
    return next(iter(lengths.values()), 0)


def check_prices(high, low, close) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Check candle prices: finite, > 0, equal lengths and ``high >= low`` on every row."""
    h, lo, c = as_series("high", high), as_series("low", low), as_series("close", close)
    check_same_length(high=h, low=lo, close=c)
    for name, arr in (("high", h), ("low", lo), ("close", c)):
        bad = ~np.isfinite(arr)
        if bad.any():
            i = _first_bad(bad)
            raise ValueError(f"{name} must be finite (no NaN or inf); row {i} is {_num(arr[i])}")
        bad = arr <= 0
        if bad.any():
            i = _first_bad(bad)
            raise ValueError(f"{name} must be > 0; row {i} is {_num(arr[i])}")
    bad = h < lo
    if bad.any():
        i = _first_bad(bad)
        raise ValueError(f"high < low at row {i} (high={_num(h[i])}, low={_num(lo[i])})")
    return h, lo, c


def check_open_interest(open_interest) -> np.ndarray:
    """Check open interest: finite and >= 0 (base-asset units)."""
    oi = as_series("open_interest", open_interest)
    bad = ~np.isfinite(oi)
    if bad.any():
        i = _first_bad(bad)
        raise ValueError(f"open_interest must be finite (no NaN or inf); row {i} is {_num(oi[i])}")
    bad = oi < 0
    if bad.any():
        i = _first_bad(bad)
        raise ValueError(f"open_interest must be >= 0; row {i} is {_num(oi[i])}")
    return oi


def check_bin_edges(bin_edges) -> np.ndarray:
    """Check price-bin edges: at least two, finite, strictly ascending."""
    edges = as_series("bin_edges", bin_edges)
    if len(edges) < 2:
        raise ValueError(f"bin_edges needs at least 2 edges (1 bin), got {len(edges)}")
    bad = ~np.isfinite(edges)
    if bad.any():
        i = _first_bad(bad)
        raise ValueError(f"bin_edges must be finite; edge {i} is {_num(edges[i])}")
    bad = np.diff(edges) <= 0
    if bad.any():
        i = _first_bad(bad)
        raise ValueError(
            f"bin_edges must be strictly ascending; edge {i} ({_num(edges[i])}) >= edge {i + 1} ({_num(edges[i + 1])})"
        )
    return edges


def check_buckets(leverage: Sequence[float], weights: Sequence[float], mmr: Sequence[float]):
    """Check the leverage buckets: same count, leverage > 0, weights >= 0 summing to 1, 0 <= mmr < 1."""
    lev = as_series("leverage", leverage)
    w = as_series("weights", weights)
    m = as_series("mmr", mmr)
    if not (len(lev) == len(w) == len(m)):
        raise ValueError(f"leverage, weights and mmr need one value per bucket (got {len(lev)}, {len(w)}, {len(m)})")
    if len(lev) == 0:
        raise ValueError("at least one leverage bucket is needed")
    for name, arr in (("leverage", lev), ("weights", w), ("mmr", m)):
        if not np.isfinite(arr).all():
            raise ValueError(f"{name} must be finite, got {arr.tolist()}")
    bad = lev <= 0
    if bad.any():
        i = _first_bad(bad)
        raise ValueError(f"leverage must be > 0; bucket {i} is {_num(lev[i])}")
    bad = w < 0
    if bad.any():
        i = _first_bad(bad)
        raise ValueError(f"weights must be >= 0; bucket {i} is {_num(w[i])}")
    total = math.fsum(w.tolist())
    if abs(total - 1.0) > WEIGHT_SUM_TOLERANCE:
        raise ValueError(f"weights must sum to 1 (got {total!r})")
    bad = (m < 0) | (m >= 1)
    if bad.any():
        i = _first_bad(bad)
        raise ValueError(f"mmr must lie in [0, 1); bucket {i} is {_num(m[i])}")
    return lev, w, m


def check_long_share(long_share, n: int, default: float) -> np.ndarray:
    """Return the per-step long share: the array where given (NaN = missing), else ``default``.

    NaN marks a step whose source had no reading; that step falls back to the
    next rule (taker ratio if enabled, else ``default``). Anything else outside
    [0, 1] is an error.
    """
    if not (isinstance(default, (int, float)) and 0.0 <= float(default) <= 1.0):
        raise ValueError(f"default long_share must lie in [0, 1], got {default!r}")
    if long_share is None:
        return np.full(n, np.nan)
    ls = as_series("long_share", long_share)
    if len(ls) != n:
        raise ValueError(f"long_share must have one value per step (got {len(ls)}, expected {n})")
    bad = ~np.isnan(ls) & ~((ls >= 0) & (ls <= 1))
    if bad.any():
        i = _first_bad(bad)
        raise ValueError(f"long_share must lie in [0, 1]; row {i} is {_num(ls[i])}")
    return ls


def check_taker(taker_buy_volume, volume, n: int):
    """Check the optional taker-volume pair used for the taker-ratio long share.

    Both must be given together. NaN marks a missing reading. Volumes must be
    >= 0 and the taker buy volume may not exceed the volume (tiny rounding
    above it is tolerated, as exchanges round both independently).
    """
    if taker_buy_volume is None and volume is None:
        return None, None
    if taker_buy_volume is None or volume is None:
        raise ValueError("taker_buy_volume and volume must be given together")
    tb = as_series("taker_buy_volume", taker_buy_volume)
    v = as_series("volume", volume)
    if len(tb) != n or len(v) != n:
        raise ValueError(f"taker_buy_volume and volume need one value per step (got {len(tb)} and {len(v)}, expected {n})")
    for name, arr in (("taker_buy_volume", tb), ("volume", v)):
        bad = np.isinf(arr) | (arr < 0)
        if bad.any():
            i = _first_bad(bad)
            raise ValueError(f"{name} must be finite and >= 0; row {i} is {_num(arr[i])}")
    bad = tb > v * (1 + 1e-9)
    if bad.any():
        i = _first_bad(bad)
        raise ValueError(f"taker_buy_volume exceeds volume at row {i} ({_num(tb[i])} > {_num(v[i])})")
    return tb, v


def check_open_time(open_time, n: int | None = None, name: str = "open_time") -> np.ndarray:
    """Check step start times: int64 milliseconds, strictly increasing (one row per step)."""
    try:
        ot = np.asarray(open_time)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be an array of int64 milliseconds ({exc})") from None
    if ot.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array, got shape {ot.shape}")
    if not np.issubdtype(ot.dtype, np.integer):
        raise ValueError(f"{name} must hold integers (epoch milliseconds), got dtype {ot.dtype}")
    ot = ot.astype(np.int64)
    if n is not None and len(ot) != n:
        raise ValueError(f"{name} must have one value per step (got {len(ot)}, expected {n})")
    bad = np.diff(ot) <= 0
    if bad.any():
        i = _first_bad(bad)
        raise ValueError(f"{name} must be strictly increasing; row {i + 1} ({ot[i + 1]}) <= row {i} ({ot[i]})")
    return ot
