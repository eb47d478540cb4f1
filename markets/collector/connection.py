"""One liquidation stream kept open: connect, subscribe, read, store, reconnect with backoff.

Every connection is one ``LiquidationCoverage`` row (opened on connect,
touched as messages arrive, closed with the reason), so time without a
connection shows as a gap instead of as "no liquidations".
"""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass

import websockets
from asgiref.sync import sync_to_async
from django.db import DatabaseError
from django.db import connections as db_connections
from django.utils import timezone

from liqsite.exchanges import ExchangeError
from markets.collector import store
from markets.collector.store import PlannedStream

log = logging.getLogger(__name__)

# How often an open connection records that it is alive (seconds): coverage, not a message log.
TOUCH_EVERY = 30.0


@dataclass(frozen=True)
class Backoff:
    """Reconnect delays: ``initial`` doubling up to ``maximum``, with jitter; reset after a healthy connection."""

    initial: float = 1.0
    maximum: float = 300.0
    healthy_after: float = 60.0  # a connection that lasted this long resets the delay

    def delay(self, failures: int) -> float:
        return min(self.maximum, self.initial * 2 ** max(0, failures - 1)) * random.uniform(0.8, 1.2)


async def _keep_alive(socket, message: str, interval: float) -> None:
    while True:
        await asyncio.sleep(interval)
        await socket.send(message)


async def _heartbeat(coverage_id: int) -> None:
    """Mark the connection alive every TOUCH_EVERY seconds while it is open.

    A quiet stream (Binance sends nothing between liquidations; its pings are
    answered inside the websockets library) is still listening: coverage must
    not turn into a gap just because nobody was liquidated for a while.
    """
    while True:
        await asyncio.sleep(TOUCH_EVERY)
        await sync_to_async(store.touch_coverage)(coverage_id, timezone.now())


async def run_connection(planned: PlannedStream) -> tuple[str, int]:
    """One connection's life; returns (why it ended, events stored). Raises nothing but cancellation.

    Every attempt is a coverage row, so a refused or failing connection shows
    its reason; one that never opened covers at most the 20 s it took to fail.
    """
    stream = planned.stream
    coverage_id, stored, last_message_at = None, 0, None
    reason = "closed"
    helpers = []
    opened = False
    try:
        coverage_id = await sync_to_async(store.open_coverage)(planned.exchange_id, stream.name)
        async with websockets.connect(stream.url, open_timeout=20, ping_interval=20, ping_timeout=20, max_size=2**22) as socket:
            opened = True
            for message in stream.subscribe:
                await socket.send(message)
            helpers.append(asyncio.create_task(_heartbeat(coverage_id)))
            if stream.ping_message:
                helpers.append(asyncio.create_task(_keep_alive(socket, stream.ping_message, stream.ping_interval)))
            async for message in socket:
                last_message_at = timezone.now()
                events = stream.parse(message)
                if events:
                    stored += await sync_to_async(store.store_events)(planned.market_ids, events)
            reason = (
                f"closed by the exchange (code {socket.close_code}{': ' + socket.close_reason if socket.close_reason else ''})"
            )
    except asyncio.CancelledError:
        reason = "collector stopped"
        raise
    except ExchangeError as error:
        reason = f"refused message: {error}"
    except (TimeoutError, OSError, websockets.exceptions.WebSocketException) as error:
        reason = f"{'' if opened else 'could not connect: '}{type(error).__name__}: {error}"
    except DatabaseError as error:
        # A busy or restarting database ends this connection, not the stream: it reconnects with backoff.
        reason = f"database error: {error}"
    except Exception as error:  # a parser bug must not silently end a stream forever
        log.exception("%s %s: unexpected error", planned.exchange_label, stream.name)
        reason = f"unexpected {type(error).__name__}: {error}"
    finally:
        for helper in helpers:
            helper.cancel()
        if coverage_id is not None:
            try:
                await asyncio.shield(sync_to_async(store.close_coverage)(coverage_id, reason, last_message_at))
            except DatabaseError:
                # Left open, the row is closed at its last sign of life by the staleness rule or the next start.
                log.warning("%s %s: could not record the end of a connection", planned.exchange_label, stream.name)
    return reason, stored


async def keep_stream_open(planned: PlannedStream, *, backoff: Backoff = Backoff(), max_connections: int | None = None) -> None:
    """Reconnect forever (or ``max_connections`` times, for tests), backing off while the stream keeps failing."""
    failures, connections = 0, 0
    loop = asyncio.get_running_loop()
    while max_connections is None or connections < max_connections:
        connections += 1
        started = loop.time()
        try:
            reason, stored = await run_connection(planned)
        finally:
            # The database work ran in sync_to_async's thread: drop its connection between
            # websocket connections, so a restarted database or a long pause costs nothing.
            await sync_to_async(db_connections.close_all)()
        lasted = loop.time() - started
        failures = 0 if lasted >= backoff.healthy_after else failures + 1
        # A connection that never opened did not "end": its reason says so on its own.
        ending = reason if reason.startswith("could not connect") else f"connection ended ({reason})"
        label = f"{planned.exchange_label} {planned.stream.name}"
        log.info("%s: %s after %.0f s; %d liquidations stored", label, ending, lasted, stored)
        if max_connections is not None and connections >= max_connections:
            break
        await asyncio.sleep(backoff.delay(max(failures, 1)))
