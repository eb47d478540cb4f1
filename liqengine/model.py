"""The liquidation model's stepping, solved level by level.

The model page describes a loop over steps (crossing, closing, opening). This
module computes the same numbers without keeping a pool of levels per step:

1. Every level is known up front: step ``t`` with ``ΔOI_t > 0`` opens one
   level per side and bucket at ``formula(E_t)``, quantity
   ``ΔOI_t × share × w_k``.
2. Its crossing step depends only on prices (:mod:`.crossing`).
3. Its quantity at row ``r`` is ``q0 × Π f_j`` over ``t < j <= r``. Only the
   closing factors ``f`` need a sequential pass, because ``f_u`` depends on
   ``Lq_u``, the quantity crossed at ``u``, which depends on earlier ``f``.
   The pass runs only over steps whose ``f`` can differ from a value known in
   advance (OI fell and something was crossed, or the crossed quantity could
   reach the previous OI), and sums one term per (creation step, crossing
   step) pair.
4. Products of ``f`` are kept as sums of logarithms, reset to a new *epoch* at
   every step with ``f = 0`` (everything pending then is gone), so no quantity
   is ever divided by an underflowed product.

The result is a :class:`Ledger`: each level's creation row, end row, value and
bin, plus the log-products. Grids are then built from it by :mod:`.grid`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ._sorting import argsort_rows
from .crossing import first_at_or_above, first_at_or_below
from .options import entry_prices, log_keep_per_step, same_step_crossed, turnover_keep
from .params import MarketSeries

__all__ = ["Ledger", "LevelSet", "build_ledger"]

# Segment depth for the grid scale: within one segment the running factor
# exp(logc[r] - logc[start]) stays above e**-SEGMENT_DEPTH (about 5e-131), so
# neither the per-level weights (<= e**+300 × value) nor the row scales can
# overflow or underflow in float64.
SEGMENT_DEPTH = 300.0
# The model page sets f = 0 when OI_{t-1} - Lq_t <= 0: the crossings took all
# the open interest. When they took it all mathematically, the float sums of
# the crossed quantities land a few ulps either side of OI_{t-1}, and the rule
# would flip between "all gone" and "keep the rest" on rounding alone. A
# remainder below this fraction of OI_{t-1} therefore counts as nothing left.
EMPTIED_FRACTION = 1e-9
# Carrying a level into a new segment is skipped once its remaining fraction
# is below e**-700 (about 1e-304): its weight would be at or below float64's
# smallest normal number, i.e. exactly what a step-by-step product gives: 0.
CARRY_FLOOR = -700.0


def accurate_cumsum(x: np.ndarray, block: int = 1024) -> np.ndarray:
    """Running sum with the rounding error of ~block + n/block additions instead of n.

    The log-products of a year of closing factors are sums of 10⁵ terms; a
    plain running sum drifts by about n × eps × |sum| (1e-9 relative on a
    year), blocked sums by ~100x less.
    """
    n = len(x)
    if n <= block:
        return np.cumsum(x)
    m = -(-n // block)
    padded = np.zeros(m * block)
    padded[:n] = x
    inner = np.cumsum(padded.reshape(m, block), axis=1)
    # np.add.reduce sums each block pairwise, more accurately than the running sum's last element.
    totals = np.add.reduce(padded.reshape(m, block), axis=1)
    offsets = np.concatenate([[0.0], np.cumsum(totals)[:-1]])
    return (inner + offsets[:, None]).reshape(-1)[:n]


@dataclass
class LevelSet:
    """All levels of one side, ordered by creation row."""

    t: np.ndarray  # creation row (int64)
    cross: np.ndarray  # crossing row, n if never crossed (int64)
    end: np.ndarray  # first row where the level is gone: crossing or an f = 0 step (int64)
    q0: np.ndarray  # quantity at creation, base units
    price: np.ndarray  # liquidation price
    value: np.ndarray  # q0 × price, USD at creation
    bucket: np.ndarray  # bucket index (int64)
    realized: np.ndarray  # bool: crossed while still holding quantity


@dataclass
class Ledger:
    """Everything needed to rebuild any row of the grids of one market."""

    n: int
    long: LevelSet
    short: LevelSet
    closing_factor: np.ndarray  # f_t (1.0 at t = 0)
    logc: np.ndarray  # cumulative sum of log f (0 added at f = 0 steps)
    zero_rows: np.ndarray  # steps with f = 0, ascending
    segment_starts: np.ndarray  # rows where the grid scale restarts, ascending, starts with 0
    realized_long: np.ndarray
    realized_short: np.ndarray
    # Intrabar option (see .options): levels liquidated in their own step, never pending.
    instant_long: LevelSet | None = None
    instant_short: LevelSet | None = None


def _level_set(entry_rows, dq, share, weights, prices, crossing) -> LevelSet:
    """Build one side's levels from per-creation-step arrays (M) and per-bucket prices (M, K)."""
    k = len(weights)
    q = (dq * share)[:, None] * weights[None, :]
    ok = np.isfinite(prices) & (q > 0)
    rows = np.broadcast_to(entry_rows[:, None], prices.shape)[ok]
    buckets = np.broadcast_to(np.arange(k)[None, :], prices.shape)[ok]
    q = q[ok]
    p = prices[ok]
    cross = crossing(rows + 1, p)
    return LevelSet(
        t=rows.astype(np.int64),
        cross=cross.astype(np.int64),
        end=cross.astype(np.int64),  # refined once the f = 0 steps are known
        q0=q,
        price=p,
        value=q * p,
        bucket=buckets.astype(np.int64),
        realized=np.zeros(len(rows), dtype=bool),
    )


def _closing_factors(
    oi: np.ndarray, level_t: np.ndarray, level_u: np.ndarray, level_q: np.ndarray, log_keep: np.ndarray | None = None
) -> np.ndarray:
    """Closing factor f_u of every step, following the model page's step 2 exactly.

    ``level_*`` give every level's creation row, crossing row (n if never)
    and opening quantity, both sides together (step 2 only needs Lq, the
    total quantity crossed). ``log_keep`` is, per step, the log of the factor
    the ageing and turnover options apply besides f (None in the reference):
    crossed quantities are then the aged, turned-over ones.
    """
    n = len(oi)
    f = np.ones(n)
    if n < 2:
        return f
    crossed = level_u < n
    lq_max = np.bincount(level_u[crossed], weights=level_q[crossed], minlength=n)
    prev = oi[:-1]
    cur = oi[1:]
    # Steps whose f depends on the exact crossed quantity: something was crossed
    # and either OI fell (then f < 1 unless the crossings explain the fall) or
    # the crossed quantity could reach the previous OI (then f may be 0). At
    # every other step f is known now: with nothing crossed, Lq = 0; with OI not
    # falling and Lq <= lq_max < OI_{t-1}, D = 0 and f = 1.
    need = np.zeros(n, dtype=bool)
    need[1:] = (lq_max[1:] > 0) & ((cur < prev) | (lq_max[1:] >= prev * (1 - EMPTIED_FRACTION)))
    with np.errstate(divide="ignore", invalid="ignore"):
        # The model page's expressions with Lq = 0, term for term.
        den = prev - 0.0
        d = np.maximum(0.0, prev - cur - 0.0)
        f0 = np.where(den <= 0, 0.0, np.clip(1 - d / np.where(den > 0, den, 1.0), 0.0, 1.0))
    f[1:] = np.where(lq_max[1:] > 0, 1.0, f0)
    need_rows = np.flatnonzero(need)
    if len(need_rows) == 0:
        return f

    # Log-products in "known" coordinates: steps still to be solved count as 0,
    # and so do steps with a known f = 0 (pairs across them are skipped).
    known = f.copy()
    known[need_rows] = 1.0
    known_zero = known == 0
    logs = np.log(np.where(known_zero, 1.0, known))
    if log_keep is not None:
        logs += log_keep
    lk = accurate_cumsum(logs)
    last_zero_known = np.maximum.accumulate(np.where(known_zero, np.arange(n), -1))
    need_count = np.cumsum(need)  # solved steps <= r

    # Each crossed level at a step to solve contributes q0 × exp(L_{u-1} - L_t).
    # In known coordinates that is q0 × exp(lk[u-1] - lk[t]) (known now, <= q0)
    # times exp(corr(u-1) - corr(t)), where corr(t) depends only on how many
    # steps to solve lie at or before t (k = need_count[t]). So levels group by
    # (u, k): one term per group in the loop, whatever the number of levels.
    sel = np.flatnonzero(crossed & need[np.minimum(level_u, n - 1)])
    u_sel = level_u[sel]
    t_sel = level_t[sel]
    # Levels created before a known f = 0 step that precedes u are gone.
    alive = t_sel >= last_zero_known[u_sel - 1]
    u_sel, t_sel = u_sel[alive], t_sel[alive]
    amount = level_q[sel][alive] * np.exp(lk[u_sel - 1] - lk[t_sel])
    k_sel = need_count[t_sel]
    # Sort by (u, k): two stable radix sorts, least significant key first.
    by_k = argsort_rows(k_sel)
    order = by_k[argsort_rows(u_sel[by_k])]
    u_sel, k_sel, amount = u_sel[order], k_sel[order], amount[order]
    first = np.ones(len(u_sel), dtype=bool)
    first[1:] = (u_sel[1:] != u_sel[:-1]) | (k_sel[1:] != k_sel[:-1])
    starts = np.flatnonzero(first)
    group_amount = np.add.reduceat(amount, starts).tolist() if len(starts) else []
    group_k = k_sel[starts].tolist()
    group_u = u_sel[starts]
    ptr = np.searchsorted(group_u, need_rows).tolist()
    ptr_end = np.searchsorted(group_u, need_rows, side="right").tolist()
    exp = math.exp
    log = math.log

    corr = [0.0]  # corr[k]: sum of log f over the first k solved steps
    dead_below = 0  # groups with k below this were created before a solved f = 0 step
    solved = []
    for _row, o_prev, o_cur, a, b in zip(need_rows.tolist(), oi[need_rows - 1].tolist(), oi[need_rows].tolist(), ptr, ptr_end):
        now = corr[-1]
        lq = 0.0
        for p in range(a, b):
            k = group_k[p]
            if k >= dead_below:
                lq += group_amount[p] * exp(now - corr[k])
        den = o_prev - lq
        if den <= EMPTIED_FRACTION * o_prev:
            fu = 0.0
        else:
            d = o_prev - o_cur - lq
            if d < 0:
                d = 0.0
            fu = 1 - d / den
            if fu < 0:
                fu = 0.0
            elif fu > 1:
                fu = 1.0
        solved.append(fu)
        if fu == 0.0:
            # Everything created before u is gone: levels with t < u have
            # k <= len(solved) - 1, those created at u itself have k = len(solved).
            dead_below = len(solved)
            corr.append(now)
        else:
            corr.append(now + log(fu))
    f[need_rows] = solved
    return f


def _segments(logc: np.ndarray, zero_rows: np.ndarray, n: int) -> np.ndarray:
    """Rows where the grid scale restarts: row 0, every f = 0 step, and every
    point where the running product has fallen by more than e**-SEGMENT_DEPTH."""
    epoch_start = np.concatenate([[0], zero_rows]).astype(np.int64)
    epoch_end = np.append(zero_rows, n).astype(np.int64)
    # Most epochs never fall by SEGMENT_DEPTH: found at once, so a series that
    # empties at every other step costs no Python step per epoch.
    # (Called with n >= 1; f = 0 steps lie in 1 .. n-1, so every epoch has a row.)
    neg = -logc
    deep = np.flatnonzero(np.maximum.reduceat(neg, epoch_start) > neg[epoch_start] + SEGMENT_DEPTH)
    starts = [epoch_start]
    for s, z in zip(epoch_start[deep].tolist(), epoch_end[deep].tolist()):
        # logc is non-increasing inside an epoch (log f <= 0), so the next
        # restart is a binary search on -logc.
        while True:
            k = int(np.searchsorted(neg[s:z], neg[s] + SEGMENT_DEPTH, side="right"))
            if s + k >= z:
                break
            s = s + k
            starts.append(np.array([s], dtype=np.int64))
    return np.unique(np.concatenate(starts))


def realized_usd(lv: LevelSet, logc: np.ndarray, n: int, which: np.ndarray) -> np.ndarray:
    """USD liquidated by crossing at each step, of the realized levels selected by ``which``.

    A level crossed at step u holds q0 × the closing factors of steps t+1 .. u-1
    (crossing comes before closing), worth that times its price.
    """
    amount = lv.value[which] * np.exp(logc[lv.cross[which] - 1] - logc[lv.t[which]])
    return np.bincount(lv.cross[which], weights=amount, minlength=n)[:n].astype(np.float64)


def instant_usd(inst: LevelSet | None, n: int, which: np.ndarray | None = None) -> np.ndarray:
    """USD of the levels liquidated in their own step (intrabar option), per step; zeros without it."""
    if inst is None:
        return np.zeros(n)
    t, value = (inst.t, inst.value) if which is None else (inst.t[which], inst.value[which])
    return np.bincount(t, weights=value, minlength=n)[:n].astype(np.float64)


def _split_same_step(lv: LevelSet, crossed: np.ndarray) -> tuple[LevelSet, LevelSet]:
    """(levels that become pending, levels liquidated in their own step)."""

    def pick(mask):
        return LevelSet(*(getattr(lv, name)[mask] for name in LevelSet.__dataclass_fields__))

    inst = pick(crossed)
    inst.cross = inst.t.copy()
    inst.end = inst.t.copy()
    inst.realized = np.ones(len(inst.t), dtype=bool)
    return pick(~crossed), inst


def build_ledger(series: MarketSeries) -> Ledger:
    """Run the model on one market's (already checked) rows and return its :class:`Ledger`."""
    h, lo, c, oi = series.high, series.low, series.close, series.open_interest
    n = len(h)
    params = series.params
    sigma = series.long_share_series()
    lev = np.asarray(params.leverage, dtype=np.float64)
    w = np.asarray(params.weights, dtype=np.float64)
    terms = params.bucket_terms()

    keep = turnover_keep(h, lo, params.turnover)
    # Opened at step t: the rise of open interest, plus what turnover re-opens.
    opened = np.zeros(n)
    opened[1:] = np.maximum(oi[1:] - oi[:-1], 0.0)
    if keep is not None and n > 1:
        opened[1:] += (1 - keep[1:]) * np.minimum(oi[:-1], oi[1:])
    rows = np.flatnonzero(opened > 0)
    rows = rows[rows >= 1]
    points = params.entry_points
    e = entry_prices(h, lo, c, rows, points).reshape(-1)
    dq = opened[rows]
    s = sigma[rows]
    if points > 1:
        # One level per (step, entry point, bucket): rows repeat once per entry point, in order.
        dq = np.repeat(dq / points, points)
        s = np.repeat(s, points)
        rows = np.repeat(rows, points)
    long_prices = params.formula.level_prices(e, lev, *terms["long"])[0]
    short_prices = params.formula.level_prices(e, lev, *terms["short"])[1]

    def cross_long(start, price):
        return first_at_or_below(lo, start, price)

    def cross_short(start, price):
        return first_at_or_above(h, start, price)

    longs = _level_set(rows, dq, s, w, long_prices, cross_long)
    shorts = _level_set(rows, dq, 1 - s, w, short_prices, cross_short)
    instant = {"long": None, "short": None}
    if series.high_first is not None:
        longs, instant["long"] = _split_same_step(
            longs, same_step_crossed("long", longs.t, longs.price, series.high_first, h, lo)
        )
        shorts, instant["short"] = _split_same_step(
            shorts, same_step_crossed("short", shorts.t, shorts.price, series.high_first, h, lo)
        )
    log_keep = log_keep_per_step(n, params.half_life_steps, keep)

    f = _closing_factors(
        oi,
        np.concatenate([longs.t, shorts.t]),
        np.concatenate([longs.cross, shorts.cross]),
        np.concatenate([longs.q0, shorts.q0]),
        log_keep,
    )

    zero_rows = np.flatnonzero(f == 0.0)
    with np.errstate(divide="ignore"):
        logf = np.where(f > 0, np.log(np.where(f > 0, f, 1.0)), 0.0)
    if log_keep is not None:
        logf += log_keep
    logc = accurate_cumsum(logf)

    realized = {}
    for name, lv in (("long", longs), ("short", shorts)):
        # First f = 0 step after each level's creation (n if none).
        zero_or_end = np.append(zero_rows, n)
        next_zero = zero_or_end[np.searchsorted(zero_rows, lv.t, side="right")]
        lv.end = np.minimum(lv.cross, next_zero)
        # Crossing comes before closing in a step, so a level crossed at the
        # very step whose f is 0 is still liquidated with its quantity.
        lv.realized = (lv.cross < n) & (lv.cross <= next_zero)
        realized[name] = realized_usd(lv, logc, n, lv.realized)
        if instant[name] is not None:
            realized[name] = realized[name] + instant_usd(instant[name], n)

    return Ledger(
        n=n,
        long=longs,
        short=shorts,
        closing_factor=f,
        logc=logc,
        zero_rows=zero_rows,
        segment_starts=_segments(logc, zero_rows, n) if n else np.zeros(0, dtype=np.int64),
        realized_long=realized["long"],
        realized_short=realized["short"],
        instant_long=instant["long"],
        instant_short=instant["short"],
    )
