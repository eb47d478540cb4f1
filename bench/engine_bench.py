"""Benchmarks of the liquidation engine (liqengine), with their recorded results.

Run: ``.venv/bin/python bench/engine_bench.py`` (about 2-4 minutes; ``--quick``
for fewer repetitions and a shorter plain-loop sample).

Three cases, each timed as the median of several runs in this one process:

1. 30 days of 5m steps (8,640) × 400 bins, 5 buckets, full grids (target ≤ 60 ms).
2. 1 year of 5m steps (105,120) reduced to ≤ 1,000 columns × 400 bins
   (target ≤ 1 s, peak memory ≤ 400 MB).
3. 3 markets aggregated, 30 days of 5m × 400 bins (target ≤ 200 ms).

Beside each figure:

* the plain loop (tests/liqengine/reference.py, the step-by-step model page) run
  in the same process on the first steps of the same series and scaled
  linearly to the full length. That is a lower bound: the loop's cost per
  step grows with the number of pending levels.
* the memory-traffic floor: the time to write the output once (np.zeros +
  fill of the same shape), measured in the same run. For the year case the
  output is small, so the floor shown is writing every full-resolution cell
  once through a 128-row buffer, the least any method must touch.

Then the goals of issue 11, item 4, each a ratio measured in this same run:

* G1: 30 days of 5m × 400 bins with OI moving at every step and rising at two
  steps in three, against the plain loop run over the whole series (and ≤ 60 ms).
* G2: 2,493 real OKX SOL 15m candles, against a re-implementation of the
  open-source peer gptprojectmanager/liquidations (bench/peer_bench.py).
* G3: the same 30 days with OI zero on every other step (it empties at half
  the steps), against the plain loop over the whole series.

Data: real OKX SOL-USDT-SWAP 5m candles (26 days, tests/liqengine/fixtures/).
Longer series are built deterministically by chaining copies of the 26 days,
each copy scaled so it starts at the previous copy's last close. The real OI
is hourly (USD, converted to SOL at the hour's close); it is interpolated
linearly onto the 5m steps so OI changes every step, as Binance's 5m OI does,
which is the harder case (a level set at every step). The three markets of
case 3 are the same real path rotated by 0, 1 and 2 days onto the same
timestamps, with three formulas (Binance linear, Bybit linear, inverse).
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.peer_bench import PEER, okx_sol_15m, peer_heatmap, peer_inputs  # noqa: E402
from liqengine import (  # noqa: E402
    BYBIT_LINEAR,
    INVERSE,
    MarketSeries,
    ModelParams,
    aggregate_grid,
    default_bin_edges,
    liquidation_grid,
    window_grid,
)
from tests.liqengine.helpers import _read_csv  # noqa: E402
from tests.liqengine.reference import reference_model  # noqa: E402

STEP_MS = 300_000
DAY = 288  # 5m steps per day
RESULTS = ROOT / "bench" / "RESULTS.md"
START_MARK = "<!-- engine-bench:start -->"
END_MARK = "<!-- engine-bench:end -->"


def sol_5m():
    """Real OKX SOL 5m candles with the hourly OI interpolated onto every step (in SOL)."""
    rows = _read_csv("ohlcv_5m.csv")
    ts = np.array([int(r["ts"]) for r in rows], dtype=np.int64)
    h = np.array([float(r["high"]) for r in rows])
    lo = np.array([float(r["low"]) for r in rows])
    c = np.array([float(r["close"]) for r in rows])
    oi_rows = _read_csv("open_interest.csv")
    oi_t = np.array([int(r["ts"]) for r in oi_rows], dtype=np.int64)
    oi_usd = np.array([float(r["oi"]) for r in oi_rows])
    at = np.clip(np.searchsorted(ts, oi_t, side="right") - 1, 0, len(ts) - 1)
    oi = np.interp(ts, oi_t, oi_usd / c[at])
    return h, lo, c, oi


def extended(n, rotate=0):
    """``n`` steps: the real 26 days (rotated by ``rotate`` steps) chained end to end."""
    h, lo, c, oi = (np.roll(a, -rotate) for a in sol_5m())
    parts = [[], [], [], []]
    scale = 1.0
    while sum(len(p) for p in parts[0]) < n:
        for part, a in zip(parts, (h * scale, lo * scale, c * scale, oi)):
            part.append(a)
        scale *= c[-1] / c[0]
    h, lo, c, oi = (np.concatenate(p)[:n] for p in parts)
    return h, lo, c, oi, 1_780_000_000_000 + np.arange(n, dtype=np.int64) * STEP_MS


def timed(fn, repeats):
    """Median and min wall time of ``fn()`` over ``repeats`` runs (after one warm-up run)."""
    fn()
    times = []
    for _ in range(repeats):
        gc.collect()
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), min(times)


def plain_loop_per_step(h, lo, c, oi, edges, steps):
    """Seconds per step of the reference loop on the first ``steps`` steps."""
    args = [a[:steps].tolist() for a in (h, lo, c, oi)]
    t0 = time.perf_counter()
    reference_model(*args, edges.tolist())
    return (time.perf_counter() - t0) / steps


def floor_full(rows, bins, grids=2):
    def write():
        for _ in range(grids):
            np.zeros((rows, bins)).fill(1.0)

    return write


def floor_streamed(rows, bins, block=128, grids=2):
    buf = np.empty((block, bins))

    def write():
        for _ in range(grids):
            for _ in range(0, rows, block):
                buf.fill(1.0)

    return write


def peak_traced(fn):
    """Peak bytes allocated (numpy included) while ``fn`` runs, by tracemalloc."""
    gc.collect()
    tracemalloc.start()
    tracemalloc.reset_peak()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def _vm_kb(field):
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def year_case_rss():
    """Resident memory of a fresh process around the year case only (MB): before, and its peak.

    The kernel's high-water mark is reset (``/proc/self/clear_refs`` = 5) once the
    inputs are built, so the peak is the call's own, plus what was already resident.
    """
    code = (
        "import sys; sys.path.insert(0, %r); import bench.engine_bench as b; "
        "h, lo, c, oi, ot, m, edges = b.year_inputs(); "
        "open('/proc/self/clear_refs', 'w').write('5'); base = b._vm_kb('VmRSS'); b.run_year(m, edges, ot); "
        "print(base, b._vm_kb('VmHWM'))"
    ) % str(ROOT)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    base, peak = (int(x) for x in out.stdout.split())
    return base / 1024, peak / 1024


def year_inputs():
    h, lo, c, oi, ot = extended(105_120)
    edges = default_bin_edges(lo, h, 400)
    return h, lo, c, oi, ot, MarketSeries(h, lo, c, oi, open_time=ot), edges


def run_year(m, edges, ot):
    return window_grid(m, edges, start=int(ot[0]), end=int(ot[-1]) + STEP_MS, max_columns=1000)


def plain_loop_whole(h, lo, c, oi, edges):
    """Seconds the reference loop takes over the whole series (run once: it takes about a minute)."""
    args = [a.tolist() for a in (h, lo, c, oi)]
    t0 = time.perf_counter()
    reference_model(*args, edges.tolist())
    return time.perf_counter() - t0


def goal_series(n, kind):
    """The goal cases' 30 days: the real path, with OI reshaped as each goal words it.

    ``"rising"``: the interpolated real OI times (1 + 0.004 × (t mod 3)), so it
    moves at every step and rises at two steps in three (the real drift
    occasionally wins). ``"emptying"``: the real OI, set to 0 at every odd step.
    """
    h, lo, c, oi, _ = extended(n)
    t = np.arange(n)
    if kind == "rising":
        oi = oi * (1 + 0.004 * (t % 3))
    else:
        oi = np.where(t % 2 == 1, 0.0, oi)
    return h, lo, c, oi


def run_goals(reps, whole_loop, loop_steps):
    """The three ratios of issue 11, item 4; returns the lines to print and record."""
    n30 = 30 * DAY
    rows = []
    for key, kind, goal in (("G1", "rising", 45), ("G3", "emptying", 20)):
        h, lo, c, oi = goal_series(n30, kind)
        edges = default_bin_edges(lo, h, 400)
        med, _ = timed(lambda: liquidation_grid(h, lo, c, oi, edges), reps)
        # The scaled prefix is the estimate the benchmark cases use; beside
        # the whole run it shows how much a linear scale understates the loop.
        scaled = plain_loop_per_step(h, lo, c, oi, edges, loop_steps) * n30
        if whole_loop:
            loop, how = plain_loop_whole(h, lo, c, oi, edges), "whole series, run once"
        else:
            loop, how = scaled, f"first {loop_steps} steps scaled to 8,640 (a lower bound)"
        rising = float(np.mean(np.diff(oi) > 0))
        zero = float(np.mean(oi == 0))
        what = (
            f"30 days of 5m × 400 bins, OI moving every step, rising at {rising:.1%} of steps"
            if kind == "rising"
            else f"30 days of 5m × 400 bins, OI zero at {zero:.1%} of steps (every other one)"
        )
        rows.append((key, what, goal, med, f"plain loop ({how})", loop, scaled))

    ts, o, h, lo, c, usd, sol = okx_sol_15m()
    edges = default_bin_edges(lo, h, 400)
    med, _ = timed(lambda: liquidation_grid(h, lo, c, sol, edges), reps)
    peer_reps = max(3, reps // 5)
    cs, ds, size = peer_inputs(ts, o, h, lo, c, usd)
    peer, _ = timed(lambda: peer_heatmap(cs, ds, size), peer_reps)
    fcs, fds, fsize = peer_inputs(ts, o, h, lo, c, usd, num=float)
    peer_float, _ = timed(lambda: peer_heatmap(fcs, fds, fsize, num=float), peer_reps)
    what = f"{len(ts):,} real OKX SOL 15m candles × 400 bins, OI moving every step"
    rows.append(("G2", what, 50, med, f"{PEER} re-implemented (Decimal, as published; median of {peer_reps})", peer, None))
    rows.append(
        (
            "",
            what + " (for information)",
            None,
            med,
            "the same peer algorithm with float instead of Decimal (not the peer as published)",
            peer_float,
            None,
        )
    )
    rows.sort(key=lambda r: r[0] or "G2~")

    lines = [
        "| goal | case | engine (median) | against | its time | ratio | goal met | plain loop, first "
        f"{loop_steps} steps scaled (lower bound): time, ratio |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for key, what, goal, med, against, other, scaled in rows:
        ratio = other / med
        low = "—" if scaled is None else f"{fmt_time(scaled)}, {scaled / med:,.0f}x"
        if goal is None:
            met = "—"
        else:
            ok = ratio >= goal and (key != "G1" or med <= 0.060)
            met = ("yes" if ok else "**no**") + f" (≥ {goal}x" + (", ≤ 60 ms)" if key == "G1" else ")")
        lines.append(
            f"| {key} | {what} | **{fmt_time(med)}** | {against} | {fmt_time(other)} | **{ratio:,.0f}x** | {met} | {low} |"
        )
    return lines


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer repetitions, shorter plain-loop sample")
    ap.add_argument("--no-write", action="store_true", help=f"do not update {RESULTS.name}")
    ap.add_argument("--goals-only", action="store_true", help="only the three goal ratios (implies --no-write)")
    opts = ap.parse_args()
    reps = 5 if opts.quick else 15
    loop_steps = 600 if opts.quick else 2400
    # The whole-series plain loop takes about a minute per goal case; --quick
    # uses the scaled-prefix estimate instead (a lower bound of the loop's time).
    goal_lines = run_goals(reps, whole_loop=not opts.quick, loop_steps=loop_steps)
    if opts.goals_only:
        print("\n".join([machine_line(reps), "", *goal_lines]))
        return
    rows = []

    # Case 1: one market, 30 days, full grids.
    n30 = 30 * DAY
    h, lo, c, oi, ot = extended(n30)
    edges = default_bin_edges(lo, h, 400)
    med, best = timed(lambda: liquidation_grid(h, lo, c, oi, edges), reps)
    per_step = plain_loop_per_step(h, lo, c, oi, edges, loop_steps)
    fl, _ = timed(floor_full(n30, 400), reps)
    rows.append(("30 days of 5m (8,640 steps) × 400 bins, 5 buckets, full grids", "≤ 60 ms", med, best, per_step * n30, fl, None))

    # Case 2: one year reduced to 1,000 columns.
    _, _, _, _, yot, ym, yedges = year_inputs()
    med2, best2 = timed(lambda: run_year(ym, yedges, yot), max(3, reps // 3))
    yh, ylo, yc, yoi = ym.high, ym.low, ym.close, ym.open_interest
    per_step2 = plain_loop_per_step(yh, ylo, yc, yoi, yedges, loop_steps)
    fl2, _ = timed(floor_streamed(105_120, 400), max(3, reps // 3))
    traced = peak_traced(lambda: run_year(ym, yedges, yot)) / 1e6
    base_rss, peak_rss = year_case_rss()
    rows.append(
        (
            "1 year of 5m (105,120 steps) → 1,000 columns × 400 bins",
            "≤ 1 s, peak ≤ 400 MB",
            med2,
            best2,
            per_step2 * 105_120,
            fl2,
            (traced, base_rss, peak_rss),
        )
    )

    # Case 3: three markets aggregated, 30 days.
    markets = []
    formulas = [
        ModelParams(),
        ModelParams(formula=BYBIT_LINEAR, mmr=(0.005,) * 5),
        ModelParams(formula=INVERSE, leverage=(2, 5, 10, 25, 50), mmr=(0.005,) * 5),
    ]
    for k, params in enumerate(formulas):
        mh, mlo, mc, moi, mot = extended(n30, rotate=k * DAY)
        markets.append(MarketSeries(mh, mlo, mc, moi, open_time=mot, params=params))
    aedges = default_bin_edges(np.concatenate([m.low for m in markets]), np.concatenate([m.high for m in markets]), 400)
    med3, best3 = timed(lambda: aggregate_grid(markets, aedges), max(5, reps // 2))
    per_step3 = sum(plain_loop_per_step(m.high, m.low, m.close, m.open_interest, aedges, loop_steps // 2) for m in markets)
    fl3, _ = timed(floor_full(n30, 400), reps)
    rows.append(("3 markets aggregated, 30 days of 5m × 400 bins", "≤ 200 ms", med3, best3, per_step3 * n30, fl3, None))

    lines = render(rows, reps, loop_steps, goal_lines)
    print("\n".join(lines))
    if not opts.no_write:
        write_results(lines)


def fmt_time(s):
    return f"{s * 1000:,.0f} ms" if s < 10 else f"{s:,.0f} s"


def cpu_model():
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def machine_line(reps):
    uname = platform.uname()
    cpus = len(os.sched_getaffinity(0))
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    coretype = os.environ.get("OPENBLAS_CORETYPE")
    return (
        f"Machine: {uname.machine} ({cpu_model()}), nproc {cpus}, Python {platform.python_version()}, "
        f"numpy {np.__version__}, OPENBLAS_CORETYPE {coretype if coretype else 'not set'}; single process; median "
        f"of {reps} runs (year case: {max(3, reps // 3)}), after one warm-up run. Load average when the run ended: {load}."
    )


def render(rows, reps, loop_steps, goal_lines):
    lines = [
        machine_line(reps),
        "",
        "### Goals (issue 11, item 4): ratios measured in this run",
        "",
        *goal_lines,
        "",
        "G1 and G3: the price path is the 30 days described below; G1's OI is the interpolated real OI times "
        "(1 + 0.004 × (t mod 3)), G3's is the real OI set to 0 at every odd step. The plain loop "
        "(tests/liqengine/reference.py) runs once over the whole series in this process; its cost per step grows "
        "with the levels it keeps pending (it keeps levels scaled to 0 until they are crossed), so a scaled "
        "prefix would understate it. G2: bench/peer_bench.py (its docstring gives the peer's source, licence and "
        "rules); real OKX SOL-USDT-SWAP 15m candles inside the hourly OI's span, OI interpolated to each step's "
        "end (USD deltas for the peer, SOL for the engine); the peer's inputs (Decimal candles and deltas) are "
        "built before timing; the peer makes one sparse snapshot per candle, the engine two dense 2,493 × 400 "
        "grids plus totals.",
        "",
        "### Benchmark cases",
        "",
        "| case | target | engine (median) | engine (best) | plain loop (estimate) | memory-traffic floor | peak memory |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, target, med, best, loop, floor, mem in rows:
        memtxt = "—"
        if mem is not None:
            traced, base, peak = mem
            memtxt = f"{traced:,.0f} MB allocated at peak (tracemalloc); process RSS {base:,.0f} → {peak:,.0f} MB"
        lines.append(
            f"| {name} | {target} | **{fmt_time(med)}** | {fmt_time(best)} | {fmt_time(loop)} | {fmt_time(floor)} | {memtxt} |"
        )
    lines += [
        "",
        "Data: real OKX SOL-USDT-SWAP 5m candles (26 days, tests/liqengine/fixtures/). 30 days and 1 year are built by "
        "chaining copies of the 26 days, each scaled to start at the previous copy's last close. The real hourly OI "
        "(USD, all SOL contracts, converted to SOL) is interpolated linearly onto the 5m steps so OI changes every "
        "step, as Binance's 5m OI does: the harder case, with levels opened at about half the steps. The 3 markets "
        "are that path rotated by 0, 1 and 2 days onto the same timestamps, with Binance linear, Bybit linear and "
        "inverse formulas.",
        f"Plain loop: tests/liqengine/reference.py on the first {loop_steps} steps ({loop_steps // 2} per market for the "
        "aggregate), timed in the same process and scaled linearly to the full length: a lower bound, since its cost "
        "per step grows with the number of pending levels.",
        "Memory-traffic floor: np.zeros + fill of the output grids (30-day cases: 2 × 8,640 × 400 float64); for the "
        "year case, writing every full-resolution cell (2 × 105,120 × 400) once through a 128-row buffer.",
        "Peak memory of the year case: tracemalloc's peak during the call (numpy allocations included), and the "
        "resident set size of a fresh process that runs only that case, before the call (interpreter, numpy and "
        "inputs loaded) and at its peak during the call (kernel high-water mark, reset just before the call).",
    ]
    return lines


def write_results(lines):
    """Replace (or append) this benchmark's section of bench/RESULTS.md, leaving other sections alone."""
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    section = [START_MARK, "## Engine (`bench/engine_bench.py`)", "", f"Recorded {stamp}.", "", *lines, END_MARK]
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    if START_MARK in text and END_MARK in text:
        head, rest = text.split(START_MARK, 1)
        tail = rest.split(END_MARK, 1)[1]
        text = head + "\n".join(section) + tail
    else:
        text = text.rstrip("\n") + "\n\n" + "\n".join(section) + "\n"
    RESULTS.write_text(text)
    print(f"\nwritten to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
