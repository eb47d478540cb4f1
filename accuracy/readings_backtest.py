"""How often each of the four map readings came true: a backtest on a market's history.

Pure numpy (no Django): :mod:`.readings_service` loads the rows and stores the
result, ``bench/readings_eval.py`` feeds it the real-liquidation development set.

**What was known.** The model runs once over the period; its grid row ``t`` is
what it said at the end of step ``t`` (the model is causal, and the bins come
from a lattice fixed by the first close alone, so no later price moves them).
Every reading at ``t`` uses that row, the close of ``t`` and earlier rows
(pressure is ranked against the trailing 30 days); every outcome uses only
steps after ``t``. Tests change every input after ``t`` and check that nothing
decided at or before ``t`` moves (``tests/accuracy/test_readings_causality.py``).

**Thresholds** of the readings are the page's (:class:`liqengine.ReadingSettings`),
fixed a priori, so what is scored is exactly what the page states. The
evaluation parameters (breakout lookback N, horizons, the move of the lean's
race) are chosen on the fit part (events whose outcome ends before the split)
from a few candidates, then the reading is scored on the held-out part only.

**Events** are taken one at a time: after an event, the next is taken only once
its outcome window has ended, so no two scored outcomes overlap and the Wilson
bounds are not narrowed by counting one move many times.

**Readings and their fair baselines.**

* Fakeout: a breakout is a close beyond the highest high (lowest low) of the N
  steps before. It *failed* when the close H steps later is back inside the
  broken level. Hit: a breakout into a thin zone failed. Baseline: the failure
  rate of breakouts into dense zones.
* Volatility: high pressure is a rank in the top 10 % of the trailing 30 days.
  Hit: the next H steps' range (highest high − lowest low, % of the close) beat
  the median of the ranges that had ended by ``t`` (trailing 30 days).
  Baseline: the same rate on the other steps; also reported, the naive
  "recent range in its own top decile" flag and the rank correlation.
* Lean: a lean is one side's fuel ≥ 1.5 × the other's within 2 %. Hit: price
  moved X % toward the heavier side (long fuel: down) before it moved X % the
  other way, within W hours. Baseline: 50 %.
* Magnet: the nearest big band within 5 %. Hit: price reached the band's price
  within H steps. Baseline: a level as far on the other side (in log terms)
  reached within the same H steps, on the same events.

A verdict "beats" needs the reading's Wilson 95 % interval to lie wholly above
its baseline's (a fixed 50 % for the lean); "worse" the other way round;
anything else is "no better than its baseline".
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from grids.steps import StepArrays
from liqengine import MarketRun, MarketSeries, ModelParams, ReadingSettings, reading_series
from liqengine.readings import magnet_band

from .scores import spearman, wilson_interval

__all__ = ["ReadingsInput", "Prepared", "prepare", "run_readings_backtest", "READING_KEYS", "MIN_EVENTS", "CANDIDATES"]

HOUR_MS = 3_600_000
READING_KEYS = ("fakeout", "volatility", "lean", "magnet")
MIN_EVENTS = 10  # fewer held-out events than this (in the reading or its baseline): "not enough history yet"
MIN_FIT_EVENTS = 5
# Candidate evaluation parameters, in hours; the first is the default when the fit part cannot choose.
CANDIDATES = {
    "fakeout": [{"lookback_hours": n, "horizon_hours": h} for n in (24, 12, 48) for h in (12, 4, 24)],
    "volatility": [{"horizon_hours": h} for h in (12, 4, 24)],
    "lean": [{"move_pct": x, "wait_hours": w} for x in (1.0, 0.5, 2.0) for w in (72, 24)],
    "magnet": [{"horizon_hours": h} for h in (24, 12, 48)],
}
LATTICE_RATIO = 1.0025  # 0.25 % bins, the accuracy maps' lattice
LATTICE_SPAN = 4.0  # bins cover ÷/× this around the first close


@dataclass(frozen=True)
class ReadingsInput:
    """One market's steps, the split, and the liquidations really recorded per step (NaN: none recorded)."""

    steps: StepArrays
    step_ms: int
    split_time: int
    params: ModelParams | None = None
    liquidations: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.steps)

    @property
    def fit_stop(self) -> int:
        return int(np.searchsorted(self.steps.open_time, self.split_time, side="left"))

    def hours(self, h: float) -> int:
        return max(1, int(round(h * HOUR_MS / self.step_ms)))


def lattice(first_close: float) -> np.ndarray:
    """Edges ``LATTICE_RATIO ** k`` covering ÷/× LATTICE_SPAN around the first close (nothing later moves them)."""
    d = math.log(LATTICE_RATIO)
    k0 = math.floor(math.log(first_close / LATTICE_SPAN) / d)
    k1 = math.ceil(math.log(first_close * LATTICE_SPAN) / d)
    return np.exp(np.arange(k0, k1 + 1, dtype=np.float64) * d)


@dataclass(frozen=True)
class Prepared:
    """The per-row reading numbers and the magnet of every row (computed once per backtest)."""

    series: object  # liqengine.readings.ReadingSeries
    magnet_price: np.ndarray  # NaN: no big band within the window
    magnet_side: np.ndarray  # +1 above, -1 below, 0 none


def prepare(inp: ReadingsInput, settings: ReadingSettings) -> Prepared:
    s = inp.steps
    edges = lattice(float(s.close[0]))
    if float(s.low.min()) <= edges[0] or float(s.high.max()) >= edges[-1]:
        raise ValueError(f"prices left the lattice (÷/× {LATTICE_SPAN:g} of the first close); split the period")
    series = MarketSeries(s.high, s.low, s.close, s.open_interest, s.open_time, params=inp.params or ModelParams()).checked()
    run = MarketRun(series, edges)
    lg, sg = run.full_grid("long"), run.full_grid("short")
    rs = reading_series(lg, sg, edges, s.close, s.open_time, settings)
    total = lg + sg
    mp = np.full(len(s), np.nan)
    side = np.zeros(len(s), dtype=np.int8)
    for t in range(len(s)):
        band = magnet_band(total[t], edges, float(s.close[t]), settings.magnet_pct, settings.big_share, settings.band_factor)
        if band is not None:
            mp[t] = band["price"]
            side[t] = 1 if band["price"] > s.close[t] else -1
    return Prepared(rs, mp, side)


def _rate(hits: int, n: int) -> dict:
    ci = wilson_interval(hits, n)
    return {
        "events": int(n),
        "hits": int(hits),
        "rate": hits / n if n else None,
        "low": ci[0] if ci else None,
        "high": ci[1] if ci else None,
    }


def _verdict(reading: dict, baseline: dict) -> str:
    if reading["events"] < MIN_EVENTS or baseline.get("events", MIN_EVENTS) < MIN_EVENTS:
        return "not_enough"
    if baseline.get("fixed") is not None:
        lo_b = hi_b = baseline["fixed"]
    else:
        lo_b, hi_b = baseline["low"], baseline["high"]
    if reading["low"] > hi_b:
        return "beats"
    if reading["high"] < lo_b:
        return "worse"
    return "no_better"


def _spaced(candidates: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Events taken one at a time: candidate ``t`` is kept only after the previous kept one's outcome ended."""
    kept, free_from = [], -1
    for t, end in zip(candidates.tolist(), ends.tolist()):
        if t > free_from:
            kept.append(t)
            free_from = end
    return np.asarray(kept, dtype=np.int64)


def _parts(inp: ReadingsInput, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows whose outcome window [t+1, t+horizon] ends before the split (fit), and rows from the split on
    whose window fits (held out)."""
    n, stop = len(inp), inp.fit_stop
    t = np.arange(n)
    return t[t + horizon < stop], t[(t >= stop) & (t + horizon <= n - 1)]


def _windows(a: np.ndarray, horizon: int, fn) -> np.ndarray:
    """``fn`` over a[t+1 .. t+horizon] for every t (NaN where the window runs past the end)."""
    n = len(a)
    out = np.full(n, np.nan)
    if n > horizon:
        view = np.lib.stride_tricks.sliding_window_view(a[1:], horizon)  # row i: a[i+1 .. i+horizon]
        out[: len(view)] = fn(view, axis=1)
    return out


# -- fakeout ------------------------------------------------------------------------


def _fakeout_events(inp, prep, settings, lookback: int, horizon: int, rows: np.ndarray):
    s = inp.steps
    n = len(s)
    prior_high = np.full(n, np.nan)
    prior_low = np.full(n, np.nan)
    if n > lookback:
        prior_high[lookback:] = np.lib.stride_tricks.sliding_window_view(s.high[:-1], lookback).max(axis=1)
        prior_low[lookback:] = np.lib.stride_tricks.sliding_window_view(s.low[:-1], lookback).min(axis=1)
    up = s.close > prior_high
    down = s.close < prior_low
    cand = rows[(up | down)[rows]]
    cand = _spaced(cand, cand + horizon)
    later = s.close[cand + horizon]
    is_up = up[cand]
    failed = np.where(is_up, later <= prior_high[cand], later >= prior_low[cand])
    ahead = np.where(is_up, prep.series.thin_up_pct[cand], prep.series.thin_down_pct[cand])
    thin = ahead >= settings.thin_pct
    return thin, failed, is_up


def _fakeout(inp, prep, settings, p):
    lookback, horizon = inp.hours(p["lookback_hours"]), inp.hours(p["horizon_hours"])
    fit_rows, held_rows = _parts(inp, horizon)

    def score(rows):
        thin, failed, is_up = _fakeout_events(inp, prep, settings, lookback, horizon, rows)
        return (_rate(int((failed & thin).sum()), int(thin.sum())), _rate(int((failed & ~thin).sum()), int((~thin).sum())), is_up)

    return score(fit_rows), score(held_rows)


# -- volatility ---------------------------------------------------------------------


def _volatility(inp, prep, settings, p):
    s = inp.steps
    horizon = inp.hours(p["horizon_hours"])
    fwd = (_windows(s.high, horizon, np.max) - _windows(s.low, horizon, np.min)) / s.close * 100
    # The range of the window that just ended at t: known at t.
    past = np.full(len(s), np.nan)
    past[horizon:] = fwd[: len(s) - horizon] * s.close[: len(s) - horizon] / s.close[horizon:]
    history = inp.hours(settings.history_days * 24)
    rank = prep.series.pressure_rank[settings.pressure_pct]
    top = 1 - settings.top_share
    fit_rows, held_rows = _parts(inp, horizon)

    def past_rank(t):
        w = past[max(0, t - history + 1) : t + 1]
        w = w[~np.isnan(w)]
        return None if len(w) < settings.min_history_rows else float((w < past[t]).mean())

    def score(rows):
        rows = rows[~np.isnan(rank[rows])]
        rows = _spaced(rows, rows + horizon)
        flagged, hit, naive, ranks, ranges, liq = [], [], [], [], [], []
        for t in rows.tolist():
            # Ranges whose window had ended by t: fwd[u] for u + horizon <= t.
            known = fwd[max(0, t - horizon - history + 1) : max(0, t - horizon + 1)]
            known = known[~np.isnan(known)]
            pr = past_rank(t)
            if len(known) < settings.min_history_rows or pr is None:
                continue
            flagged.append(rank[t] >= top)
            hit.append(fwd[t] > np.median(known))
            naive.append(pr >= top)
            ranks.append(rank[t])
            ranges.append(fwd[t])
            if inp.liquidations is not None:
                window = inp.liquidations[t + 1 : t + horizon + 1]
                liq.append(float(window.sum()) if np.isfinite(window).all() else np.nan)
        f, h, nv = np.asarray(flagged, bool), np.asarray(hit, bool), np.asarray(naive, bool)
        out = {
            "reading": _rate(int((h & f).sum()), int(f.sum())),
            "baseline": _rate(int((h & ~f).sum()), int((~f).sum())),
            "naive": _rate(int((h & nv).sum()), int(nv.sum())),
            "spearman_range": spearman(ranks, ranges),
            "mean_range_top": float(np.mean(np.asarray(ranges)[f])) if f.any() else None,
            "mean_range_rest": float(np.mean(np.asarray(ranges)[~f])) if (~f).any() else None,
        }
        lq = np.asarray(liq, dtype=np.float64)
        ok = np.isfinite(lq) if len(lq) else np.zeros(0, bool)
        if ok.sum() >= 3:
            out["liquidations"] = {
                "events": int(ok.sum()),
                "spearman": spearman(np.asarray(ranks)[ok], lq[ok]),
                "mean_top": float(lq[ok & f].mean()) if (ok & f).any() else None,
                "mean_rest": float(lq[ok & ~f].mean()) if (ok & ~f).any() else None,
            }
        return out

    return score(fit_rows), score(held_rows)


# -- lean ---------------------------------------------------------------------------


def _lean(inp, prep, settings, p):
    s = inp.steps
    wait = inp.hours(p["wait_hours"])
    x = p["move_pct"] / 100
    lb, sa = prep.series.long_below, prep.series.short_above
    heavy_long = (lb > 0) & (lb >= settings.lean_ratio * sa)
    heavy_short = (sa > 0) & (sa >= settings.lean_ratio * lb)
    fit_rows, held_rows = _parts(inp, wait)

    def race(t):
        """(+1 up first, -1 down first, 0 neither or both in one step), and the step it resolved."""
        up = s.high[t + 1 : t + wait + 1] >= s.close[t] * (1 + x)
        dn = s.low[t + 1 : t + wait + 1] <= s.close[t] * (1 - x)
        either = np.flatnonzero(up | dn)
        if not len(either):
            return 0, t + wait
        i = int(either[0])
        if up[i] and dn[i]:
            return 0, t + 1 + i
        return (1 if up[i] else -1), t + 1 + i

    def score(rows):
        rows = rows[(heavy_long | heavy_short)[rows]]
        kept, free_from, hits, undecided, down_first = 0, -1, 0, 0, 0
        for t in rows.tolist():
            if t <= free_from:
                continue
            way, end = race(t)
            free_from = end
            if way == 0:
                undecided += 1
                continue
            kept += 1
            down_first += way < 0
            hits += (way < 0) == bool(heavy_long[t])
        return {"reading": _rate(hits, kept), "undecided": undecided, "down_first": _rate(down_first, kept)}

    return score(fit_rows), score(held_rows)


# -- magnet -------------------------------------------------------------------------


def _magnet(inp, prep, settings, p):
    s = inp.steps
    horizon = inp.hours(p["horizon_hours"])
    hi = _windows(s.high, horizon, np.max)
    lo = _windows(s.low, horizon, np.min)
    fit_rows, held_rows = _parts(inp, horizon)

    def score(rows):
        rows = rows[prep.magnet_side[rows] != 0]
        rows = _spaced(rows, rows + horizon)
        band = prep.magnet_price[rows]
        mirror = s.close[rows] ** 2 / band
        above = prep.magnet_side[rows] > 0
        hit = np.where(above, hi[rows] >= band, lo[rows] <= band)
        base = np.where(above, lo[rows] <= mirror, hi[rows] >= mirror)
        dist = np.abs(band / s.close[rows] - 1) * 100
        return {
            "reading": _rate(int(hit.sum()), len(rows)),
            "baseline": _rate(int(base.sum()), len(rows)),
            "median_distance_pct": float(np.median(dist)) if len(dist) else None,
        }

    return score(fit_rows), score(held_rows)


# -- the whole backtest ---------------------------------------------------------------


def _fit_key(key: str, fit) -> float | None:
    """How well a candidate did on the fit part (None: too few events to say)."""
    if key == "fakeout":
        thin, dense, _ = fit
        if thin["events"] < MIN_FIT_EVENTS or dense["events"] < MIN_FIT_EVENTS:
            return None
        return thin["rate"] - dense["rate"]
    r = fit["reading"]
    if r["events"] < MIN_FIT_EVENTS:
        return None
    if key == "lean":
        return r["rate"] - 0.5
    b = fit["baseline"]
    if b["events"] < MIN_FIT_EVENTS:
        return None
    return r["rate"] - b["rate"]


SCORERS = {"fakeout": _fakeout, "volatility": _volatility, "lean": _lean, "magnet": _magnet}


def _reading(key: str, inp: ReadingsInput, prep: Prepared, settings: ReadingSettings) -> dict:
    best, best_key, tried = None, None, []
    for p in CANDIDATES[key]:
        fit, held = SCORERS[key](inp, prep, settings, p)
        k = _fit_key(key, fit)
        tried.append({"params": p, "fit_score": k})
        if k is not None and (best_key is None or k > best_key):
            best, best_key = (p, held), k
    fitted = best is not None
    if best is None:  # the fit part cannot choose: the default candidate, said so
        p = CANDIDATES[key][0]
        best = (p, SCORERS[key](inp, prep, settings, p)[1])
    p, held = best
    out = {"key": key, "params": p, "fitted": fitted, "candidates": tried}
    if key == "fakeout":
        thin, dense, is_up = held
        out |= {
            "reading": thin,
            "baseline": dense | {"label": "breakouts into dense zones"},
            "breakouts": int(len(is_up)),
            "up": int(np.sum(is_up)),
        }
    elif key == "volatility":
        out |= held | {"baseline": held["baseline"] | {"label": "the other steps"}}
    elif key == "lean":
        out |= held | {"baseline": {"fixed": 0.5, "label": "50 %", "events": held["reading"]["events"]}}
    else:
        out |= held | {"baseline": held["baseline"] | {"label": "a level as far on the other side"}}
    out["verdict"] = _verdict(out["reading"], out["baseline"])
    return out


def run_readings_backtest(inp: ReadingsInput, settings: ReadingSettings | None = None) -> dict:
    """Score the four readings on the held-out part of ``inp``: a JSON-ready dict."""
    settings = settings or ReadingSettings()
    n = len(inp)
    if n < 8:
        raise ValueError(f"a readings backtest needs at least 8 steps, got {n}")
    if not 0 < inp.fit_stop < n:
        raise ValueError("the split leaves no fit part or no held-out part")
    prep = prepare(inp, settings)
    ot = inp.steps.open_time
    return {
        "info": {
            "steps": n,
            "step_ms": int(inp.step_ms),
            "start": int(ot[0]),
            "end": int(ot[-1]) + int(inp.step_ms),
            "split": int(inp.split_time),
            "fit_steps": inp.fit_stop,
            "held_out_steps": n - inp.fit_stop,
            "liquidations": None if inp.liquidations is None else int(np.isfinite(inp.liquidations).sum()),
        },
        "settings": settings.to_dict(),
        "readings": {key: _reading(key, inp, prep, settings) for key in READING_KEYS},
    }
