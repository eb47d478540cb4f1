"""Read a series from CSV in the standard columns, naming the line of any error.

Columns: ``time`` then the series' value columns (``heatmaps.series.SERIES``);
optional ones may be left out or empty. ``time`` is an ISO-8601 timestamp
with a UTC offset (``2024-05-09T00:00:00Z``) or milliseconds since the epoch.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable
from datetime import UTC, datetime

from heatmaps.series import SeriesKind
from liqsite.exchanges.http import from_ms


class CsvError(ValueError):
    """The file cannot be read as this series; the message names the line."""


def _parse_time(text: str) -> datetime:
    if text.isdigit():
        return from_ms(int(text))
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError("is neither ISO-8601 nor epoch milliseconds") from None
    if value.utcoffset() is None:
        raise ValueError("has no UTC offset (write 2024-05-09T00:00:00Z)")
    return value.astimezone(UTC)


def _parse_number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError("is not a number") from None
    if not math.isfinite(value):
        raise ValueError("is not a finite number")
    return value


def read_series_csv(kind: SeriesKind, lines: Iterable[str]) -> tuple[list, list[int]]:
    """Rows of ``kind.row_type`` and the file line number of each row."""
    reader = csv.DictReader(lines)
    header = [name.strip() for name in (reader.fieldnames or [])]
    reader.fieldnames = header
    required = ["time", *(name for name in kind.fields if name not in kind.optional)]
    missing = [name for name in required if name not in header]
    if missing:
        raise CsvError(f"line 1: missing column(s) {', '.join(missing)}; expected time,{','.join(kind.fields)}")
    unknown = [name for name in header if name != "time" and name not in kind.fields]
    if unknown:
        raise CsvError(f"line 1: unknown column(s) {', '.join(unknown)}; expected time,{','.join(kind.fields)}")
    rows, line_numbers = [], []
    for record in reader:
        line = reader.line_num
        values = {}
        for name in ("time", *kind.fields):
            text = (record.get(name) or "").strip()
            if not text:
                if name in kind.optional:
                    values[name] = None
                    continue
                raise CsvError(f"line {line}: {name} is empty")
            try:
                values[name] = _parse_time(text) if name == "time" else _parse_number(text)
            except ValueError as error:
                raise CsvError(f"line {line}: {name} {text!r} {error}") from None
        rows.append(kind.row_type(**values))
        line_numbers.append(line)
    return rows, line_numbers
