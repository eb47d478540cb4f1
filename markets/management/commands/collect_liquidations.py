"""Run the liquidation collector in the foreground (a supervised process beside the worker)."""

import asyncio
import signal

from django.core.management.base import BaseCommand

from markets.collector.runner import collect


class Command(BaseCommand):
    help = (
        "Subscribe to the public liquidation streams of every active market on enabled exchanges and store each "
        "liquidation, reconnecting with backoff and recording coverage. Runs until SIGINT/SIGTERM."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "exchanges", nargs="*", help="Only these exchange plugin keys (e.g. binance bybit). Default: all enabled."
        )

    def handle(self, *args, exchanges, **options):
        asyncio.run(self._run(exchanges))

    async def _run(self, exchanges):
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        count = await collect(exchanges, stop=stop)
        self.stdout.write(f"Collector stopped ({count} streams).")
