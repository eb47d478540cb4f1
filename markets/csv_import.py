"""Read a series from CSV in the standard columns, naming the line of any error.

Columns: ``time`` then the series' value columns (``markets.series_kinds.SERIES``);
optional ones may be left out or empty. ``time`` is an ISO-8601 timestamp
with a UTC offset (``2024-05-09T00:00:00Z``) or milliseconds since the epoch.
The file is UTF-8 (an Excel byte-order mark is allowed).

A file is imported whole or not at all, in bounded memory: it is read line
by line and written in batches of ``BATCH_ROWS`` inside one transaction
(``markets.ingest.ingest_batches``), so a bad line anywhere, even after
millions of good ones, rolls back everything and names that line.

Open interest also needs its stamp (``oi_stamp``, see
``liqsite.exchanges.oi_stamps``): ``"open"`` when ``time`` is the instant
the reading was taken, ``"close"`` when ``time`` is the open of the step at
whose close it was taken; such rows are stored one step later.

Liquidations come in one of two shapes, told apart by the header: per-step
totals (``time,long_usd,short_usd``, ``time`` the step's open) or single
liquidations (``time,side,price,quantity[,usd]``, sorted by time), which
join the collector's records and cover the span of the file
(``markets.liquidation_ingest``).
"""

from __future__ import annotations

import csv
import math
import re
import statistics
from collections import deque
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from itertools import chain, islice
from typing import BinaryIO

from liqsite.exchanges import interval_delta
from liqsite.exchanges.http import from_ms
from liqsite.exchanges.oi_stamps import at_reading_time, check_stamp
from markets.ingest import IngestResult, ingest_batches
from markets.liquidation_ingest import ingest_liquidation_records
from markets.models import Market
from markets.series_kinds import LIQUIDATION_RECORDS, SERIES, SeriesKind

BATCH_ROWS = 5000
# A row of this format is under 200 bytes; refusing longer lines keeps one
# hostile line (a whole file with no newline) from being read into memory.
MAX_LINE_BYTES = 64 * 1024

# Crypto prices start with Bitcoin's first block; a time outside this span is
# a unit mistake (seconds or microseconds instead of milliseconds), not data.
EARLIEST = datetime(2009, 1, 3, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
_EARLIEST_MS = int(EARLIEST.timestamp() * 1000)
_LATEST_MS = int(LATEST.timestamp() * 1000)

# ASCII digits only: str.isdigit() and float() also take other scripts'
# digits (Arabic-Indic, full-width…), which no exchange export writes.
_EPOCH_MS = re.compile(r"[0-9]+", re.ASCII)
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", re.ASCII)

# A candle's high more than this many times the median close of the rows
# around it (the last SPIKE_WINDOW, itself included) is not a market move but
# a typing or unit error. One step never rises 1,000-fold on a perpetual (the
# exchanges' price bands stop orders a few per cent away), while a median of
# 50 closes ignores the bad row itself. Only rises are checked: real
# collapses do fall 1,000-fold, and low > 0 is checked for every row.
SPIKE_FACTOR = 1000
SPIKE_WINDOW = 50


class CsvError(ValueError):
    """The file cannot be read as this series; the message names the line."""


def import_series_csv(
    market: Market,
    kind_name: str,
    interval: str | None,
    handle: BinaryIO,
    *,
    batch_rows: int = BATCH_ROWS,
    oi_stamp: str | None = None,
    covers: tuple[datetime | None, datetime | None] = (None, None),
    source: str = "",
) -> IngestResult:
    """Import a CSV file (opened in binary mode) into a market's series; all rows or none.

    ``oi_stamp`` ("open" or "close") is required for open interest and refused
    for the other series. For a file of single liquidations, ``covers`` (start,
    end) widens the span the file is taken to cover beyond its first and last
    record, and ``source`` names the file in that record. Raises
    :class:`CsvError` for a line that cannot be read and
    ``markets.ingest.IngestError`` for rows that fail the series' checks;
    either way nothing is written.
    """
    kind = SERIES[kind_name]
    lines = decoded_lines(handle)
    if kind_name == "liquidations":
        header, lines = _peek_header(lines)
        if "side" in header:
            if oi_stamp is not None:
                raise CsvError("oi_stamp applies to open interest only, not liquidations")
            rows = read_series_csv(LIQUIDATION_RECORDS, lines)
            return ingest_liquidation_records(market, _batches(rows, batch_rows), covers=covers, source=source)
        if interval is None:
            raise CsvError("per-step liquidation totals need the interval of their steps (--interval)")
    if covers != (None, None):
        raise CsvError("a covered span applies to files of single liquidations only (time,side,price,quantity[,usd])")
    rows = read_series_csv(kind, lines)
    if kind_name == "open_interest":
        if oi_stamp is None:
            raise CsvError(
                "say when each open-interest reading was taken: oi_stamp 'open' (at its time) "
                "or 'close' (at the close of the step starting at its time)"
            )
        rows = _at_reading_time(rows, check_stamp(oi_stamp), interval_delta(interval))
    elif oi_stamp is not None:
        raise CsvError(f"oi_stamp applies to open interest only, not {kind_name}")
    return ingest_batches(market, kind_name, interval, _batches(rows, batch_rows))


def _peek_header(lines: Iterator[str]) -> tuple[list[str], Iterator[str]]:
    """The header's column names, and the lines with the header still in front."""
    first = next(lines, "")
    try:
        header = [name.strip() for name in next(csv.reader([first]), [])]
    except csv.Error as error:
        raise CsvError(f"line 1: {error}") from None
    return header, chain([first], lines)


def _at_reading_time(rows: Iterator[tuple[object, int]], stamp: str, step) -> Iterator[tuple[object, int]]:
    for row, line in rows:
        yield next(at_reading_time((row,), stamp, step)), line


def _batches(rows: Iterator[tuple[object, int]], size: int):
    while batch := list(islice(rows, size)):
        lines = [line for _, line in batch]
        yield [row for row, _ in batch], (lambda index, lines=lines: f"line {lines[index]}")


def decoded_lines(handle: BinaryIO) -> Iterator[str]:
    """The file's lines as text, one physical line at a time, each checked for length and UTF-8."""
    number = 0
    while raw := handle.readline(MAX_LINE_BYTES + 1):
        number += 1
        if len(raw) > MAX_LINE_BYTES:
            raise CsvError(f"line {number}: longer than {MAX_LINE_BYTES // 1024} KiB, far more than any row of this format")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise CsvError(
                f"line {number}: byte 0x{raw[error.start]:02x} at position {error.start + 1} is not UTF-8 "
                "(save the file as UTF-8)"
            ) from None
        yield text.removeprefix("\ufeff") if number == 1 else text


def read_series_csv(kind: SeriesKind, lines: Iterable[str]) -> Iterator[tuple[object, int]]:
    """Rows of ``kind.row_type``, each with its line number, read lazily."""
    reader = csv.reader(lines)
    try:
        header = [name.strip() for name in next(reader, [])]
        if not any(header):
            raise CsvError(
                f"line 1: the file is empty or its first line is blank; expected a header: time,{','.join(kind.fields)}"
            )
        columns = _columns(kind, header)
        spikes = _SpikeCheck() if kind.name == "candles" else None
        for record in reader:
            if not record:
                continue  # blank line
            row = _row(kind, header, columns, record, reader.line_num)
            if spikes is not None:
                spikes.check(row, reader.line_num)
            yield row, reader.line_num
    except csv.Error as error:
        raise CsvError(f"line {reader.line_num}: {error}") from None


def _columns(kind: SeriesKind, header: list[str]) -> dict[str, int]:
    expected = f"expected time,{','.join(kind.fields)}"
    if kind.name == "liquidations":
        expected += f" (or time,{','.join(LIQUIDATION_RECORDS.fields)} for single liquidations)"
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise CsvError(f"line 1: column(s) {', '.join(map(_name, repeated))} appear more than once; {expected}")
    required = ["time", *(name for name in kind.fields if name not in kind.optional)]
    missing = [name for name in required if name not in header]
    if missing:
        raise CsvError(f"line 1: missing column(s) {', '.join(missing)}; {expected}")
    unknown = [name for name in header if name != "time" and name not in kind.fields]
    if unknown:
        raise CsvError(f"line 1: unknown column(s) {', '.join(map(_name, unknown))}; {expected}")
    return {name: header.index(name) for name in ("time", *kind.fields) if name in header}


def _row(kind: SeriesKind, header: list[str], columns: dict[str, int], record: list[str], line: int):
    # A row with more or fewer fields than the header has its values shifted
    # or lost; reading it by position would store wrong numbers.
    if len(record) != len(header):
        raise CsvError(f"line {line}: {len(record)} fields but the header has {len(header)} ({','.join(header)})")
    values = {}
    for name in ("time", *kind.fields):
        text = record[columns[name]].strip() if name in columns else ""
        if not text:
            if name in kind.optional:
                values[name] = None
                continue
            raise CsvError(f"line {line}: {name} is empty")
        try:
            if name == "time":
                values[name] = _parse_time(text)
            elif name in kind.text_fields:
                values[name] = text.lower()
            else:
                values[name] = _parse_number(text)
        except ValueError as error:
            raise CsvError(f"line {line}: {name} {_show(text)} {error}") from None
    return kind.row_type(**values)


def _parse_time(text: str) -> datetime:
    if _EPOCH_MS.fullmatch(text):
        ms = int(text)
        if _EARLIEST_MS <= ms < _LATEST_MS:
            return from_ms(ms)
        if _EARLIEST_MS <= ms * 1000 < _LATEST_MS:
            raise ValueError("looks like seconds since the epoch; write milliseconds")
        if _EARLIEST_MS <= ms // 1000 < _LATEST_MS:
            raise ValueError("looks like microseconds since the epoch; write milliseconds")
        raise ValueError(f"as epoch milliseconds is outside {EARLIEST:%Y-%m-%d} to {LATEST:%Y-%m-%d}")
    try:
        if not text.isascii():
            raise ValueError
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError("is neither ISO-8601 nor epoch milliseconds") from None
    if value.utcoffset() is None:
        raise ValueError("has no UTC offset (write 2024-05-09T00:00:00Z)")
    try:
        value = value.astimezone(UTC)
    except OverflowError:  # year 1 or 9999 shifted past the calendar's ends by its offset
        value = None
    if value is None or not EARLIEST <= value < LATEST:
        raise ValueError(f"is outside {EARLIEST:%Y-%m-%d} to {LATEST:%Y-%m-%d}")
    return value


def _parse_number(text: str) -> float:
    if not _NUMBER.fullmatch(text):
        raise ValueError("is not a number (write digits with a dot, e.g. 101.5 or 4.4e9)")
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("is not a finite number")
    return value


class _SpikeCheck:
    """Refuses a candle whose high towers over the median close of the rows around it."""

    def __init__(self):
        self.closes: deque[float] = deque(maxlen=SPIKE_WINDOW)

    def check(self, row, line: int) -> None:
        self.closes.append(row.close)
        # The median is at least the smallest close: most rows pass on that alone,
        # so the sort behind the median is paid only for a suspect row.
        if row.high <= SPIKE_FACTOR * min(self.closes):
            return
        reference = statistics.median(self.closes)
        if row.high > SPIKE_FACTOR * reference:
            around = "its own close" if len(self.closes) == 1 else f"the median close of its last {len(self.closes)} rows"
            raise CsvError(
                f"line {line}: high {row.high:g} is over {SPIKE_FACTOR:,} times {around} ({reference:g}); a typing or unit error?"
            )


def _show(text: str, limit: int = 40) -> str:
    """A value for a one-line message: quoted, escaped, and cut if long."""
    return repr(text if len(text) <= limit else text[:limit] + "…")


def _name(text: str) -> str:
    """A column name for a message: as written when plain, else quoted and escaped."""
    return text if text.isprintable() and len(text) <= 40 else _show(text)
