"""Backtest inputs built from the real OKX SOL fixture (5m candles, hourly OI), without a database."""

from __future__ import annotations

import numpy as np

from accuracy.backtest import BacktestInput, FineCandles, Records
from grids.steps import StepArrays
from tests.liqengine.helpers import _read_csv

HOUR = 3_600_000


def sol_hourly(hours: int = 240, *, records_per_hour: int = 0, covered_from: int | None = None, seed: int = 0) -> BacktestInput:
    """``hours`` 1h steps aggregated from the real 5m candles, OI as read each hour, 5m candles as the fine ones.

    With ``records_per_hour``, synthetic liquidation records (prices inside
    each hour's range) are added for the steps from ``covered_from`` on, and
    those steps are marked as covered by the collector.
    """
    rows = _read_csv("ohlcv_5m.csv")
    ts = np.array([int(r["ts"]) for r in rows], dtype=np.int64)
    o, h, lo, c, v = (np.array([float(r[k]) for r in rows]) for k in ("open", "high", "low", "close", "volume"))
    first = int(-(-ts[0] // HOUR) * HOUR)
    step = (ts - first) // HOUR
    keep = (ts >= first) & (step < hours)
    ts, o, h, lo, c, v, step = ts[keep], o[keep], h[keep], lo[keep], c[keep], v[keep], step[keep]
    starts = np.flatnonzero(np.r_[True, step[1:] != step[:-1]])
    open_time = first + step[starts] * HOUR
    ho, hh = o[starts], np.maximum.reduceat(h, starts)
    hl, hc = np.minimum.reduceat(lo, starts), c[np.r_[starts[1:], len(c)] - 1]
    hv = np.add.reduceat(v, starts)
    oi_rows = _read_csv("open_interest.csv")
    oi_t = np.array([int(r["ts"]) for r in oi_rows], dtype=np.int64)
    oi_usd = np.array([float(r["oi"]) for r in oi_rows])
    idx = np.searchsorted(oi_t, open_time + HOUR, side="right") - 1
    oi = oi_usd[idx] / hc
    rng = np.random.default_rng(seed)
    n = len(open_time)
    taker = hv * rng.uniform(0.35, 0.65, n)
    long_share = rng.uniform(0.4, 0.7, n)
    covered = np.zeros(n, dtype=bool)
    records = Records.empty()
    if records_per_hour and covered_from is not None:
        covered[covered_from:] = True
        t, p, u = [], [], []
        for i in range(covered_from, n):
            k = rng.integers(0, records_per_hour + 1)
            t.extend(open_time[i] + rng.integers(0, HOUR, k))
            p.extend(rng.uniform(hl[i], hh[i], k))
            u.extend(rng.lognormal(9, 1.5, k))
        order = np.argsort(t, kind="stable")
        records = Records(np.asarray(t, dtype=np.int64)[order], np.asarray(p)[order], np.asarray(u)[order])
    return BacktestInput(
        steps=StepArrays(open_time, ho, hh, hl, hc, hv, taker, oi, long_share),
        step_ms=HOUR,
        split_time=int(open_time[n // 2]),
        covered=covered,
        records=records,
        fine=FineCandles(ts, o, h, lo, c, interval="5m"),
    )
