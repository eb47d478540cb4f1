"""Imported single liquidations → the collector's ``Liquidation`` table, and the span the file covers.

An export of single liquidations (another collector's, a data vendor's) says
both *what* was liquidated and, by its extent, *when* we know it: between its
first and last record (or the span the operator states) every liquidation is
in the file, so a quiet step there is a measured zero. That span is stored as a
``LiquidationImport`` and read with the collector's own coverage
(``markets.liquidation_selectors.covered_mask``), so imported and collected
records feed the same observable.

Rows arrive in batches (bounded memory) and are written in one transaction:
a bad row anywhere leaves the database as it was. An event already stored
(the same market, time, side, price and quantity, whether collected or
imported before) is not stored again, so importing a file twice changes
nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import transaction

from markets.ingest import IngestError, IngestResult, checked_batches
from markets.models import Liquidation, LiquidationImport, Market
from markets.series_kinds import LIQUIDATION_RECORDS

# A span of [first, last] records is stored half-open, [first, last + this).
LAST_RECORD = timedelta(milliseconds=1)


def ingest_liquidation_records(
    market: Market,
    batches: Iterable,
    *,
    covers: tuple[datetime | None, datetime | None] = (None, None),
    source: str = "",
) -> IngestResult:
    """Store the records of ``batches`` (``(rows, describe)`` pairs) and the span they cover; all or nothing.

    ``covers`` (start, end) states a wider span than the records' own first and
    last times (e.g. a whole day that had a quiet last hour); it must contain
    every record.
    """
    with transaction.atomic():
        name = f"{market.symbol} liquidations"
        result = checked_batches(LIQUIDATION_RECORDS, None, batches, name, lambda rows: _store(market, rows))
        if result.first is None:
            return result
        start, end = _span(result, covers)
        LiquidationImport.objects.update_or_create(
            market=market, start=start, end=end, defaults={"records": result.rows, "source": source[:200]}
        )
        result.covered = (start, end)
    return result


def _span(result: IngestResult, covers: tuple[datetime | None, datetime | None]) -> tuple[datetime, datetime]:
    start, end = covers
    start = result.first if start is None else start
    end = result.last + LAST_RECORD if end is None else end
    if start > result.first or end <= result.last:
        raise IngestError(
            f"the covered span {start.isoformat()} → {end.isoformat()} must contain every record "
            f"(they run from {result.first.isoformat()} to {result.last.isoformat()}); nothing written"
        )
    return start, end


def _store(market: Market, rows: list) -> IngestResult:
    """Insert the batch's new events; the caller holds the transaction."""
    result = IngestResult(first=rows[0].time, last=rows[-1].time)
    wanted = {}
    for row in rows:
        wanted.setdefault((row.time, row.side, row.price, row.quantity), row)
    stored = set(
        Liquidation.objects.filter(market=market, time__gte=rows[0].time, time__lte=rows[-1].time).values_list(
            "time", "side", "price", "quantity"
        )
    )
    new = [
        Liquidation(
            market=market,
            time=row.time,
            side=row.side,
            price=row.price,
            quantity=row.quantity,
            usd=row.price * row.quantity if row.usd is None else row.usd,
        )
        for key, row in wanted.items()
        if key not in stored
    ]
    if new:
        Liquidation.objects.bulk_create(new, ignore_conflicts=True)
    result.created = len(new)
    result.unchanged = len(rows) - len(new)
    return result
