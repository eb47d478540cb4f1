"""Reads of the stored readings records: the accuracy pages and the heatmap page, never a computation."""

from __future__ import annotations

from accuracy.models import ReadingsReport

from .readings_table import CLAIMS, TITLES, VERDICT_WORDS, hit_sentence, rate_text, short_record


def readings_record(*, market_id: int) -> ReadingsReport | None:
    """The market's newest readings record (None when never backtested)."""
    return ReadingsReport.objects.filter(market_id=market_id).order_by("-computed_at").first()


def reading_records(*, market_id: int) -> dict[str, str]:
    """Per reading key, the short record the heatmap page prints beside it ("not enough history yet" without one)."""
    report = readings_record(market_id=market_id)
    readings = report.results.get("readings", {}) if report is not None and isinstance(report.results, dict) else {}
    out = {}
    for key in TITLES:
        try:
            out[key] = short_record(readings.get(key))
        except (KeyError, TypeError, ValueError):
            out[key] = "not enough history yet"
    if report is not None:
        out["interval"] = report.interval
    return out


def readings_sections(*, market_id: int) -> list[dict]:
    """One section per reading for the accuracy page: the claim, the measurement and the verdict in words."""
    sections = []
    for report in ReadingsReport.objects.filter(market_id=market_id):
        for key, reading in (report.results.get("readings") or {}).items():
            try:
                b = reading["baseline"]
                sections.append(
                    {
                        "key": key,
                        "title": TITLES[key],
                        "claim": CLAIMS[key],
                        "interval": report.interval,
                        "sentence": hit_sentence(reading),
                        "verdict": reading["verdict"],
                        "verdict_words": VERDICT_WORDS[reading["verdict"]],
                        "rate": rate_text(reading["reading"]),
                        "baseline": "50 % (fixed)" if b.get("fixed") is not None else rate_text(b),
                        "baseline_label": b.get("label", ""),
                        "params": reading["params"],
                        "fitted": reading["fitted"],
                        "extra": _extra(reading),
                    }
                )
            except (KeyError, TypeError, ValueError):
                continue
    return sections


def _extra(reading: dict) -> list[str]:
    out = []
    if reading["key"] == "volatility":
        rho = reading.get("spearman_range")
        out.append(f"Rank correlation of pressure with the next range: {'—' if rho is None else f'{rho:+.2f}'}.")
        out.append(f"Naive flag (the range that just ended in its own top decile): {rate_text(reading.get('naive'))}.")
        liq = reading.get("liquidations")
        if liq:
            rho = liq.get("spearman")
            out.append(
                f"Real liquidations recorded: rank correlation {'—' if rho is None else f'{rho:+.2f}'} "
                f"over {liq['events']} windows."
            )
    if reading["key"] == "lean":
        out.append(f"{reading.get('undecided', 0)} races were undecided (neither side reached in time, or both within one step).")
    return out


def readings_summary() -> list[dict]:
    """Every market's readings record, one row per market: the verdict of each reading in words."""
    rows = []
    for report in ReadingsReport.objects.select_related("market__exchange").order_by("market__symbol", "interval"):
        readings = report.results.get("readings") if isinstance(report.results, dict) else None
        cells = []
        for key in TITLES:
            reading = (readings or {}).get(key)
            try:
                cells.append(f"{rate_text(reading['reading'])}: {VERDICT_WORDS[reading['verdict']].split(' (')[0]}")
            except (KeyError, TypeError):
                cells.append("—")
        rows.append({"report": report, "cells": cells})
    return rows
