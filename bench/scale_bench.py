"""Scale: the wall time of one full cycle for N markets and K worker processes. Results: bench/RESULTS.md.

    .venv/bin/python bench/scale_bench.py [--markets 10,100,300] [--workers 1,2] [--mode processes]
                                          [--cycle-budget 1200] [--total-budget 5400] [--record]
    (or: make bench-scale)

Goal (issue 11): 100 markets fresh within 120 s of wall time per cycle on a
2-core machine, and throughput that grows with worker processes.

For each N it creates a fresh PostgreSQL database (``liqsite_bench_scale`` on
127.0.0.1) and clears its own Redis dbs (14: broker, 15: cache); adds N
markets on the bundled sample exchange, each a copy of the real OKX
SOL-USDT-SWAP recording shifted by k hours (``SOL-USDT-SWAP+<k>h``) at 5m,
15m and 1h, grouped ``--per-coin`` to a coin (so coin aggregates are computed
too, as for one coin listed on a few exchanges), and one alert rule per
market. Then, for each K, it starts K Celery worker processes and times:

- the *backfill* cycle: the sample exchange's replay clock (``replay_until``)
  at 2026-06-25 00:00 UTC, every market empty: refresh 24 days of data,
  compute, evaluate;
- a *steady* cycle: the clock moved one hour on, so every market gets new
  5m, 15m and 1h steps and every stored grid changes, as on a live exchange
  where the forming candle moves every cycle.

A cycle is sent as beat sends it (``refresh_active_markets``: refresh each
market → compute its grids → its coin's aggregate → evaluate the rules) and
is over when the broker queue is empty with nothing unacknowledged (tasks are
acked late, so a running task stays unacknowledged) and every grid stored
after the backfill has a ``computed_at`` after the cycle began. A cycle that
runs past ``--cycle-budget`` is stopped and reported as such, and so is one
that drains with a market left unrefreshed. The workers run with a refresh
interval of 3 hours (``LIQSITE_REFRESH_SECONDS``): a refresh still queued after
0.8 × the interval expires, so at the default 5 minutes a cycle longer than 4
minutes would drop its last markets' refreshes and look shorter than it is.

Database growth: PostgreSQL's size of each table (``pg_total_relation_size``)
before and after the backfill, per market and per day of data it added; grids
are replaced, not appended, so their size is per market, not per day.

``--mode processes`` starts K ``celery worker -c 1`` processes;
``--mode concurrency`` one ``celery worker -c K``.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.services import drop_postgres, fresh_postgres, group_cpu_seconds, load_average, machine_line, record_section  # noqa: E402

BROKER_URL = "redis://127.0.0.1:6379/14"
CACHE_URL = "redis://127.0.0.1:6379/15"
DATABASE_NAME = "scale"
INTERVALS = ["5m", "15m", "1h"]
RECORDING_START = datetime(2026, 5, 31, 14, 40, tzinfo=UTC)  # the first 5m candle of the OKX recording
REPLAY_START = datetime(2026, 6, 25, tzinfo=UTC)
STEADY_STEP = timedelta(hours=1)
REFRESH_SECONDS = 3 * 3600
GOAL_MARKETS, GOAL_SECONDS = 100, 120
SERIES_TABLES = ("heatmaps_candle", "heatmaps_openinterest", "heatmaps_fundingrate", "heatmaps_longshortratio")
GRID_TABLES = ("heatmaps_gridsnapshot",)


class OverBudget(Exception):
    pass


def configure(workdir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "CELERY_TASK_ALWAYS_EAGER"}}
    env |= {
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/liqsite_bench_{DATABASE_NAME}",
        "CELERY_BROKER_URL": BROKER_URL,
        "CACHE_URL": CACHE_URL,
        "LIQSITE_VAR_DIR": str(workdir),
        "DJANGO_SETTINGS_MODULE": "liqsite.settings",
        "LOG_LEVEL": "WARNING",
        # A refresh still queued after 0.8 × this interval expires (markets/tasks.py): at the default
        # 5 minutes, a cycle longer than 4 minutes would drop its last markets' refreshes to the next
        # cycle and look shorter than it is. The bench measures whole cycles.
        "LIQSITE_REFRESH_SECONDS": str(REFRESH_SECONDS),
    }
    os.environ.update(env)
    import django

    django.setup()
    return env


def redis():
    from redis import Redis

    return Redis.from_url(BROKER_URL)


def fresh_stores() -> None:
    """A new database and empty broker and cache dbs (only ours: 14 and 15)."""
    from django.core.cache import cache
    from django.db import connections

    connections.close_all()
    fresh_postgres(DATABASE_NAME)
    redis().flushdb()
    cache.clear()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def add_markets(count: int, per_coin: int) -> None:
    from django.contrib.auth import get_user_model

    from alerts.models import AlertRule
    from markets.models import Exchange, Market

    exchange = Exchange.objects.create(plugin="sample", enabled=True, settings={"replay_until": REPLAY_START.isoformat()})
    with exchange.client() as plugin:
        instrument = plugin.instrument("SOL-USDT-SWAP+1h")
    markets = Market.objects.bulk_create(
        Market(
            exchange=exchange,
            symbol=f"SOL-USDT-SWAP+{k}h",
            base=f"S{(k - 1) // per_coin:03d}",
            quote="USDT",
            contract_type=instrument.contract_type,
            contract_size=instrument.contract_size,
            tick_size=instrument.tick_size,
            intervals=INTERVALS,
        )
        for k in range(1, count + 1)
    )
    user = get_user_model().objects.create_user("bench", "bench@example.com", "bench-password-not-used")
    AlertRule.objects.bulk_create(AlertRule(user=user, market=m, min_usd=100_000) for m in markets)


def set_clock(moment: datetime) -> None:
    from markets.models import Exchange

    Exchange.objects.filter(plugin="sample").update(settings={"replay_until": moment.isoformat()})


def table_sizes() -> dict[str, int]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind = 'r'"
        )
        return dict(cursor.fetchall())


def start_workers(env: dict[str, str], workers: int, mode: str, logdir: Path) -> list[subprocess.Popen]:
    base = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "liqsite",
        "worker",
        "--loglevel",
        os.environ.get("LIQSITE_BENCH_WORKER_LOG_LEVEL", "WARNING"),
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]
    shapes = [(f"bench{i}", 1) for i in range(workers)] if mode == "processes" else [("bench0", workers)]
    processes = []
    for name, concurrency in shapes:
        log = open(logdir / f"{name}.log", "a")
        processes.append(
            subprocess.Popen(
                [*base, "-n", f"{name}@%h", "-c", str(concurrency)],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
    return processes


def stop_workers(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)  # the worker and its pool children, none other
    for process in processes:
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def queue_busy() -> int:
    """Messages waiting in or taken from the broker and not acknowledged yet."""
    client = redis()
    waiting = sum(client.llen(key) for key in client.scan_iter("celery*") if client.type(key) == b"list")
    return waiting + client.hlen("unacked")


def stale_grids(since: datetime, expected: int) -> int:
    from grids.models import GridSnapshot

    fresh = GridSnapshot.objects.filter(computed_at__gte=since).count()
    return max(expected - fresh, 0)


def run_cycle(expected_grids: int | None, budget: float, processes: list[subprocess.Popen]) -> tuple[float, float]:
    """Send one cycle and wait for it; (wall seconds, worker CPU seconds). Raises OverBudget."""
    from grids.models import GridSnapshot
    from markets.models import Market
    from markets.tasks import refresh_active_markets

    started_at = datetime.now(UTC)
    started = time.perf_counter()
    cpu = group_cpu_seconds(processes)
    refresh_active_markets.delay()
    quiet_since = None
    while True:
        time.sleep(0.5)
        elapsed = time.perf_counter() - started
        if elapsed > budget:
            raise OverBudget(
                f"not done after {budget:.0f} s: {queue_busy()} task(s) queued or running, "
                f"{GridSnapshot.objects.filter(computed_at__gte=started_at).count()} grid(s) stored"
            )
        if queue_busy() or (expected_grids is not None and stale_grids(started_at, expected_grids)):
            quiet_since = None
            continue
        # Empty twice in a row, half a second apart: no task was between a queue and a worker.
        if quiet_since is None:
            quiet_since = elapsed
            continue
        missed = Market.objects.filter(active=True).exclude(last_ingest_at__gte=started_at).count()
        if missed:
            raise OverBudget(f"the queue drained with {missed} market(s) not refreshed in this cycle")
        return quiet_since, group_cpu_seconds(processes) - cpu


def bench_markets(env, count: int, workers_list: list[int], args, logdir: Path, deadline: float) -> list[dict]:
    from grids.models import GridSnapshot
    from markets.models import Market

    rows = []
    for workers in workers_list:
        label = f"N={count}, K={workers} ({args.mode})"
        row = {"markets": count, "workers": workers}
        rows.append(row)
        if time.perf_counter() > deadline:
            row["note"] = "not run: the whole run's time budget was spent"
            continue
        print(f"{label}: setting up", file=sys.stderr)
        fresh_stores()
        add_markets(count, args.per_coin)
        before = table_sizes()
        row["load"] = os.getloadavg()[0]  # the machine is shared: say how busy it was
        processes = start_workers(env, workers, args.mode, logdir)
        try:
            budget = min(args.cycle_budget, max(deadline - time.perf_counter(), 1))
            row["backfill_s"], row["backfill_cpu"] = run_cycle(None, budget, processes)
            failed = Market.objects.exclude(last_error="").count()
            if failed:
                row["note"] = (
                    f"{failed} market(s) failed to refresh: {Market.objects.exclude(last_error='').first().last_error[:200]}"
                )
            after = table_sizes()
            days = (REPLAY_START - RECORDING_START) / timedelta(days=1)
            row["series_bytes_per_market_day"] = sum(after.get(t, 0) - before.get(t, 0) for t in SERIES_TABLES) / count / days
            row["grid_bytes_per_market"] = sum(after.get(t, 0) - before.get(t, 0) for t in GRID_TABLES) / count
            expected = GridSnapshot.objects.count()
            row["grids"] = expected
            print(f"{label}: backfill {row['backfill_s']:.1f} s, {expected} grids", file=sys.stderr)
            set_clock(REPLAY_START + STEADY_STEP)
            budget = min(args.cycle_budget, max(deadline - time.perf_counter(), 1))
            row["steady_s"], row["steady_cpu"] = run_cycle(expected, budget, processes)
            print(f"{label}: steady cycle {row['steady_s']:.1f} s", file=sys.stderr)
        except OverBudget as error:
            row["note"] = f"over budget ({'steady' if 'backfill_s' in row else 'backfill'} cycle): {error}"
            print(f"{label}: {row['note']}", file=sys.stderr)
        finally:
            stop_workers(processes)
    return rows


def report(rows: list[dict], args, started: str) -> str:
    lines = [
        "| markets N | workers K | backfill cycle (24 days) | steady cycle (+1 h) | markets/min (steady) "
        "| worker CPU per market (steady) | grids stored | series growth per market per day | grids per market | note |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        steady = row.get("steady_s")
        lines.append(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |".format(
                row["markets"],
                row["workers"],
                f"{row['backfill_s']:.1f} s (CPU {row['backfill_cpu']:.0f} s)" if "backfill_s" in row else "—",
                f"**{steady:.1f} s**" if steady else "—",
                f"{row['markets'] / steady * 60:.1f}" if steady else "—",
                f"{row['steady_cpu'] / row['markets']:.1f} s" if steady else "—",
                row.get("grids", "—"),
                f"{row['series_bytes_per_market_day'] / 1024:.0f} KB" if "series_bytes_per_market_day" in row else "—",
                f"{row['grid_bytes_per_market'] / 1024 / 1024:.1f} MB" if "grid_bytes_per_market" in row else "—",
                "; ".join(filter(None, [f"load {row['load']:.1f} at start" if "load" in row else "", row.get("note", "")])),
            )
        )
    worker_text = (
        "K `celery -A liqsite worker -c 1` processes"
        if args.mode == "processes"
        else "one `celery -A liqsite worker -c K` (prefork)"
    )
    return "\n".join(
        [
            "## Scale: one full cycle for N markets and K workers (`bench/scale_bench.py`)",
            "",
            f"Recorded {started}. Machine: {machine_line()}. Load average when the run ended: {load_average()}.",
            f"PostgreSQL and Redis on the same machine; workers: {worker_text}; markets: shifted copies of the real OKX "
            f"SOL-USDT-SWAP recording at 5m, 15m and 1h, {args.per_coin} per coin (coin aggregates computed too), "
            "one alert rule each. "
            f"A cycle = refresh → compute (3 intervals × 3 long-share methods per market, then the coin) → rule evaluation, "
            f"until the queue is drained and every grid is fresh. Budget per cycle: {args.cycle_budget:.0f} s.",
            "",
            f"Goal: {GOAL_MARKETS} markets fresh within {GOAL_SECONDS} s per cycle on 2 cores; throughput that grows with K.",
            "",
            *lines,
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--markets", default="10,100,300")
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--mode", choices=("processes", "concurrency"), default="processes")
    parser.add_argument("--per-coin", type=int, default=3, help="markets per coin (coin aggregates)")
    parser.add_argument(
        "--cycle-budget", type=float, default=1200, help="seconds one cycle may take before it is reported as over budget"
    )
    parser.add_argument("--total-budget", type=float, default=5400, help="seconds the whole run may take")
    parser.add_argument("--record", action="store_true", help="write the table to bench/RESULTS.md")
    parser.add_argument(
        "--log-dir",
        help="keep the workers' logs (and var dir) here instead of a temporary directory; "
        "LIQSITE_BENCH_WORKER_LOG_LEVEL=INFO logs each task's run time",
    )
    args = parser.parse_args()
    # A stopped run (timeout, Ctrl-C) still stops its workers and drops its database.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(f"stopped by SIGTERM; partial results: {rows}"))
    rows: list[dict] = []
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    deadline = time.perf_counter() + args.total_budget
    with tempfile.TemporaryDirectory(prefix="liqsite-scale-bench-") as tmp:
        workdir = Path(args.log_dir or tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        env = configure(workdir)
        try:
            for count in (int(n) for n in args.markets.split(",")):
                rows += bench_markets(env, count, [int(k) for k in args.workers.split(",")], args, workdir, deadline)
                print(report(rows, args, started), file=sys.stderr)
        finally:
            from django.db import connections

            connections.close_all()
            drop_postgres(env["DATABASE_URL"])
            redis().flushdb()
            for log in workdir.glob("*.log"):
                errors = [line for line in log.read_text().splitlines() if "ERROR" in line or "Traceback" in line]
                if errors:
                    print(f"{log.name}: {len(errors)} error line(s), first: {errors[0][:300]}", file=sys.stderr)
    text = report(rows, args, started)
    print(text)
    if args.record:
        record_section(ROOT / "bench" / "RESULTS.md", f"scale-bench-{args.mode}", text)


if __name__ == "__main__":
    main()
