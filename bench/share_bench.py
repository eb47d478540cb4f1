"""Throughput of a public share page under gunicorn, measured with bench/load.py. Results: bench/RESULTS.md.

    .venv/bin/python bench/share_bench.py [--seconds 10] [--server gthread:2x8 --server sync:2]
                                          [--postgres --cache-url redis://127.0.0.1:6379/13] [--record]

Goal (issue 11): a public share page holds >= 300 req/s with p99 <= 100 ms
at 32 concurrent clients on 2 cores.

It builds a throw-away database (SQLite in a temporary folder by default;
``--postgres`` creates ``liqsite_bench_share`` on 127.0.0.1), loads the
bundled sample exchange (``setup_sample``: real OKX SOL-USDT-SWAP and Binance
BTCUSDT, refreshed, computed and backtested), makes a *live* public share
link of SOL-USDT-SWAP's default view (7 days of 15m), then for each
``--server`` (``sync:W`` or ``gthread:WxT``: W worker processes, T threads
each) starts gunicorn on 127.0.0.1 and runs 1 and 32 concurrent clients for
``--seconds`` each after a short warm-up, plus 32 clients revalidating with
the page's ETag (a returning visitor or the live page's own 5-minute
refresh). Clients ask for gzip like every browser. The load generator runs
on the same 2 cores as the server, so the numbers include its cost.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.load import run_load  # noqa: E402
from bench.services import (  # noqa: E402
    drop_postgres,
    free_port,
    fresh_postgres,
    group_cpu_seconds,
    load_average,
    machine_line,
    record_section,
    wait_for_http,
)

GOAL_RATE = 300
GOAL_P99_MS = 100
BROWSER_HEADERS = {"Accept": "text/html", "Accept-Encoding": "gzip, deflate"}


def bench_env(workdir: Path, database_url: str, cache_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CACHE_URL", "CELERY_BROKER_URL", "DEBUG"}}
    env |= {
        "DATABASE_URL": database_url,
        "LIQSITE_VAR_DIR": str(workdir),
        "CELERY_TASK_ALWAYS_EAGER": "true",  # setup_sample's follow-up tasks run inline, no queue files
        "DJANGO_SETTINGS_MODULE": "liqsite.settings",
        "LOG_LEVEL": "WARNING",
    }
    if cache_url:
        env["CACHE_URL"] = cache_url
    return env


def prepare(env: dict[str, str]) -> str:
    """Migrate, load the sample exchange and make the share link; the link's path."""
    os.environ.update(env)
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.cache import cache
    from django.core.management import call_command

    from heatmaps.share_links import create_share_link
    from heatmaps.viewing.query import parse_view_query
    from heatmaps.viewing.snapshots import market_target
    from markets.models import Market

    started = time.perf_counter()
    quiet = open(os.devnull, "w")
    call_command("migrate", verbosity=0)
    call_command("setup_sample", stdout=quiet)
    cache.clear()  # a throw-away cache: nothing from an earlier run may answer for this one
    owner = get_user_model().objects.create_user("bench", "bench@example.com", "bench-password-not-used")
    market = Market.objects.get(symbol="SOL-USDT-SWAP")
    from django.http import QueryDict

    link = create_share_link(
        owner=owner, target=market_target(market.pk), query=parse_view_query(QueryDict(), coin_page=False), frozen=False
    )
    print(
        f"set up the sample exchange and a live share link in {time.perf_counter() - started:.0f} s: {link.title}",
        file=sys.stderr,
    )
    return link.get_absolute_url()


def gunicorn_command(server: str, port: int) -> list[str]:
    kind, _, shape = server.partition(":")
    workers, _, threads = shape.partition("x")
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "liqsite.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        workers or "2",
        "--log-level",
        "warning",
    ]
    if kind == "gthread":
        command += ["--worker-class", "gthread", "--threads", threads or "4"]
    elif kind != "sync" or threads:
        raise SystemExit(f"--server is sync:W or gthread:WxT, not {server!r}")
    return command


def etag_of(url: str) -> str:
    request = urllib.request.Request(url, headers=BROWSER_HEADERS)
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()
        return response.headers.get("ETag", "")


def measure(server: str, env: dict[str, str], path: str, seconds: float) -> list[tuple[str, dict]]:
    port = free_port()
    url = f"http://127.0.0.1:{port}{path}"
    process = subprocess.Popen(gunicorn_command(server, port), cwd=ROOT, env=env, start_new_session=True)
    rows = []
    try:
        wait_for_http(url)
        asyncio.run(run_load(url, clients=8, seconds=2, headers=BROWSER_HEADERS))  # warm every worker's connections and caches
        for clients in (1, 32):
            rows.append(
                (f"{clients} client{'s' if clients > 1 else ''}", _measured(process, url, clients, seconds, BROWSER_HEADERS, 200))
            )
        etag = etag_of(url)
        if etag:
            headers = BROWSER_HEADERS | {"If-None-Match": etag}
            rows.append(("32 clients, If-None-Match (304)", _measured(process, url, 32, seconds, headers, 304)))
        else:
            rows.append(("32 clients, If-None-Match (304)", {"note": "no ETag on the page"}))
    finally:
        process.terminate()
        process.wait(timeout=30)
    return rows


def _measured(process, url: str, clients: int, seconds: float, headers: dict, expect: int) -> dict:
    """One load run, with the CPU time the server and the load generator spent per request.

    The machine may be shared: CPU per request says what a request costs whatever else runs.
    """
    server, client = group_cpu_seconds([process]), time.process_time()
    summary = asyncio.run(run_load(url, clients=clients, seconds=seconds, headers=headers, expect=expect)).summary()
    done = max(summary["requests"], 1)
    summary["server_cpu_ms"] = (group_cpu_seconds([process]) - server) / done * 1000
    summary["client_cpu_ms"] = (time.process_time() - client) / done * 1000
    return summary


def table(results: dict[str, list[tuple[str, dict]]]) -> str:
    lines = [
        "| server | load | req/s | p50 (ms) | p99 (ms) | server CPU per request (ms) "
        "| load generator CPU per request (ms) | bytes/response | other statuses, errors |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for server, rows in results.items():
        for load, row in rows:
            if "note" in row:
                lines.append(f"| {server} | {load} | — | — | — | — | — | — | {row['note']} |")
                continue
            other = {k: v for k, v in row["statuses"].items() if k not in (200, 304)}
            extra = (
                ", ".join([*(f"{v}× {k}" for k, v in other.items()), *(f"{v}× {k}" for k, v in row["errors"].items())]) or "none"
            )
            lines.append(
                f"| {server} | {load} | {row['req_per_s']:.0f} | {row['p50_ms']:.1f} | {row['p99_ms']:.1f} "
                f"| {row['server_cpu_ms']:.2f} | "
                f"{row['client_cpu_ms']:.2f} | {row['bytes_per_response']:,} | {extra} |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--server", action="append", help="sync:W or gthread:WxT (repeatable); default gthread:2x8 and sync:2")
    parser.add_argument("--postgres", action="store_true", help="use a fresh PostgreSQL database instead of SQLite")
    parser.add_argument("--cache-url", help="a Redis URL whose db the bench may clear (default: per-process memory cache)")
    parser.add_argument("--record", action="store_true", help="write the table to bench/RESULTS.md")
    args = parser.parse_args()
    servers = args.server or ["gthread:2x8", "sync:2"]

    with tempfile.TemporaryDirectory(prefix="liqsite-share-bench-") as tmp:
        workdir = Path(tmp)
        database_url = fresh_postgres("share") if args.postgres else f"sqlite:///{workdir / 'bench.sqlite3'}"
        try:
            env = bench_env(workdir, database_url, args.cache_url)
            path = prepare(env)
            results = {}
            for server in servers:
                results[server] = measure(server, env, path, args.seconds)
                print(table({server: results[server]}), file=sys.stderr)
        finally:
            if args.postgres:
                drop_postgres(database_url)

    from importlib.metadata import version

    gunicorn_version = version("gunicorn")
    stores = f"{'PostgreSQL' if args.postgres else 'SQLite'}, {'Redis cache' if args.cache_url else 'per-process memory cache'}"
    text = "\n".join(
        [
            "## Public share page under load (`bench/share_bench.py`)",
            "",
            f"Recorded {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}. Machine: {machine_line()}. "
            f"{stores}; gunicorn {gunicorn_version}; the load generator (bench/load.py, asyncio, one connection per request, "
            f"`Accept-Encoding: gzip`) on the same cores; {args.seconds:.0f} s per line. "
            f"Load average when the run ended: {load_average()}.",
            "",
            f"Goal: >= {GOAL_RATE} req/s with p99 <= {GOAL_P99_MS} ms at 32 concurrent clients. Page: a live share link of "
            "SOL-USDT-SWAP (real data), default view (7 days of 15m).",
            "",
            table(results),
        ]
    )
    print(text)
    if args.record:
        record_section(ROOT / "bench" / "RESULTS.md", "share-bench", text)


if __name__ == "__main__":
    main()
