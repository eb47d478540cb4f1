"""Keep every planned stream open until stopped."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from asgiref.sync import sync_to_async

from heatmaps.collector import store
from heatmaps.collector.connection import Backoff, keep_stream_open

log = logging.getLogger(__name__)

REPLAN_SECONDS = 300


async def collect(exchange_keys: Sequence[str] = (), *, stop: asyncio.Event | None = None, backoff: Backoff = Backoff()) -> int:
    """Open the streams of the active markets and keep them open until ``stop`` is set.

    Returns the number of streams run. The set of markets is read once at
    start; restart the collector (e.g. via the supervisor) after adding markets.
    """
    await sync_to_async(store.close_dangling_coverage)()
    stop = stop or asyncio.Event()
    planned = await sync_to_async(store.planned_streams)(exchange_keys)
    while not planned:
        # Nothing to listen to yet: look again later instead of exiting (a supervisor would restart us in a loop).
        log.warning("no liquidation streams to collect: enable Binance, Bybit or OKX and add active markets")
        try:
            await asyncio.wait_for(stop.wait(), timeout=REPLAN_SECONDS)
            return 0
        except asyncio.TimeoutError:
            planned = await sync_to_async(store.planned_streams)(exchange_keys)
    for item in planned:
        log.info("collecting %s liquidations from %s (%d markets)", item.exchange_label, item.stream.name, len(item.market_ids))
    tasks = [asyncio.create_task(keep_stream_open(item, backoff=backoff)) for item in planned]
    await stop.wait()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return len(planned)
