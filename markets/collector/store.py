"""Database side of the collector: which streams to open, storing events, recording coverage."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone

from liqsite.exchanges import ExchangeError, LiquidationEvent, LiquidationStream
from markets.models import Exchange, Liquidation, LiquidationCoverage, Market

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PlannedStream:
    """A stream to keep open for one exchange, and the markets its events belong to."""

    exchange_id: int
    exchange_label: str
    stream: LiquidationStream
    market_ids: dict[str, int]  # symbol -> market id


def _signature(exchange: Exchange, markets: dict[str, int]) -> str:
    """What an exchange's streams depend on: its plugin, settings and active markets."""
    return json.dumps([exchange.plugin, exchange.settings, sorted(markets.items())], sort_keys=True, default=str)


def planned_streams(exchange_keys: Sequence[str] = (), *, described: dict | None = None) -> list[PlannedStream]:
    """Every liquidation stream needed for the active markets of enabled exchanges.

    Exchanges whose plugin has no ``liquidation_streams`` are skipped; one that
    fails to describe its streams (e.g. the exchange is unreachable while
    looking up instruments) is logged and skipped until the next plan.

    ``described`` is the caller's memory between plans (exchange id →
    (signature, streams)): an exchange whose plugin, settings and markets did
    not change keeps the streams it was given last time, so replanning asks
    the exchange nothing (describing OKX's streams reads its instruments over
    HTTP) and returns the very same objects. It is updated in place.
    """
    described = {} if described is None else described
    planned, seen = [], set()
    exchanges = Exchange.objects.filter(enabled=True)
    if exchange_keys:
        exchanges = exchanges.filter(plugin__in=exchange_keys)
    for exchange in exchanges:
        markets = dict(Market.objects.filter(exchange=exchange, active=True).values_list("symbol", "pk"))
        if not markets:
            continue
        seen.add(exchange.pk)
        signature = _signature(exchange, markets)
        remembered = described.get(exchange.pk)
        if remembered is not None and remembered[0] == signature:
            planned += remembered[1]
            continue
        described.pop(exchange.pk, None)
        try:
            with exchange.client() as plugin:
                describe = getattr(plugin, "liquidation_streams", None)
                streams = describe(sorted(markets)) if describe is not None else ()
        except (ExchangeError, LookupError) as error:
            log.warning("no liquidation streams for %s: %s", exchange.plugin, error)
            continue
        mine = [PlannedStream(exchange.pk, exchange.label, stream, markets) for stream in streams]
        described[exchange.pk] = (signature, mine)
        planned += mine
    for gone in set(described) - seen:
        del described[gone]
    return planned


def store_events(market_ids: dict[str, int], events: Iterable[LiquidationEvent]) -> int:
    """Insert events of known markets; returns how many were new.

    An event already stored (a resend, OKX replaying recent liquidations after
    a subscription, an overlap between connections) is neither stored nor
    counted again: the same (market, time, side, price, quantity) is one
    liquidation. The unique constraint still decides when two collectors race.
    """
    wanted: dict[tuple, LiquidationEvent] = {}
    for event in events:
        if event.symbol in market_ids:
            wanted.setdefault((market_ids[event.symbol], event.time, event.side, event.price, event.quantity), event)
    if not wanted:
        return 0
    stored = set(
        Liquidation.objects.filter(
            market_id__in={key[0] for key in wanted},
            time__in={key[1] for key in wanted},
        ).values_list("market_id", "time", "side", "price", "quantity")
    )
    rows = [
        Liquidation(market_id=key[0], time=event.time, side=event.side, price=event.price, quantity=event.quantity, usd=event.usd)
        for key, event in wanted.items()
        if key not in stored
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
