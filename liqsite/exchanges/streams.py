"""What a plugin offers the liquidation collector: a public websocket stream.

A plugin that can report real liquidations implements::

    def liquidation_streams(self, symbols: Sequence[str]) -> Sequence[LiquidationStream]

returning one ``LiquidationStream`` per websocket connection needed to cover
``symbols``. The plugin describes the stream and parses its messages with a
pure function; the collector (``markets/collector/``) owns the connection,
reconnects with backoff, stores events and records coverage. Plugins without
the method have no liquidation feed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from liqsite.exchanges.types import LiquidationEvent


@dataclass(frozen=True)
class LiquidationStream:
    """One websocket connection's worth of liquidation messages.

    ``parse`` turns one text message into events (an empty list for
    subscription acks, pongs and other housekeeping) and raises
    ``ExchangeError`` for a message it cannot read or an error the exchange
    sends; it does no I/O.
    """

    # Shown in coverage records, e.g. "!forceOrder@arr" or "allLiquidation.BTCUSDT".
    name: str
    url: str
    parse: Callable[[str | bytes], list[LiquidationEvent]]
    # Text messages to send right after connecting (subscriptions).
    subscribe: Sequence[str] = field(default_factory=tuple)
    # Application-level keep-alive some exchanges require (OKX "ping", Bybit
    # '{"op":"ping"}'); ``None`` when protocol-level pings suffice.
    ping_message: str | None = None
    ping_interval: float = 20.0
