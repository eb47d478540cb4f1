"""Plugin output → rows: validated, atomic, idempotent.

A batch is checked whole before anything is written; a bad batch raises
``IngestError`` and leaves the stored data exactly as it was. A good batch is
written in one transaction, inserting new steps and updating only steps whose
values changed, so ingesting the same batch twice changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection, models, transaction

from markets.models import Market
from markets.series_kinds import SERIES, SeriesKind, validate_rows


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
    # Single liquidations imported from a file: the span [start, end) the file is taken to cover.
    covered: tuple[datetime, datetime] | None = None

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
        .order_by("-time")
        .values_list("time", flat=True)
        .first()
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
        raise IngestError(
            f"{_series_name(kind, market, interval)}: batch of {len(rows)} rows rejected, nothing written: " + "; ".join(problems)
        )
    with transaction.atomic():
        return _upsert(kind, market, interval, rows)


def ingest_batches(market: Market, kind_name: str, interval: str | None, batches: Iterable) -> IngestResult:
    """Validate and upsert a long series batch by batch, in one transaction; all or nothing.

    ``batches`` yields ``(rows, describe)`` pairs and is consumed lazily, so
    memory holds one batch however long the series. Each batch is checked
    before it is written and times must keep increasing across batches; the
    first problem (or any exception raised while producing a batch, such as a
    malformed line further down a file) rolls back every batch already
    written, so the stored data is left exactly as it was.
    """
    kind = SERIES[kind_name]
    interval = interval if kind.per_interval else None
    return checked_batches(
        kind, interval, batches, _series_name(kind, market, interval), lambda rows: _upsert(kind, market, interval, rows)
    )


def checked_batches(kind: SeriesKind, interval: str | None, batches: Iterable, name: str, write) -> IngestResult:
    """Check each batch, then ``write(rows)`` it (an IngestResult), all in one transaction; the first problem undoes all.

    The caller may extend the transaction (``transaction.atomic`` around this
    call) to write more that must stand or fall with the rows.
    """
    result = IngestResult()
    with transaction.atomic():
        for rows, describe in batches:
            rows = list(rows)
            if not rows:
                continue
            problems = validate_rows(kind, interval, rows, describe=describe, after=result.last)
            if problems:
                raise IngestError(f"{name}: " + "; ".join(problems) + "; nothing written")
            result.add(write(rows))
    return result


def _series_name(kind: SeriesKind, market: Market, interval: str | None) -> str:
    return f"{market.symbol} {kind.label.lower()}" + (f" {interval}" if interval else "")


def _upsert(kind: SeriesKind, market: Market, interval: str | None, rows: list) -> IngestResult:
    """Insert new steps and update changed ones; the caller holds the transaction."""
    scope = _series_filter(kind, market, interval)
    result = IngestResult(first=rows[0].time, last=rows[-1].time)
    stored = {
        values[0]: values[1:]
        for values in kind.model.objects.filter(**scope, time__gte=rows[0].time, time__lte=rows[-1].time).values_list(
            "time", *kind.fields
        )
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
        to_write.append((row.time, values))
    if to_write:
        _write(kind, scope, to_write)
    return result


def _write(kind: SeriesKind, scope: dict, steps: list[tuple[datetime, tuple]]) -> None:
    """Insert or update steps with one prepared statement run over every row.

    ``bulk_create(update_conflicts=True)`` builds a model instance per row and
    renders each value through the ORM's compiler, which costs more than
    reading, checking and writing the row together; this is the same upsert
    (``INSERT … ON CONFLICT … DO UPDATE``, in both PostgreSQL and SQLite)
    with values adapted once by the backend.
    """
    meta = kind.model._meta
    quote = connection.ops.quote_name
    scope_columns = [meta.get_field(name).column for name in scope]
    value_columns = [meta.get_field(name).column for name in kind.fields]
    key = [*scope_columns, meta.get_field("time").column]
    columns = [*key, *value_columns]
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(map(quote, columns))}) "
        f"VALUES ({', '.join(['%s'] * len(columns))}) "
        f"ON CONFLICT ({', '.join(map(quote, key))}) DO UPDATE SET "
        + ", ".join(f"{quote(column)} = EXCLUDED.{quote(column)}" for column in value_columns)
    )
    scope_values = tuple(value.pk if isinstance(value, models.Model) else value for value in scope.values())
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        cursor.executemany(sql, [(*scope_values, adapt(time), *values) for time, values in steps])
