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


def _plan_key(planned) -> tuple:
    return tuple(sorted((p.exchange_id, p.stream.name, tuple(sorted(p.market_ids.items()))) for p in planned))


async def _stop_all(tasks) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def collect(
    exchange_keys: Sequence[str] = (), *, stop: asyncio.Event | None = None, backoff: Backoff = Backoff(),
    replan_seconds: float = REPLAN_SECONDS,
) -> int:
    """Open the streams of the active markets and keep them open until ``stop`` is set.

    Every ``replan_seconds`` the active markets are read again; when they
    changed (a market added, stopped or removed), the streams are reopened for
    the new set, so adding a market in the admin needs no restart. Returns the
    number of streams run in the last plan.
    """
    await sync_to_async(store.close_dangling_coverage)()
    stop = stop or asyncio.Event()
    planned, tasks, key = [], [], None
    while True:
        fresh = await sync_to_async(store.planned_streams)(exchange_keys)
        if _plan_key(fresh) != key:
            await _stop_all(tasks)
            planned, key = fresh, _plan_key(fresh)
            if not planned:
                log.warning("no liquidation streams to collect: enable Binance, Bybit or OKX and add active markets")
            for item in planned:
                log.info("collecting %s liquidations from %s (%d markets)", item.exchange_label, item.stream.name, len(item.market_ids))
            tasks = [asyncio.create_task(keep_stream_open(item, backoff=backoff)) for item in planned]
        else:
            # A stream that ended (it should not: it reconnects forever) is started again.
            for index, task in enumerate(tasks):
                if task.done():
                    error = None if task.cancelled() else task.exception()
                    log.error("%s stopped (%r); starting it again", planned[index].stream.name, error)
                    tasks[index] = asyncio.create_task(keep_stream_open(planned[index], backoff=backoff))
        try:
            await asyncio.wait_for(stop.wait(), timeout=replan_seconds)
            break
        except TimeoutError:
            continue
    await _stop_all(tasks)
    return len(planned)
