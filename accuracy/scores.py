"""The three accuracy scores, as plain numpy functions (no Django).

* :func:`spearman`: rank correlation between what a map said would be
  liquidated at each step and what was observed (average ranks for ties,
  i.e. Pearson's correlation of the ranks).
* :func:`top_decile_share`: the share of the observed USD that falls in the
  10 % of steps the map ranked highest.
* :func:`wilson_interval` with :func:`weighted_hit_share`: the share of
  liquidated USD whose price lay in the map's top-decile bins, with Wilson
  95 % bounds.

Ties are never broken by position or at random: a set "top k" of tied items
gives every item tied at the cut-off the same fraction of a place
(:func:`top_k_credit`), which is the exact expectation over every order of the
ties. That keeps the scores deterministic and fair to a map that puts the same
value on many steps or bins (a zero most of all).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "Z95",
    "average_ranks",
    "spearman",
    "spearman_interval",
    "top_k_credit",
    "top_decile_share",
    "wilson_interval",
    "effective_count",
    "weighted_hit_share",
    "BOOTSTRAP_RESAMPLES",
    "block_bootstrap_intervals",
]

# The 97.5 % quantile of the standard normal distribution (two-sided 95 %).
Z95 = 1.959963984540054
TOP_FRACTION = 0.10


def average_ranks(values) -> np.ndarray:
    """Ranks 1..n, tied values sharing the mean of the ranks they span."""
    x = np.asarray(values, dtype=np.float64)
    n = len(x)
    order = np.argsort(x, kind="mergesort")
    xs = x[order]
    # Runs of equal values: each gets the mean of positions first..last (1-based).
    starts = np.flatnonzero(np.r_[True, xs[1:] != xs[:-1]]) if n else np.zeros(0, dtype=np.int64)
    ends = np.r_[starts[1:], n] - 1
    mean_rank = (starts + ends) / 2.0 + 1.0
    ranks = np.empty(n)
    ranks[order] = np.repeat(mean_rank, ends - starts + 1)
    return ranks


def spearman(predicted, observed) -> float | None:
    """Spearman's rank correlation of two equal-length series; None if either is constant or n < 3."""
    a = np.asarray(predicted, dtype=np.float64)
    b = np.asarray(observed, dtype=np.float64)
    if len(a) != len(b):
        raise ValueError(f"spearman needs series of the same length (got {len(a)} and {len(b)})")
    if len(a) < 3:
        return None
    ra = average_ranks(a) - (len(a) + 1) / 2.0
    rb = average_ranks(b) - (len(b) + 1) / 2.0
    den = math.sqrt(float(np.dot(ra, ra)) * float(np.dot(rb, rb)))
    if den == 0.0:
        return None
    return float(np.clip(np.dot(ra, rb) / den, -1.0, 1.0))


def spearman_interval(rho: float | None, n: int, z: float = Z95) -> tuple[float, float] | None:
    """An approximate 95 % interval for a Spearman correlation from ``n`` pairs (None if n < 4).

    Fisher's z-transform with Bonett & Wright's (2000) variance for Spearman's
    rho, ``(1 + rho²/2) / (n − 3)``. Steps of a market are not independent
    (volatility clusters), so read it as a lower bound on the uncertainty.
    """
    if rho is None or n < 4:
        return None
    r = min(max(rho, -0.999999), 0.999999)
    centre = math.atanh(r)
    half = z * math.sqrt((1 + r * r / 2) / (n - 3))
    return math.tanh(centre - half), math.tanh(centre + half)


def top_k_credit(values, k: int, *, positive_only: bool = False) -> np.ndarray:
    """Per item, its place in the top ``k`` by value: 1 above the cut-off, a fraction when tied at it.

    With ``m`` items tied at the k-th largest value and ``j`` places left for
    them, each gets ``j / m``: the chance it would be picked if the ties were
    broken at random. With ``positive_only``, items of value <= 0 get nothing
    (a map that puts nothing somewhere does not point there).
    """
    v = np.asarray(values, dtype=np.float64)
    credit = np.zeros(len(v))
    eligible = np.flatnonzero(v > 0) if positive_only else np.arange(len(v))
    k = int(min(k, len(eligible)))
    if k <= 0:
        return credit
    ev = v[eligible]
    cut = np.partition(ev, len(ev) - k)[len(ev) - k]  # the k-th largest value
    above = ev > cut
    tied = ev == cut
    credit[eligible[above]] = 1.0
    credit[eligible[tied]] = (k - int(above.sum())) / int(tied.sum())
    return credit


def top_decile_share(predicted, observed, fraction: float = TOP_FRACTION) -> float | None:
    """Share of ``observed`` USD in the ``ceil(fraction × n)`` steps ranked highest by ``predicted``.

    None when nothing was observed. Ties at the cut-off share their places
    (:func:`top_k_credit`), so a map that is constant scores ``fraction``.
    """
    p = np.asarray(predicted, dtype=np.float64)
    o = np.asarray(observed, dtype=np.float64)
    if len(p) != len(o):
        raise ValueError(f"top_decile_share needs series of the same length (got {len(p)} and {len(o)})")
    total = float(o.sum())
    if len(p) == 0 or total <= 0:
        return None
    k = math.ceil(fraction * len(p) - 1e-9)
    return float(np.dot(top_k_credit(p, k), o) / total)


def wilson_interval(successes: float, n: float, z: float = Z95) -> tuple[float, float] | None:
    """Wilson's score interval for a proportion ``successes / n`` (None when n = 0).

    ``successes`` and ``n`` may be fractional (a weighted share with its
    effective count, see :func:`weighted_hit_share`).
    """
    if n <= 0:
        return None
    p = successes / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z / (1 + z2 / n) * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def effective_count(weights) -> float:
    """Kish's effective sample size ``(Σw)² / Σw²``: n for equal weights, ~1 when one weight dominates."""
    w = np.asarray(weights, dtype=np.float64)
    sq = float(np.dot(w, w))
    return float(w.sum()) ** 2 / sq if sq > 0 else 0.0


def weighted_hit_share(hits, weights, z: float = Z95) -> dict | None:
    """USD-weighted share of hits (each hit in [0, 1]) with Wilson bounds on the effective count.

    A liquidation of $5M and one of $50 are not equally informative: the
    interval uses Kish's effective count instead of the number of records, so
    a share carried by a few large records gets the wide interval it deserves.
    Returns ``{"share", "low", "high", "records", "effective_records", "usd"}``.
    """
    h = np.asarray(hits, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64)
    total = float(w.sum())
    if len(w) == 0 or total <= 0:
        return None
    share = float(np.dot(h, w) / total)
    n_eff = effective_count(w)
    low, high = wilson_interval(share * n_eff, n_eff, z)
    return {"share": share, "low": low, "high": high, "records": int(len(w)), "effective_records": n_eff, "usd": total}


BOOTSTRAP_RESAMPLES = 400


def block_bootstrap_intervals(
    predicted, observed, *, resamples: int = BOOTSTRAP_RESAMPLES, seed: int = 0, z: float = Z95
) -> dict[str, tuple[float, float] | None]:
    """95 % intervals of :func:`spearman` and :func:`top_decile_share` by a moving-block bootstrap.

    Steps are not independent (a volatile hour is followed by volatile hours),
    so steps are resampled in blocks of ``round(n ** (1/3))`` consecutive ones
    (the usual rule for the block length), ``resamples`` times with a fixed
    seed, so the same inputs always give the same interval. The interval is the
    2.5 % and 97.5 % quantiles of the resampled scores (``z`` is only used to
    name the level: 95 %). None when fewer than 10 steps are given.
    """
    p = np.asarray(predicted, dtype=np.float64)
    o = np.asarray(observed, dtype=np.float64)
    n = len(p)
    if n < 10:
        return {"spearman": None, "top_decile": None}
    block = max(1, round(n ** (1 / 3)))
    starts_per = -(-n // block)
    rng = np.random.default_rng(seed)
    starts = rng.integers(0, n - block + 1, size=(resamples, starts_per))
    index = (starts[:, :, None] + np.arange(block)[None, None, :]).reshape(resamples, -1)[:, :n]
    rhos, tops = [], []
    for idx in index:
        rho = spearman(p[idx], o[idx])
        top = top_decile_share(p[idx], o[idx])
        if rho is not None:
            rhos.append(rho)
        if top is not None:
            tops.append(top)
    lo, hi = (1 - math.erf(z / math.sqrt(2))) / 2, (1 + math.erf(z / math.sqrt(2))) / 2

    def interval(values):
        if len(values) < resamples // 2:
            return None
        return float(np.quantile(values, lo)), float(np.quantile(values, hi))

    return {"spearman": interval(rhos), "top_decile": interval(tops)}
