"""Database side of the collector: which streams to open, storing events, recording coverage."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone

from heatmaps.models import Exchange, Liquidation, LiquidationCoverage, Market
from liqsite.exchanges import ExchangeError, LiquidationEvent, LiquidationStream

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PlannedStream:
    """A stream to keep open for one exchange, and the markets its events belong to."""

    exchange_id: int
    exchange_label: str
    stream: LiquidationStream
    market_ids: dict[str, int]  # symbol -> market id


def planned_streams(exchange_keys: Sequence[str] = ()) -> list[PlannedStream]:
    """Every liquidation stream needed for the active markets of enabled exchanges.

    Exchanges whose plugin has no ``liquidation_streams`` are skipped; one that
    fails to describe its streams (e.g. the exchange is unreachable while
    looking up instruments) is logged and skipped until the next restart.
    """
    planned = []
    exchanges = Exchange.objects.filter(enabled=True)
    if exchange_keys:
        exchanges = exchanges.filter(plugin__in=exchange_keys)
    for exchange in exchanges:
        markets = dict(Market.objects.filter(exchange=exchange, active=True).values_list("symbol", "pk"))
        if not markets:
            continue
        try:
            with exchange.client() as plugin:
                describe = getattr(plugin, "liquidation_streams", None)
                if describe is None:
                    continue
                streams = describe(sorted(markets))
        except (ExchangeError, LookupError) as error:
            log.warning("no liquidation streams for %s: %s", exchange.plugin, error)
            continue
        planned += [PlannedStream(exchange.pk, exchange.label, stream, markets) for stream in streams]
    return planned


def store_events(market_ids: dict[str, int], events: Iterable[LiquidationEvent]) -> int:
    """Insert events of known markets; an event already stored (a resend, an overlap) is skipped."""
    rows = [
        Liquidation(market_id=market_ids[event.symbol], time=event.time, side=event.side,
                    price=event.price, quantity=event.quantity, usd=event.usd)
        for event in events
        if event.symbol in market_ids
    ]
    if rows:
        Liquidation.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def open_coverage(exchange_id: int, stream_name: str) -> int:
    """Record that a connection is up; returns the coverage row's id."""
    return LiquidationCoverage.objects.create(exchange_id=exchange_id, stream=stream_name[:100], connected_at=timezone.now()).pk


def touch_coverage(coverage_id: int, when: datetime) -> None:
    LiquidationCoverage.objects.filter(pk=coverage_id).update(last_message_at=when)


def close_coverage(coverage_id: int, reason: str, last_message_at: datetime | None = None) -> None:
    """Record that a connection ended and why; the time until the next one is a gap."""
    update = {"disconnected_at": timezone.now(), "reason": reason[:2000]}
    if last_message_at is not None:
        update["last_message_at"] = last_message_at
    LiquidationCoverage.objects.filter(pk=coverage_id).update(**update)


def close_dangling_coverage() -> int:
    """Close rows a killed collector left open (called at start-up), so they do not look connected."""
    # Closed at its last sign of life, not at this restart: the time the collector was down is a gap.
    return LiquidationCoverage.objects.filter(disconnected_at__isnull=True).update(
        disconnected_at=Coalesce(F("last_message_at"), F("connected_at")),
        reason="collector stopped without closing this connection",
    )
