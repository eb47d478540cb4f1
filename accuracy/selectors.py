"""Reads for the accuracy pages: stored reports only, never a computation."""

from __future__ import annotations

from dataclasses import dataclass

from accuracy.models import AccuracyReport
from liqsite.exchanges import INTERVAL_SECONDS
from markets.models import Market

from .report_text import LIMITS, report_sentences, row_views
from .table import describe_period


@dataclass(frozen=True)
class ReportView:
    report: AccuracyReport
    period: str
    rows: list
    sentences: list[str]
    site_params: dict
    unreadable: bool = False  # stored in a shape this code does not know (an older version): shown as such

    @property
    def baselines(self):
        return [r for r in self.rows if r.kind == "baseline"]

    @property
    def variants(self):
        return [r for r in self.rows if r.kind == "variant"]

    @property
    def sided_rows(self):
        """Rows scored against real liquidations per side (none when no held-out step had them)."""
        return [r for r in self.rows if r.sides and not r.skipped]


def report_view(report: AccuracyReport) -> ReportView:
    try:
        results = dict(report.results) | {"best_variant": report.best_variant}
        return ReportView(
            report,
            describe_period(results),
            row_views(results),
            report_sentences(results),
            results.get("site_variant", {}).get("params", {}),
        )
    except (KeyError, TypeError, ValueError, AttributeError):
        # A report written by another version: the page says so instead of failing; the next run replaces it.
        return ReportView(report, "", [], [], {}, unreadable=True)


def market_accuracy(*, market_id: int) -> tuple[Market | None, list[ReportView]]:
    """The market (None if there is none) and its stored reports, finest interval first."""
    market = Market.objects.select_related("exchange").filter(pk=market_id).first()
    if market is None:
        return None, []
    reports = list(AccuracyReport.objects.filter(market=market))
    reports.sort(key=lambda r: INTERVAL_SECONDS.get(r.interval, 0))
    return market, [report_view(r) for r in reports]


def accuracy_summary() -> tuple[list[tuple[AccuracyReport, dict]], list[Market]]:
    """Every stored report with its site-variant and baseline scores, and the markets without one."""
    reports = list(AccuracyReport.objects.select_related("market__exchange").order_by("market__symbol", "interval"))
    lines = []
    for r in reports:
        stored = r.results.get("rows", []) if isinstance(r.results, dict) else []
        rows = {row["key"]: row for row in stored if isinstance(row, dict) and "key" in row}
        lines.append(
            (
                r,
                {
                    "site": rows.get(r.variant),
                    "volatility": rows.get("volatility"),
                    "swing": rows.get("swing"),
                    "bands": rows.get("bands"),
                    "best": rows.get(r.best_variant) if r.best_variant else None,
                },
            )
        )
    with_report = {r.market_id for r in reports}
    missing = [m for m in Market.objects.select_related("exchange").order_by("symbol") if m.pk not in with_report]
    return lines, missing


__all__ = ["ReportView", "report_view", "market_accuracy", "accuracy_summary", "LIMITS"]
