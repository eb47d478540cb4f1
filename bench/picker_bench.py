"""Benchmark of the market picker (the home page) as the number of markets grows. Results: bench/PAGES.md.

    .venv/bin/python bench/picker_bench.py [--repeat 20]

Builds a throw-away SQLite database with N markets (N = 2, 20, 120), each with
two days of 15m candles and three stored grids (one per long-share method, each
with a realistic analysis of 25 bands), then times ``GET /`` through Django's
test client and counts its queries. The page reads stored rows only, so its
query count must not grow with N and its time should grow only with the rows
it prints.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def setup_django(workdir: Path) -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
    os.environ["LIQSITE_VAR_DIR"] = str(workdir)
    os.environ.pop("CACHE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "liqsite.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def add_markets(start: int, count: int) -> None:
    from markets.models import Candle, Exchange, Market
    from tests.alerts.factories import band, store_grid

    exchange, _ = Exchange.objects.get_or_create(plugin="sample")
    now = datetime(2026, 6, 26, tzinfo=UTC)
    for number in range(start, start + count):
        market = Market.objects.create(exchange=exchange, symbol=f"C{number}USDT", base=f"C{number}", intervals=["15m"])
        close = 100.0 + number
        Candle.objects.bulk_create(
            Candle(
                market=market,
                interval="15m",
                time=now - timedelta(minutes=15 * i),
                open=close,
                high=close,
                low=close,
                close=close,
                volume=1,
            )
            for i in range(192)
        )
        bands = [
            band(
                side="above" if i % 2 else "below",
                low=close * (1 + (i - 12) / 100),
                high=close * (1 + (i - 11.5) / 100),
                usd=1e6 * (i + 1),
                close=close,
                since=now - timedelta(hours=3),
            )
            for i in range(25)
            if i != 12
        ]
        for method in ("fixed", "long_short", "taker"):
            store_grid(market=market, close=close, as_of=now, bands=bands, method=method)


def measure(client, repeat: int) -> tuple[float, float, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        response = client.get("/")
        times.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200
    with CaptureQueriesContext(connection) as queries:
        client.get("/")
    return statistics.median(times), min(times), len(queries)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        setup_django(Path(workdir))
        from django.test import Client

        client = Client()
        print("| markets | median ms | best ms | queries |")
        print("|---|---|---|---|")
        have = 0
        for total in (2, 20, 120):
            add_markets(have, total - have)
            have = total
            median, best, queries = measure(client, args.repeat)
            print(f"| {total} | {median:.1f} | {best:.1f} | {queries} |")


if __name__ == "__main__":
    main()
