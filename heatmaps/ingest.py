"""Plugin output → rows: validated, atomic, idempotent.

A batch is checked whole before anything is written; a bad batch raises
``IngestError`` and leaves the stored data exactly as it was. A good batch is
written in one transaction, inserting new steps and updating only steps whose
values changed, so ingesting the same batch twice changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction

from heatmaps.models import Market
from heatmaps.series import SERIES, SeriesKind, validate_rows


class IngestError(ValueError):
    """A batch was rejected; the message names the market, series and rows at fault."""


@dataclass
class IngestResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    first: datetime | None = None
    last: datetime | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return self.created + self.updated + self.unchanged

    def add(self, other: IngestResult) -> None:
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.first = min(filter(None, (self.first, other.first)), default=None)
        self.last = max(filter(None, (self.last, other.last)), default=None)


def _series_filter(kind: SeriesKind, market: Market, interval: str | None) -> dict:
    return {"market": market, "interval": interval} if kind.per_interval else {"market": market}


def last_stored_time(kind_name: str, market: Market, interval: str | None) -> datetime | None:
    """Time of the newest stored row of a series (where a refresh resumes)."""
    kind = SERIES[kind_name]
    return (
        kind.model.objects.filter(**_series_filter(kind, market, interval))
        .order_by("-time").values_list("time", flat=True).first()
    )


def ingest_batch(market: Market, kind_name: str, interval: str | None, rows: Sequence, *, describe=None) -> IngestResult:
    """Validate and upsert one batch of one series; all or nothing."""
    kind = SERIES[kind_name]
    interval = interval if kind.per_interval else None
    rows = list(rows)
    if not rows:
        return IngestResult()
    problems = validate_rows(kind, interval, rows, describe=describe)
    if problems:
        where = f"{market.symbol} {kind.label.lower()}" + (f" {interval}" if interval else "")
        raise IngestError(f"{where}: batch of {len(rows)} rows rejected, nothing written: " + "; ".join(problems))

    scope = _series_filter(kind, market, interval)
    result = IngestResult(first=rows[0].time, last=rows[-1].time)
    with transaction.atomic():
        stored = {
            values[0]: values[1:]
            for values in kind.model.objects.filter(**scope, time__gte=rows[0].time, time__lte=rows[-1].time)
            .values_list("time", *kind.fields)
        }
        to_write = []
        for row in rows:
            values = tuple(getattr(row, name) for name in kind.fields)
            previous = stored.get(row.time)
            if previous == values:
                result.unchanged += 1
                continue
            if previous is None:
                result.created += 1
            else:
                result.updated += 1
            to_write.append(kind.model(**scope, time=row.time, **dict(zip(kind.fields, values, strict=True))))
        if to_write:
            kind.model.objects.bulk_create(
                to_write,
                batch_size=1000,
                update_conflicts=True,
                unique_fields=[*scope, "time"],
                update_fields=list(kind.fields),
            )
    return result
