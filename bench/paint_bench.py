"""Benchmark of the heatmap page in Chromium: navigation → fully painted, control swap → repainted, bytes on the wire.

    .venv/bin/python bench/paint_bench.py [--repeat 7]

Results: bench/PAINT.md. Targets (issue 14): the default view of every
bundled market painted within 1.5 s of navigation, a control swap repainted
within 500 ms.

Builds a throw-away SQLite database with the bundled sample exchange's data
and grids (``setup_sample`` + ``compute``), serves it with Django's threaded
development server on a free port, and drives Debian's /usr/bin/chromium
(headless) through Playwright. The chart marks itself painted
(``data-painted``; ``window.__liqsitePaintMs`` = ms since navigation start)
once ECharts has finished its render pass, which now draws the whole map in
one frame. Each navigation runs in a fresh browser context (no cache: the
1.1 MB echarts.min.js is fetched and parsed every time, the worst case);
the swap is timed from the click to the new chart's mark. The server cache is
warm after the first visit, as it is for a page others are looking at.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAINT_BUDGET_MS = 1500
SWAP_BUDGET_MS = 500
CHROMIUM = "/usr/bin/chromium"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="liqsite-paint-bench-") as workdir:
        env = os.environ | {
            "DATABASE_URL": f"sqlite:///{workdir}/bench.sqlite3",
            "LIQSITE_VAR_DIR": workdir,
            "CELERY_TASK_ALWAYS_EAGER": "true",
            "DJANGO_SETTINGS_MODULE": "liqsite.settings",
        }
        env.pop("CACHE_URL", None)
        manage = [sys.executable, str(ROOT / "manage.py")]
        # Both bundled samples: the single-exchange one (its SOL default view, 7d of 15m, is the heaviest
        # page), then the default three-exchange one, whose exchanges the coin pages sum.
        commands = (["migrate", "-v0"], ["setup_sample", "--single-exchange"], ["setup_sample"], ["compute"])
        for command in commands:
            subprocess.run(manage + command, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        ids = subprocess.run(
            manage
            + [
                "shell",
                "-c",
                "from markets.models import Market; print(' '.join(f'{m.pk}:{m.symbol}@{m.exchange.label}'.replace(' ', '_')"
                " for m in Market.objects.select_related('exchange').order_by('pk')))",
            ],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()
        port = free_port()
        server = subprocess.Popen(
            manage + ["runserver", f"127.0.0.1:{port}", "--noreload"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(100):
                try:
                    urllib.request.urlopen(base + "/", timeout=1)
                    break
                except OSError:
                    time.sleep(0.2)
            pages = [
                (name.replace("_", " ").replace("@", " · "), f"{base}/markets/{pk}/heatmap/")
                for pk, name in (item.split(":", 1) for item in ids if ":" in item and item.split(":")[0].isdigit())
            ]
            pages += [(f"{coin} (all exchanges)", f"{base}/coins/{coin}/heatmap/") for coin in ("BTC", "SOL")]
            return run(pages, args.repeat)
        finally:
            server.terminate()
            server.wait()


def run(pages, repeat: int) -> int:
    from playwright.sync_api import sync_playwright

    failures = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"])
        print(f"Chromium {browser.version}; {os.cpu_count()} CPUs; load {os.getloadavg()[0]:.2f}")
        print(
            "| view | paint median (ms) | paint max (ms) | swap to 1d median (ms) | swap max (ms) | HTML (KB) | chart JSON (KB) |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|")
        for label, url in pages:
            paints, swaps = [], []
            html_kb = json_kb = 0.0
            for _ in range(repeat):
                context = browser.new_context(viewport={"width": 1440, "height": 900})
                page = context.new_page()
                errors = []
                page.on("pageerror", lambda error, errors=errors: errors.append(str(error)))
                response = page.goto(url)
                page.wait_for_selector("[data-heatmap][data-painted]", timeout=20_000)
                paints.append(page.evaluate("() => window.__liqsitePaintMs"))
                html_kb = len(response.body()) / 1024
                json_kb = page.evaluate("() => document.querySelector('.hm-data').textContent.length") / 1024
                start = time.perf_counter()
                page.click('[data-control="range"] a:text-is("1d")')
                page.wait_for_function(
                    "() => { const el = document.querySelector('[data-heatmap]'); "
                    "return el && el.hasAttribute('data-painted') && el.dataset.columns !== undefined "
                    "&& location.search.includes('range=1d'); }",
                    timeout=20_000,
                    polling="raf",
                )
                swaps.append((time.perf_counter() - start) * 1000)
                if errors:
                    failures.append(f"{label}: page errors {errors}")
                context.close()
            print(
                f"| {label} | {statistics.median(paints):.0f} | {max(paints):.0f} | {statistics.median(swaps):.0f} | "
                f"{max(swaps):.0f} | {html_kb:.0f} | {json_kb:.0f} |"
            )
            if statistics.median(paints) > PAINT_BUDGET_MS:
                failures.append(f"{label}: painted in {statistics.median(paints):.0f} ms > {PAINT_BUDGET_MS} ms")
            if statistics.median(swaps) > SWAP_BUDGET_MS:
                failures.append(f"{label}: swap repainted in {statistics.median(swaps):.0f} ms > {SWAP_BUDGET_MS} ms")
        browser.close()
    for failure in failures:
        print("OVER BUDGET:", failure)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
