"""The four readings of the shown grid, each with its measured record for the market, as rows a template prints.

The words come from the stored analysis (``grids.readings``), the record from
the stored readings backtest (``accuracy.readings_selectors``): nothing is
computed here beyond one small query.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse

from accuracy.readings_selectors import reading_records
from grids.readings import readings_sentences
from grids.targets import Target


@dataclass(frozen=True)
class ReadingRow:
    key: str
    title: str
    text: str
    record: str  # the measured hit rate for this market, or why there is none
    link: str  # where the record is explained
    measured_at: str = ""  # the interval the record was measured at


def reading_rows(analysis: dict | None, target: Target) -> list[ReadingRow]:
    sentences = readings_sentences(analysis)
    if not sentences:
        return []
    if target.is_coin:
        records = {}
        link = reverse("heatmaps:accuracy_summary") + "#readings"
        missing = "measured per market, not for the coin aggregate"
    else:
        records = reading_records(market_id=target.market_id)
        link = reverse("heatmaps:market_accuracy", args=[target.market_id])
        missing = "not enough history yet"
    return [
        ReadingRow(
            s["key"],
            s["title"],
            s["text"],
            records.get(s["key"], missing),
            link + (f"#reading-{s['key']}" if not target.is_coin else ""),
            records.get("interval", ""),
        )
        for s in sentences
    ]
