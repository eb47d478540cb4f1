"""Shared helpers for the engine tests: tolerance checks and the real-data fixtures."""

from __future__ import annotations

import csv
import json
from functools import cache
from pathlib import Path

import numpy as np

from tests.liqengine.reference import reference_model

FIXTURES = Path(__file__).parent / "fixtures"
OUTPUTS = ("long_grid", "short_grid", "realized_long", "realized_short", "pending_long", "pending_short")
# The model page's promise: every output equal to the rules to within 1e-6 of its largest absolute value.
RELATIVE_TOLERANCE = 1e-6


def assert_matches_reference(result, ref, tol=RELATIVE_TOLERANCE, label="", exact_empty_bins=False):
    """Every output of an engine result within ``tol`` × max |reference output|.

    With ``exact_empty_bins``, grid bins the reference leaves empty must be
    exactly 0 too, not a rounding residue: band thresholds are medians of a
    row's positive bins, so a residue would move them. (Only for inputs of
    ordinary size: a live level whose value underflows to 0 in the reference
    legitimately shows, with its neighbours' residue, in the engine.)
    """
    for name in OUTPUTS:
        got = np.asarray(getattr(result, name))
        want = np.asarray(ref[name], dtype=np.float64)
        assert got.shape == want.shape, f"{label}{name}: shape {got.shape} != {want.shape}"
        assert np.isfinite(got).all(), f"{label}{name}: non-finite values"
        scale = float(np.abs(want).max()) if want.size else 0.0
        err = float(np.abs(got - want).max()) if want.size else 0.0
        # The tiny absolute floor only matters for subnormal outputs, where a
        # relative tolerance has no meaning.
        assert err <= tol * scale + 1e-300, f"{label}{name}: max error {err!r} > {tol} × {scale!r}"
        if exact_empty_bins and name.endswith("grid"):
            residue = np.abs(got[want == 0])
            assert not residue.any(), (
                f"{label}{name}: {np.count_nonzero(residue)} empty bins hold residue up to {residue.max()!r}"
            )


def run_reference(h, lo, c, oi, edges, **kw):
    """The reference loop on numpy inputs (converted to plain lists)."""

    def lst(x):
        return None if x is None else np.asarray(x, dtype=np.float64).tolist()

    for key in ("long_share", "taker_buy_volume", "volume"):
        if key in kw:
            kw[key] = lst(kw[key])
    return reference_model(lst(h), lst(lo), lst(c), lst(oi), lst(edges), **kw)


def _read_csv(name):
    with open(FIXTURES / name, newline="") as fh:
        return list(csv.DictReader(fh))


@cache
def okx_sol_5m():
    """OKX SOL-USDT-SWAP 5m candles with hourly OI (USD, all SOL contracts) turned into SOL.

    Open interest is taken "as of" the end of each step (the newest hourly
    reading at or before it), divided by the close of the step in which the
    reading was taken, so it changes once an hour as the real series does.
    Also returns the hourly taker buy share and long/short account ratio
    aligned the same way.
    """
    rows = _read_csv("ohlcv_5m.csv")
    ts = np.array([int(r["ts"]) for r in rows], dtype=np.int64)
    h = np.array([float(r["high"]) for r in rows])
    lo = np.array([float(r["low"]) for r in rows])
    c = np.array([float(r["close"]) for r in rows])
    vol = np.array([float(r["volume"]) for r in rows])
    step_end = ts + 300_000

    def as_of(name, value):
        rr = _read_csv(name)
        t = np.array([int(r["ts"]) for r in rr], dtype=np.int64)
        v = np.array([value(r) for r in rr])
        idx = np.searchsorted(t, step_end, side="right") - 1
        return np.where(idx >= 0, v[np.maximum(idx, 0)], np.nan), t

    oi_usd, oi_t = as_of("open_interest.csv", lambda r: float(r["oi"]))
    # Each hourly USD reading in SOL, at the close of the step it was read in.
    read_step = np.clip(np.searchsorted(ts, oi_t, side="right") - 1, 0, len(ts) - 1)
    idx = np.searchsorted(oi_t, step_end, side="right") - 1
    oi = np.where(idx >= 0, oi_usd / c[read_step[np.maximum(idx, 0)]], np.nan)
    buy_share, _ = as_of("taker_volume.csv", lambda r: float(r["buyVol"]) / (float(r["buyVol"]) + float(r["sellVol"])))
    ratio, _ = as_of("long_short_ratio.csv", lambda r: float(r["ratio"]))
    # The account ratio is longs / shorts, so the long share of accounts is r / (1 + r).
    long_share = ratio / (1 + ratio)
    ok = np.isfinite(oi)
    return {
        "open_time": ts[ok],
        "high": h[ok],
        "low": lo[ok],
        "close": c[ok],
        "volume": vol[ok],
        "taker_buy_volume": (buy_share * vol)[ok],
        "open_interest": oi[ok],
        "long_share": long_share[ok],
    }


@cache
def binance_btc_15m():
    """Binance BTCUSDT 15m candles with the 5m OI (BTC) taken as of each step's end, over the OI window."""
    candles = _read_csv("BTCUSDT-perp-15m-2024-05-09_11.csv")
    ts = np.array([int(r["open_time"]) for r in candles], dtype=np.int64)
    h = np.array([float(r["high"]) for r in candles])
    lo = np.array([float(r["low"]) for r in candles])
    c = np.array([float(r["close"]) for r in candles])
    vol = np.array([float(r["volume"]) for r in candles])
    tb = np.array([float(r["taker_buy_base"]) for r in candles])
    oi_rows = _read_csv("btc_future_5m_2024-05-09_11.csv")
    # Binance stamps each 5m statistic with the end of its period.
    oi_t = np.array([int(r["timestamp"]) for r in oi_rows], dtype=np.int64)
    oi_v = np.array([float(r["sumOpenInterest"]) for r in oi_rows])
    long_acc = np.array([float(r["globallongAccount"]) for r in oi_rows])
    step_end = ts + 900_000
    idx = np.searchsorted(oi_t, step_end, side="right") - 1
    fresh = (idx >= 0) & (step_end - oi_t[np.maximum(idx, 0)] <= 600_000)
    return {
        "open_time": ts[fresh],
        "high": h[fresh],
        "low": lo[fresh],
        "close": c[fresh],
        "volume": vol[fresh],
        "taker_buy_volume": tb[fresh],
        "open_interest": oi_v[idx[fresh]],
        "long_share": long_acc[idx[fresh]],
    }


def load_json(name):
    with open(FIXTURES / name) as fh:
        return json.load(fh)


def emptying_oi(kind: str, n: int, seed: int = 0) -> np.ndarray:
    """The real OKX SOL open interest, emptied on half the steps: alternately, at random, or in runs of 1-6 steps."""
    oi = okx_sol_5m()["open_interest"][:n].copy()
    t = np.arange(n)
    if kind == "alternate":
        oi[t % 2 == 1] = 0.0
    elif kind == "random-half":
        rng = np.random.default_rng(seed)
        oi[rng.permutation(n)[: n // 2]] = 0.0
    else:  # runs of 1-6 steps on, then 1-6 off
        rng = np.random.default_rng(seed)
        on, i = True, 0
        while i < n:
            k = int(rng.integers(1, 7))
            if not on:
                oi[i : i + k] = 0.0
            on, i = not on, i + k
    return oi
