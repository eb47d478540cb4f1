"""Benchmark of ``manage.py import_series`` on a large generated file: time and peak memory.

Run: ``.venv/bin/python bench/import_bench.py`` (SQLite in a fresh temporary
directory), or with ``--database-url postgres://…/an_empty_database`` for
PostgreSQL. ``--baseline-rev REV`` also runs the importer of git revision REV
(extracted with ``git archive``) on the same files and database, so the two
are compared in one run. ``--rows`` sets the size of the large file.

Each import runs as its own ``manage.py import_series`` process; its peak
memory is the kernel's high-water mark of that process's resident set
(``ru_maxrss`` from ``wait4``), its time the wall clock around it. Three files
are imported, each into a market of its own so every row is new:

* 1 row: the process's fixed cost (interpreter, Django, the database driver);
* a tenth of the rows and all of them: with bounded memory, the two peaks are
  the same and exceed the 1-row peak by about one batch.

The data: 1-minute candles from 2020-01-01 on a seeded random walk, written
the way exchange exports are (epoch milliseconds, prices with 2 decimals,
volume with 3): 2,000,000 rows is about 64 MB.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
START_MS = 1577836800000  # 2020-01-01 00:00 UTC
MINUTE_MS = 60_000


def write_candles(path: Path, rows: int, seed: int = 7) -> int:
    rng = random.Random(seed)
    price = 7200.0
    with path.open("w", newline="") as out:
        out.write("time,open,high,low,close,volume\n")
        lines = []
        for i in range(rows):
            close = max(1.0, price * (1 + rng.gauss(0, 0.001)))
            high = max(price, close) * (1 + abs(rng.gauss(0, 0.0005)))
            low = min(price, close) * (1 - abs(rng.gauss(0, 0.0005)))
            lines.append(f"{START_MS + i * MINUTE_MS},{price:.2f},{high:.2f},{low:.2f},{close:.2f},{rng.uniform(1, 200):.3f}\n")
            price = float(f"{close:.2f}")
            if len(lines) == 10_000:
                out.writelines(lines)
                lines.clear()
        out.writelines(lines)
    return path.stat().st_size


def manage(code_root: Path, environment: dict, *args: str) -> tuple[float, int, str]:
    """Run manage.py from ``code_root``: (seconds, peak RSS in bytes, output)."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "manage.py", *args],
        cwd=code_root,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise SystemExit(f"manage.py {' '.join(args)} failed ({process.returncode}):\n{output}")
    return seconds, usage.ru_maxrss * 1024, output.strip()


def extract_revision(rev: str, into: Path) -> Path:
    into.mkdir()
    archive = subprocess.run(["git", "archive", rev], cwd=ROOT, check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--database-url", help="an empty PostgreSQL database (default: SQLite in a temporary directory)")
    parser.add_argument("--baseline-rev", help="also run this git revision's importer, e.g. adaec7f")
    options = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="import-bench-") as scratch:
        scratch = Path(scratch)
        environment = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}}
        environment["LIQSITE_VAR_DIR"] = str(scratch / "var")
        if options.database_url:
            environment["DATABASE_URL"] = options.database_url
        database = "PostgreSQL" if options.database_url else "SQLite"

        sizes = [1, options.rows // 10, options.rows]
        files = {}
        for rows in sizes:
            files[rows] = scratch / f"candles-{rows}.csv"
            size = write_candles(files[rows], rows)
        print(f"{database}; files of {', '.join(f'{n:,}' for n in sizes)} rows; the largest is {size / 1e6:.1f} MB", flush=True)

        manage(ROOT, environment, "migrate", "--verbosity", "0")
        codes = [("this branch", ROOT)]
        if options.baseline_rev:
            codes.append((f"baseline {options.baseline_rev}", extract_revision(options.baseline_rev, scratch / "baseline")))
        symbols = " ".join(f"'BENCH{i}'" for i in range(len(codes) * len(sizes)))
        manage(
            ROOT,
            environment,
            "shell",
            "-c",
            (
                "from markets.models import Exchange, Market\n"
                "exchange, _ = Exchange.objects.get_or_create(plugin='sample')\n"
                f"for symbol in [{symbols.replace(' ', ', ')}]:\n"
                "    Market.objects.create(exchange=exchange, symbol=symbol, intervals=['1m'])\n"
            ),
        )

        results = []
        market = 0
        for label, code_root in codes:
            for rows in sizes:
                seconds, peak, output = manage(
                    code_root,
                    environment,
                    "import_series",
                    f"sample:BENCH{market}",
                    "candles",
                    str(files[rows]),
                    "--interval",
                    "1m",
                )
                market += 1
                results.append((label, rows, seconds, peak))
                print(
                    f"{label}: {rows:>9,} rows  {seconds:7.1f} s  peak RSS {peak / 2**20:7.0f} MiB  "
                    f"| {output.rsplit(': ', 1)[-1]}",
                    flush=True,
                )

        print()
        print(f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, {database}.")
        print("| code | rows | time | rows/s | peak RSS | above the 1-row run |")
        print("|---|---|---|---|---|---|")
        for label, rows, seconds, peak in results:
            base = next(p for lab, n, _, p in results if lab == label and n == 1)
            print(
                f"| {label} | {rows:,} | {seconds:.1f} s | {rows / seconds:,.0f} | {peak / 2**20:,.0f} MiB "
                f"| {(peak - base) / 2**20:,.0f} MiB |"
            )


if __name__ == "__main__":
    main()
