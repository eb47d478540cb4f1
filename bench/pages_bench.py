"""Benchmark of the heatmap pages: server time and page weight. Results: bench/PAGES.md.

    .venv/bin/python bench/pages_bench.py [--repeat 30] [--steps 2880]

Builds a throw-away SQLite database under a temporary directory with

- the bundled sample exchange's real data (``setup_sample``) and its grids as
  the compute task stores them (``compute``): BTCUSDT (2 days of 15m) and
  OKX SOL-USDT-SWAP (26 days of 15m, 14 days of 5m, 1h) plus the SOL aggregate;
- a synthetic market at the compute task's largest stored size, 4,032 steps
  of 15m (42 days) × 400 bins, with per-bucket layers (which the compute task
  does not store yet) to price the leverage filter,

then requests each view through Django's test client:

- *cold*: the view cache is cleared before every request, so each one loads
  the snapshot from the database, decompresses it, reduces the window and
  builds the chart JSON. This is what the budget (≤ 150 ms median) is about.
- *warm*: the reduced window and chart JSON come from the cache (a repeat
  visit within a minute, or a share link).

Weight is the whole HTML response (chart JSON included, static files not),
raw and gzip-compressed at level 6 like a typical server.
"""

from __future__ import annotations

import argparse
import gzip
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BUDGET_MS = 150
BUDGET_GZIP_KB = 400


def setup_django(workdir: Path) -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
    os.environ["LIQSITE_VAR_DIR"] = str(workdir)
    os.environ.pop("CACHE_URL", None)
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "true"  # no queue files: setup_sample's chained tasks run inline
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "liqsite.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def build_sample() -> dict[str, int]:
    from django.core.management import call_command

    from markets.models import Market

    t = time.perf_counter()
    quiet = open(os.devnull, "w")
    call_command("setup_sample", "--single-exchange", stdout=quiet)  # the pages measured are its markets
    call_command("compute", stdout=quiet)
    print(f"loaded and computed the sample exchange in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    return {m.symbol: m.pk for m in Market.objects.all()}


def build_synthetic(steps: int):
    from markets.models import Exchange, Market
    from tests.pages.factories import make_snapshot, synthetic_arrays

    exchange = Exchange.objects.create(plugin="synthetic")
    market = Market.objects.create(exchange=exchange, symbol="SYNTHUSDT", base="SYN", quote="USDT", intervals=["15m", "1h"])
    t = time.perf_counter()
    arrays = synthetic_arrays(steps=steps, bins=400, layer_market_ids=(market.pk,), by_bucket=True)
    make_snapshot(market=market, arrays=arrays)
    make_snapshot(market=market, interval="1h", arrays=synthetic_arrays(steps=steps // 4, step_ms=3_600_000, seed=3))
    print(f"built {steps} × 400 grid with 5 bucket layers in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    return market


def measure(client, url: str, repeat: int, *, cold: bool) -> tuple[float, bytes]:
    from django.core.cache import cache

    times = []
    body = b""
    client.get(url)  # imports, template compilation, first-touch costs
    for _ in range(repeat):
        if cold:
            cache.clear()
        start = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code)
        body = response.content
    return statistics.median(times), body


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument(
        "--steps", type=int, default=4032, help="synthetic stored 15m steps (4032 = 42 days, the compute task's maximum)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="liqsite-pages-bench-") as workdir:
        setup_django(Path(workdir))
        from django.test import Client
        from django.urls import reverse

        ids = build_sample()
        synthetic = build_synthetic(args.steps)
        client = Client()
        sol = reverse("heatmaps:market_heatmap", args=[ids["SOL-USDT-SWAP"]])
        btc = reverse("heatmaps:market_heatmap", args=[ids["BTCUSDT"]])
        syn = reverse("heatmaps:market_heatmap", args=[synthetic.pk])
        cases = [
            ("SOL-USDT-SWAP (real), default: 7d of 15m", sol),
            ("SOL-USDT-SWAP (real), 30d of 15m", sol + "?range=30d&interval=15m"),
            ("SOL-USDT-SWAP (real), 7d of 5m (2 steps per column)", sol + "?range=7d&interval=5m"),
            ("SOL-USDT-SWAP (real), 7d of 15m, taker ratio", sol + "?method=taker"),
            ("SOL-USDT-SWAP (real), htmx swap to 1d", sol + "?range=1d&interval=15m&method=fixed"),
            ("SOL aggregate (real), default", reverse("heatmaps:coin_heatmap", args=["SOL"])),
            ("BTCUSDT (real, 2 days stored), default", btc),
            ("synthetic 42d×400, default: 7d of 15m", syn),
            ("synthetic 42d×400, 1y (whole grid, 4 steps per column)", syn + "?range=1y&interval=15m"),
            ("synthetic 42d×400, buckets 25,50,100 (layers)", syn + "?buckets=25,50,100"),
        ]
        rows = []
        failures = []
        for label, url in cases:
            if "htmx" in label:
                client.defaults["HTTP_HX_REQUEST"] = "true"
            cold_ms, body = measure(client, url, args.repeat, cold=True)
            warm_ms, _ = measure(client, url, args.repeat, cold=False)
            client.defaults.clear()
            gz = len(gzip.compress(body, compresslevel=6))
            rows.append((label, cold_ms, warm_ms, len(body), gz))
            if "default: 7d of 15m" in label and (cold_ms > BUDGET_MS or gz > BUDGET_GZIP_KB * 1024):
                failures.append(label)
        load = os.getloadavg()
        print(
            f"{args.repeat} requests per view and state; load average while measuring: {load[0]:.2f} on {os.cpu_count()} CPUs\n"
        )
        print("| view | cold median (ms) | warm median (ms) | HTML (KB) | gzip (KB) |")
        print("|---|---:|---:|---:|---:|")
        for label, cold_ms, warm_ms, raw, gz in rows:
            print(f"| {label} | {cold_ms:.1f} | {warm_ms:.1f} | {raw / 1024:.0f} | {gz / 1024:.0f} |")
        for label, cold_ms, _, _, gz in rows:
            if "default: 7d of 15m" in label:
                print(
                    f"\n{label}: {cold_ms:.1f} ms cold median = {cold_ms / BUDGET_MS:.2f} × the {BUDGET_MS} ms budget; "
                    f"{gz / 1024:.0f} KB gzip = {gz / 1024 / BUDGET_GZIP_KB:.2f} × the {BUDGET_GZIP_KB} KB budget"
                )
        return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
