"""The four map readings backtested on the real-liquidation development set (never copied into the repository).

    .venv/bin/python bench/readings_eval.py [--fit-share 0.5]

Reads ``real-liquidations-btc-1h-2025-12_2026-03/`` from the shared data folder:
``$LIQSITE_SHARED_DATA`` when set, else ``<repo>/../shared/data``. The files stay
there (their README forbids copying them); this script only prints the
scores. When the folder is absent it says so and exits with status 2.

The set: Binance BTCUSDT 1h candles, Binance open interest (USD, end of hour;
converted to BTC with the hour's close) and the hour's real liquidations on
Binance + Bybit + OKX together. Steps start at the first hour with open
interest; a missing single hour of open interest keeps the last reading (what
was known then). The bundled sample markets are scored by ``manage.py backtest``.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from accuracy.readings_backtest import ReadingsInput, run_readings_backtest  # noqa: E402
from accuracy.readings_table import markdown_table, text_table  # noqa: E402
from grids.steps import StepArrays  # noqa: E402

SET = "real-liquidations-btc-1h-2025-12_2026-03"
HOUR_MS = 3_600_000


def shared_data() -> Path:
    """The shared data folder: ``$LIQSITE_SHARED_DATA``, else ``<repo>/../shared/data``."""
    env = os.environ.get("LIQSITE_SHARED_DATA")
    return Path(env).expanduser().resolve() if env else (ROOT.parent / "shared" / "data").resolve()


def dev_set_folder() -> Path | None:
    """The development set's folder, or None after saying plainly that it is absent."""
    folder = shared_data() / SET
    if folder.is_dir():
        return folder
    print(
        f"The real-liquidation development set is absent: {folder} does not exist "
        "(set LIQSITE_SHARED_DATA to the folder holding it). Nothing was scored."
    )
    return None


def _read(path: Path) -> list[dict]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def load(folder: Path) -> ReadingsInput:
    candles = _read(folder / "candles.csv")
    t = np.array([int(r["time_ms"]) for r in candles], dtype=np.int64)
    o, h, lo, c, v = (np.array([float(r[k]) for r in candles]) for k in ("open", "high", "low", "close", "volume"))
    oi_rows = _read(folder / "open_interest.csv")
    oi_t = np.array([int(r["time_ms"]) for r in oi_rows], dtype=np.int64)
    oi_usd = np.array([float(r["oi_usd"]) for r in oi_rows])
    # As of the end of each hour: the newest reading stamped at or before the candle's open (the set stamps
    # a reading at its hour's open; a missing hour keeps the previous one).
    at = np.searchsorted(oi_t, t, side="right") - 1
    keep = at >= 0
    t, o, h, lo, c, v, at = t[keep], o[keep], h[keep], lo[keep], c[keep], v[keep], at[keep]
    oi = oi_usd[at] / c
    liq_rows = _read(folder / "liquidations.csv")
    liq_t = np.array([int(r["time_ms"]) for r in liq_rows], dtype=np.int64)
    liq_usd = np.array([float(r["total_liq_usd"]) for r in liq_rows])
    liq = np.full(len(t), np.nan)  # an hour without a row is unknown, not zero
    i = np.searchsorted(t, liq_t)
    ok = (i < len(t)) & (t[np.minimum(i, len(t) - 1)] == liq_t)
    liq[i[ok]] = liq_usd[ok]
    n = len(t)
    steps = StepArrays(t, o, h, lo, c, v, np.full(n, np.nan), oi, np.full(n, np.nan))
    return ReadingsInput(steps, HOUR_MS, 0, liquidations=liq)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fit-share", type=float, default=0.5)
    parser.add_argument("--markdown", action="store_true", help="Print the table as Markdown too (for the README).")
    args = parser.parse_args(argv)
    folder = dev_set_folder()
    if folder is None:
        return 2
    inp = load(folder)
    t = inp.steps.open_time
    end = int(t[-1]) + HOUR_MS
    split = int(t[0]) + int(round(args.fit_share * (end - int(t[0]))))
    inp = ReadingsInput(inp.steps, inp.step_ms, split, liquidations=inp.liquidations)
    results = run_readings_backtest(inp)
    info = results["info"]
    from liqsite.formatting import utc_ms

    print(
        f"{SET}: {info['steps']} 1h steps, {utc_ms(info['start'])} → {utc_ms(info['end'])}; "
        f"fit part before {utc_ms(info['split'])} ({info['fit_steps']} steps), held out {info['held_out_steps']} steps; "
        f"{info['liquidations']} hours with real liquidations"
    )
    print(text_table(results))
    if args.markdown:
        print()
        print(markdown_table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
