"""Every model variant scored against real liquidations, per side, on the development set (never copied here).

    .venv/bin/python bench/accuracy_real.py [--fit-share 0.5] [--markdown]

Reads ``real-liquidations-btc-1h-2025-12_2026-03/`` from the shared data folder
(``$LIQSITE_SHARED_DATA`` when set, else ``<repo>/../shared/data``, as
``bench/readings_eval.py`` does). The files stay there (their README forbids
copying them); this script only prints scores. When the folder is absent it
says so and exits with status 2.

**One market** (issue 12): Binance BTCUSDT 1h candles and open interest (USD at
the end of each hour, turned into BTC with the hour's close; a missing hour
keeps the last reading, what was known then) against the USD of long and of
short positions really liquidated on Binance, Bybit and OKX together in each
hour (an hour without a row is unknown, not zero). The period is split by
time: the first part (``--fit-share``, half by default) fits what a variant
fits and warms the model up; the deciding table scores the rest only. A second
table shows the fit part (its first day as warm-up): the default was chosen
there, before the held-out table was read.

**Three exchanges summed** (issue 17): Binance (as above), Bybit and OKX BTC
(the bundled MIT sample, ``plugins/sample/data/multi-exchange-btc-sol-1h-2026-01_03``,
open interest read at each candle's open, so the reading at the end of an hour
is the next one), each market replayed with its exchange's formula, summed over
the hours all three have, against the same real liquidations, beside each
exchange alone. Same split rule, on those common hours.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from accuracy.backtest import (  # noqa: E402
    BacktestInput,
    Observed,
    Records,
    StepTotals,
    observed_sides,
    run_aggregate_backtest,
    run_backtest,
)
from accuracy.table import markdown_side_table, text_side_table  # noqa: E402
from accuracy.variants import EXCHANGE_MIXES, SITE_DEFAULT  # noqa: E402
from bench.readings_eval import SET, _read, dev_set_folder  # noqa: E402
from grids.steps import StepArrays  # noqa: E402
from liqengine import BYBIT_LINEAR, LINEAR, ModelParams  # noqa: E402

HOUR_MS = 3_600_000
RESULTS = ROOT / "bench" / "ACCURACY.md"
SAMPLE = ROOT / "plugins" / "sample" / "data" / "multi-exchange-btc-sol-1h-2026-01_03"
OTHER_EXCHANGES = {"bybit": ("bybit-BTCUSDT", BYBIT_LINEAR), "okx": ("okx-BTC-USDT-SWAP", LINEAR)}


def _column(rows: list[dict], name: str, dtype=np.float64) -> np.ndarray:
    return np.array([r[name] for r in rows], dtype=dtype)


def _steps(t, o, h, lo, c, v, oi) -> StepArrays:
    n = len(t)
    return StepArrays(t, o, h, lo, c, v, np.full(n, np.nan), oi, np.full(n, np.nan))


def _market_input(steps: StepArrays, split: int, params: ModelParams, totals: StepTotals | None = None, mix=None):
    n = len(steps)
    return BacktestInput(
        steps=steps,
        step_ms=HOUR_MS,
        split_time=split,
        covered=np.zeros(n, dtype=bool),
        records=Records.empty(),
        params=params,
        exchange_mix=mix,
        totals=totals,
    )


def _split(open_time: np.ndarray, fit_share: float) -> int:
    start, end = int(open_time[0]), int(open_time[-1]) + HOUR_MS
    return start + int(round(fit_share * (end - start)))


def load_binance(folder: Path) -> tuple[StepArrays, StepTotals]:
    """The development set: Binance steps with as-of open interest, and the real liquidations per hour and side."""
    candles = _read(folder / "candles.csv")
    t = _column(candles, "time_ms", np.int64)
    o, h, lo, c, v = (_column(candles, k) for k in ("open", "high", "low", "close", "volume"))
    oi_rows = _read(folder / "open_interest.csv")
    oi_t, oi_usd = _column(oi_rows, "time_ms", np.int64), _column(oi_rows, "oi_usd")
    # A row stamped T holds the open interest at the END of the hour starting at T (the set's README).
    at = np.searchsorted(oi_t, t, side="right") - 1
    keep = at >= 0
    t, o, h, lo, c, v, at = t[keep], o[keep], h[keep], lo[keep], c[keep], v[keep], at[keep]
    steps = _steps(t, o, h, lo, c, v, oi_usd[at] / c)
    liq = _read(folder / "liquidations.csv")
    liq_t = _column(liq, "time_ms", np.int64)
    long_usd, short_usd = np.full(len(t), np.nan), np.full(len(t), np.nan)
    i = np.minimum(np.searchsorted(t, liq_t), len(t) - 1)
    ok = t[i] == liq_t
    long_usd[i[ok]] = _column(liq, "long_liq_usd")[ok]
    short_usd[i[ok]] = _column(liq, "short_liq_usd")[ok]
    return steps, StepTotals(long_usd, short_usd)


def load_sample_market(name: str) -> StepArrays:
    """A bundled three-exchange market: candles, and the reading taken at each candle's END (stamped an hour later)."""
    candles = _read(SAMPLE / name / "candles.csv")
    t = _column(candles, "time_ms", np.int64)
    o, h, lo, c, v = (_column(candles, k) for k in ("open", "high", "low", "close", "volume"))
    oi_rows = _read(SAMPLE / name / "open_interest.csv")
    oi_t, oi = _column(oi_rows, "time_ms", np.int64), _column(oi_rows, "oi_base")
    at = np.searchsorted(oi_t, t + HOUR_MS, side="right") - 1
    fresh = (at >= 0) & (oi_t[np.maximum(at, 0)] == t + HOUR_MS)
    return _steps(t, o, h, lo, c, v, oi[np.maximum(at, 0)]).window(fresh)


def dev_set(folder: Path, fit_share: float):
    """(held-out result, fit-part result, info line) for Binance BTCUSDT alone."""
    steps, totals = load_binance(folder)
    inp = _market_input(steps, _split(steps.open_time, fit_share), ModelParams(), totals, EXCHANGE_MIXES["binance"])
    held = run_backtest(inp)
    # The fit part on its own: its first day warms the model up, the rest is scored (what the choice was made on).
    head = inp.head(inp.fit_stop)
    fit = run_backtest(_market_input(head.steps, int(head.open_time[0]) + 24 * HOUR_MS, ModelParams(), head.totals))
    return inp, held, fit


def three_exchanges(folder: Path, fit_share: float):
    """Per exchange and summed, against the real liquidations of the three together, over their common hours."""
    binance, totals = load_binance(folder)
    markets = {"binance": (binance, LINEAR)}
    for key, (name, formula) in OTHER_EXCHANGES.items():
        markets[key] = (load_sample_market(name), formula)
    common = binance.open_time
    for steps, _ in markets.values():
        common = np.intersect1d(common, steps.open_time)
    at = np.searchsorted(binance.open_time, common)
    known = np.isfinite(totals.long_usd[at]) & np.isfinite(totals.short_usd[at])
    common, at = common[known], at[known]
    observed = Observed(
        totals.long_usd[at] + totals.short_usd[at], totals.long_usd[at], totals.short_usd[at], np.ones(len(common), np.int8)
    )
    split = _split(common, fit_share)
    inputs = {
        key: _market_input(steps, split, ModelParams(formula=formula), mix=EXCHANGE_MIXES.get(key))
        for key, (steps, formula) in markets.items()
    }
    results = {key: run_aggregate_backtest([inp], observed, common, split) for key, inp in inputs.items()}
    results["summed"] = run_aggregate_backtest(list(inputs.values()), observed, common, split)
    return common, split, results


def utc(ms: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.gmtime(ms / 1000))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fit-share", type=float, default=0.5)
    parser.add_argument("--markdown", action="store_true", help="Print the tables as Markdown too (for the README and docs).")
    parser.add_argument("--write", action="store_true", help="Record the tables in bench/ACCURACY.md.")
    args = parser.parse_args(argv)
    if not 0 < args.fit_share < 1:
        parser.error("--fit-share must lie strictly between 0 and 1")
    folder = dev_set_folder()
    if folder is None:
        return 2
    t0 = time.perf_counter()
    inp, held, fit = dev_set(folder, args.fit_share)
    obs = observed_sides(inp)
    print(
        f"{SET}: {len(inp)} 1h steps with open interest, {utc(int(inp.open_time[0]))} → "
        f"{utc(int(inp.open_time[-1]) + HOUR_MS)} UTC; {int(obs.sided.sum())} hours with real liquidations per side."
    )
    print(f"Site default: {SITE_DEFAULT}. Scores per side: Spearman [block-bootstrap 95 %] and top-decile capture.")
    print()
    print(f"Held-out hours (from {utc(held.info['split'])}; {held.info['held_out_sided_steps']} hours) — the deciding table:")
    print(text_side_table(held.to_dict()))
    print()
    print(f"Fit part ({fit.info['held_out_sided_steps']} hours before {utc(held.info['split'])}, its first day as warm-up):")
    print(text_side_table(fit.to_dict()))
    common, split, agg = three_exchanges(folder, args.fit_share)
    print()
    print(
        f"Three exchanges (BTC on Binance, Bybit, OKX) against their liquidations together: {len(common)} common hours "
        f"{utc(int(common[0]))} → {utc(int(common[-1]) + HOUR_MS)} UTC, held out from {utc(split)} "
        f"({agg['summed'].info['held_out_sided_steps']} hours)."
    )
    for key, result in agg.items():
        print(f"\n{key}:")
        print(text_side_table(result.to_dict()))
    sections = [
        (
            f"Held-out hours, {utc(held.info['split'])} → {utc(held.info['end'])} UTC "
            f"({held.info['held_out_sided_steps']} hours)",
            held,
        ),
        (f"Fit part ({fit.info['held_out_sided_steps']} hours before {utc(held.info['split'])}, its first day as warm-up)", fit),
        *(
            (f"Three exchanges, held out from {utc(split)} ({result.info['held_out_sided_steps']} hours): {key}", result)
            for key, result in agg.items()
        ),
    ]
    if args.markdown:
        for title, result in sections:
            print(f"\n### {title}\n")
            print(markdown_side_table(result.to_dict()))
    if args.write:
        write_results(sections, inp, common, split)
        print(f"\nRecorded in {RESULTS}.")
    print(f"\n({time.perf_counter() - t0:.1f} s)")
    return 0


def write_results(sections, inp, common, split) -> None:
    """The tables as Markdown in bench/ACCURACY.md, with when, where and on what they were measured."""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    except OSError:
        commit = "unknown"
    lines = [
        "# Accuracy against real liquidations (`bench/accuracy_real.py`)",
        "",
        f"Recorded {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} at commit {commit or 'unknown'} "
        f"(load average {', '.join(f'{x:.2f}' for x in os.getloadavg())}; the scores do not depend on it). "
        f"Site default: `{SITE_DEFAULT}`.",
        "",
        f"Development set `{SET}` (read in place, never copied): {len(inp)} Binance BTCUSDT 1h steps with open interest, "
        f"{utc(int(inp.open_time[0]))} → {utc(int(inp.open_time[-1]) + HOUR_MS)} UTC, against the USD of longs and shorts "
        "really liquidated on Binance, Bybit and OKX together. Three exchanges: Binance (the same set), Bybit and OKX "
        f"(the bundled MIT sample), {len(common)} common hours, held out from {utc(split)}.",
        "",
        "Each cell: the score on the held-out hours and its block-bootstrap 95 % interval. “beats” = higher on all four "
        "per-side scores (Spearman and top-decile capture, longs and shorts).",
    ]
    for title, result in sections:
        lines += ["", f"## {title}", "", markdown_side_table(result.to_dict())]
    RESULTS.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    sys.exit(main())
