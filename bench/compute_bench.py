"""Benchmark of the grid computation: the sample's 24 grids against one engine run.

    .venv/bin/python bench/compute_bench.py [--repeat 3] [--no-write]

Builds a throw-away SQLite database under a temporary directory, loads the
bundled sample exchange into it (the markets and series ``setup_sample``
loads: BTCUSDT 15m, OKX SOL-USDT-SWAP 5m / 15m / 1h) and then, in this one
process:

1. times the recompute of every stored grid: the 2 markets and the 2 coins,
   each interval, each of the 3 long-share methods (24 grids). The stored
   digests are cleared before each pass (outside its timing), so every grid
   is computed and written again, as after a parameter change;
2. after each pass, times one 30-day 5m × 400-bin engine run (``liquidation_grid``,
   the case of bench/engine_bench.py, median of 3) on the same real SOL path;
   each pass's ratio is taken against the engine runs right after it, so a
   change of load on this shared machine moves both sides of a ratio together;
3. prints the median ratio (goal: the 24 grids in ≤ 20 engine runs) and its range, the per-stage
   breakdown (a separate pass under cProfile: cumulative time of the stage's
   function, so the shares carry cProfile's overhead), the stored blob sizes,
   and the cost of each grid against its steps (should grow at most linearly).

A last pass recomputes with the digests in place and checks that nothing is
written (digest semantics unchanged).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import platform
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RESULTS = ROOT / "bench" / "RESULTS.md"
START_MARK = "<!-- compute-bench:start -->"
END_MARK = "<!-- compute-bench:end -->"
GOAL_RATIO = 20

# (label, file suffix, function name): a stage is the cumulative time of its function.
STAGES = (
    ("read the stored series (market_steps)", "grids/inputs.py", "market_steps"),
    ("engine + column reduction (window_grid)", "liqengine/window.py", "window_grid"),
    ("  of which the row streams (GridStream.fill)", "liqengine/grid.py", "fill"),
    ("  of which the column reduction of the layers", "liqengine/layers.py", "__call__"),
    ("reading the map (analyse_map)", "liqengine/bands.py", "analyse_map"),
    ("  of which the per-row thresholds", "liqengine/bands.py", "row_thresholds"),
    ("readings (read_map)", "liqengine/readings.py", "read_map"),
    ("packing the blobs (codec)", "grids/codec.py", "pack_arrays"),
    ("packing the blobs (codec)", "grids/codec.py", "pack_layers"),
    ("  of which zstd", "~", "<method 'compress' of 'backports.zstd.ZstdCompressor' objects>"),
    ("  of which zstd", "~", "<method 'flush' of 'backports.zstd.ZstdCompressor' objects>"),
    ("  of which zstd", "~", "<method 'compress' of 'compression.zstd.ZstdCompressor' objects>"),
    ("  of which zstd", "~", "<method 'flush' of 'compression.zstd.ZstdCompressor' objects>"),
    ("copying a twin grid in the database (a coin of one market)", "grids/computation.py", "_copy_snapshot"),
    ("database write (update_or_create)", "django/db/models/query.py", "update_or_create"),
)


def setup_django(workdir: Path) -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
    os.environ["LIQSITE_VAR_DIR"] = str(workdir)
    os.environ.pop("CACHE_URL", None)
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "true"  # the refresh's chained compute runs inline
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "liqsite.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def load_sample() -> None:
    """The single-exchange sample's markets and series, as ``setup_sample --single-exchange`` loads them (no backtest)."""
    from django.core.management import call_command

    from heatmaps.management.commands.setup_sample import SAMPLE_MARKETS
    from markets.models import Exchange, Market

    exchange, _ = Exchange.objects.get_or_create(plugin="sample", defaults={"enabled": True})
    with exchange.client() as plugin:
        for symbol, intervals in SAMPLE_MARKETS.items():
            instrument = plugin.instrument(symbol)
            Market.objects.get_or_create(
                exchange=exchange,
                symbol=symbol,
                defaults={
                    "base": instrument.base,
                    "quote": instrument.quote,
                    "contract_type": instrument.contract_type,
                    "contract_size": instrument.contract_size,
                    "tick_size": instrument.tick_size,
                    "intervals": intervals,
                },
            )
    with open(os.devnull, "w") as quiet:
        call_command("refresh", *(f"sample:{s}" for s in SAMPLE_MARKETS), stdout=quiet)


def targets():
    from grids.targets import Target
    from markets.models import Market

    markets = list(Market.objects.filter(active=True).order_by("pk"))
    return [Target.of_market(m) for m in markets] + [Target.of_coin(c) for c in sorted({m.base for m in markets})]


def clear_digests() -> None:
    """Forget every stored digest, so the next recompute computes and writes every grid again.

    Not part of a timed pass: the UPDATE rewrites every snapshot row with its
    blobs (~35 ms on SQLite for the sample's 24), which no real recompute does
    (a grid is recomputed because its inputs changed, not because its digest was erased).
    """
    from grids.models import GridSnapshot

    GridSnapshot.objects.update(input_digest="")


def recompute(per_grid: list | None = None) -> list:
    """Every target's grids (call :func:`clear_digests` first to have them all written again); returns the outcomes."""
    import grids.computation as computation

    store = computation._store
    if per_grid is not None:

        def timed_store(**kwargs):
            t0 = time.perf_counter()
            outcome = store(**kwargs)
            per_grid.append((outcome, time.perf_counter() - t0))
            return outcome

        computation._store = timed_store
    try:
        outcomes = [o for target in targets() for o in computation.grids_compute(target)]
    finally:
        computation._store = store
    return outcomes


def engine_run():
    """One 30-day 5m × 400-bin run of the engine on the real SOL path (bench/engine_bench.py, case 1)."""
    from bench.engine_bench import DAY, extended
    from liqengine import default_bin_edges, liquidation_grid

    h, lo, c, oi, _ = extended(30 * DAY)
    edges = default_bin_edges(lo, h, 400)
    return lambda: liquidation_grid(h, lo, c, oi, edges)


def median_time(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def stage_profile() -> tuple[float, list[tuple[str, float]]]:
    clear_digests()
    profiler = cProfile.Profile()
    t0 = time.perf_counter()
    profiler.enable()
    recompute()
    profiler.disable()
    total = time.perf_counter() - t0
    stats = pstats.Stats(profiler).stats
    sums: dict[str, float] = {}
    for label, path, name in STAGES:
        sums.setdefault(label, 0.0)
        for (file, _, func), (_, _, _, cum, _) in stats.items():
            if func == name and file.replace(os.sep, "/").endswith(path):
                sums[label] += cum
    return total, list(sums.items())


def blob_sizes() -> list[tuple[str, int, int, int]]:
    from grids.models import GridSnapshot

    rows = []
    for s in GridSnapshot.objects.order_by("market_id", "coin", "interval", "long_share_method"):
        rows.append(
            (
                f"{s.market.symbol if s.market_id else s.coin} {s.interval} {s.long_share_method}",
                s.steps,
                len(bytes(s.arrays)),
                len(bytes(s.layers)),
            )
        )
    return rows


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=3, help="timed recompute passes (median)")
    ap.add_argument("--no-write", action="store_true", help=f"do not update {RESULTS.name}")
    opts = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="compute-bench-") as tmp:
        setup_django(Path(tmp))
        t0 = time.perf_counter()
        load_sample()
        print(f"loaded the sample in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        from grids.models import GridSnapshot

        clear_digests()
        recompute()  # warm-up: imports, caches, every snapshot row exists
        engine_once = engine_run()  # median_time warms it up before each pass's runs
        passes, engines, ratios, per_grid = [], [], [], []
        for k in range(opts.repeat):
            pass_grids = []
            clear_digests()
            t0 = time.perf_counter()
            outcomes = recompute(pass_grids)
            passes.append(time.perf_counter() - t0)
            per_grid.append(pass_grids)
            engines.append(median_time(engine_once, 3))
            ratios.append(passes[-1] / engines[-1])
            print(f"pass {k + 1}: {passes[-1]:.2f} s, engine {engines[-1] * 1000:.0f} ms: {ratios[-1]:.1f}x", file=sys.stderr)
        stored = sum(o.status == "stored" for o in outcomes)
        grids = len(outcomes)
        profiled_total, stages = stage_profile()
        sizes = blob_sizes()
        # Digests kept: a recompute on unchanged data must write nothing.
        before = dict(GridSnapshot.objects.values_list("pk", "computed_at"))
        from grids.computation import grids_compute

        again = [o for target in targets() for o in grids_compute(target)]
        rewritten = sum(o.status == "stored" for o in again)
        unchanged_ok = rewritten == 0 and before == dict(GridSnapshot.objects.values_list("pk", "computed_at"))

    lines = render(opts.repeat, grids, stored, passes, engines, ratios, profiled_total, stages, sizes, per_grid, unchanged_ok)
    print("\n".join(lines))
    if not opts.no_write:
        write_results(lines)


def render(repeat, grids, stored, passes, engines, ratios, profiled_total, stages, sizes, per_grid, unchanged_ok):
    ratio = statistics.median(ratios)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    lines = [
        f"Machine: {platform.machine()} ({cpu_model()}), nproc {len(os.sched_getaffinity(0))}, Python "
        f"{platform.python_version()}, numpy {np.__version__}; single process; load average at the end: {load}.",
        "",
        "| measure | value |",
        "|---|---|",
        f"| recompute of the sample's {grids} grids ({stored} written; median of {repeat} passes; digests cleared, untimed) "
        f"| **{statistics.median(passes):.2f} s** (passes {min(passes):.2f}–{max(passes):.2f} s) |",
        f"| one 30-day 5m × 400-bin engine run (median of 3 after each pass) | {statistics.median(engines) * 1000:.0f} ms "
        f"({min(engines) * 1000:.0f}–{max(engines) * 1000:.0f} ms) |",
        f"| ratio, each pass against the engine runs after it (goal ≤ {GOAL_RATIO}) | **{ratio:.1f}×** median "
        f"({min(ratios):.1f}–{max(ratios):.1f}×) |",
        f"| recompute on unchanged data writes nothing | {'yes' if unchanged_ok else 'NO'} |",
        "",
        f"Stages (one pass under cProfile, {profiled_total:.2f} s in all; cumulative time of each stage's function):",
        "",
        "| stage | time | share |",
        "|---|---|---|",
    ]
    for label, seconds in stages:
        lines.append(
            f"| {label.strip() if not label.startswith('  ') else '↳ ' + label.strip()} "
            f"| {seconds:.2f} s | {100 * seconds / profiled_total:.0f} % |"
        )
    # Cost per grid against its steps, over the timed passes (median per grid).
    by_grid: dict[tuple, list[float]] = {}
    steps: dict[tuple, int] = {}
    for pass_grids in per_grid:
        for outcome, seconds in pass_grids:
            key = (outcome.target, outcome.interval, outcome.method)
            by_grid.setdefault(key, []).append(seconds)
    for name, n, _, _ in sizes:
        target, interval, method = name.split(" ")
        steps[(target, interval, method)] = n
    lines += [
        "",
        "Cost of each grid against its steps (median over the timed passes; compute + store):",
        "",
        "| grid | steps | ms | µs per step | arrays blob | layers blob |",
        "|---|---|---|---|---|---|",
    ]
    size_of = {tuple(name.split(" ")): (a, b) for name, _, a, b in sizes}
    for key in sorted(by_grid, key=lambda k: (steps.get(k, 0), k)):
        ms = 1000 * statistics.median(by_grid[key])
        n = steps.get(key, 0)
        a, b = size_of.get(key, (0, 0))
        lines.append(
            f"| {' '.join(key)} | {n:,} | {ms:.0f} | {1000 * ms / max(n, 1):.0f} | {a / 1024:,.0f} KB | {b / 1024:,.0f} KB |"
        )
    total_a = sum(a for *_, a, _ in sizes)
    total_b = sum(b for *_, b in sizes)
    lines += ["", f"Stored in all: arrays {total_a / 1e6:.1f} MB, layers {total_b / 1e6:.1f} MB."]
    return lines


def write_results(lines: list[str]) -> None:
    """Replace (or append) this benchmark's section of bench/RESULTS.md, leaving other sections alone."""
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    section = [START_MARK, "## Grid computation (`bench/compute_bench.py`)", "", f"Recorded {stamp}.", "", *lines, END_MARK]
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    if START_MARK in text and END_MARK in text:
        head, rest = text.split(START_MARK, 1)
        text = head + "\n".join(section) + rest.split(END_MARK, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + "\n".join(section) + "\n"
    RESULTS.write_text(text)
    print(f"\nwritten to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
