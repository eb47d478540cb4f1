"""Keep every planned stream open until stopped."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from asgiref.sync import sync_to_async

from markets.collector import store
from markets.collector.connection import Backoff, keep_stream_open

log = logging.getLogger(__name__)

REPLAN_SECONDS = 300


def _stream_key(planned) -> tuple:
    """What identifies one running stream: a change in any part of it reopens that stream only."""
    return (planned.exchange_id, planned.stream.name, planned.stream.url, tuple(sorted(planned.market_ids.items())))


async def _stop_all(tasks) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def collect(
    exchange_keys: Sequence[str] = (),
    *,
    stop: asyncio.Event | None = None,
    backoff: Backoff = Backoff(),
    replan_seconds: float = REPLAN_SECONDS,
) -> int:
    """Open the streams of the active markets and keep them open until ``stop`` is set.

    Every ``replan_seconds`` the active markets are read again. Only the
    streams that changed are reopened (a market added to one exchange leaves
    every other exchange's connections alone), so adding a market in the admin
    needs no restart and costs the other streams nothing. An exchange whose
    markets did not change is not asked to describe its streams again.
    Returns the number of streams run in the last plan.
    """
    await sync_to_async(store.close_dangling_coverage)()
    stop = stop or asyncio.Event()
    running: dict[tuple, tuple] = {}  # stream key -> (planned, task)
    described: dict = {}
    first = True
    while True:
        fresh = {
            _stream_key(item): item for item in await sync_to_async(store.planned_streams)(exchange_keys, described=described)
        }
        ended = [running.pop(key)[1] for key in list(running) if key not in fresh]
        await _stop_all(ended)
        if not fresh and (first or ended):
            log.warning("no liquidation streams to collect: enable Binance, Bybit or OKX and add active markets")
        first = False
        for key, item in fresh.items():
            if key in running:
                planned, task = running[key]
                if not task.done():
                    continue
                # A stream that ended (it should not: it reconnects forever) is started again.
                error = None if task.cancelled() else task.exception()
                log.error("%s stopped (%r); starting it again", planned.stream.name, error)
            else:
                log.info(
                    "collecting %s liquidations from %s (%d markets)", item.exchange_label, item.stream.name, len(item.market_ids)
                )
            running[key] = (item, asyncio.create_task(keep_stream_open(item, backoff=backoff)))
        try:
            await asyncio.wait_for(stop.wait(), timeout=replan_seconds)
            break
        except TimeoutError:
            continue
    await _stop_all([task for _, task in running.values()])
    return len(running)
