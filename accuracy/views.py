"""The public accuracy pages: one per market and a summary. They read stored reports only."""

from __future__ import annotations

from django.shortcuts import render
from django.views.decorators.http import require_GET

from .readings_selectors import readings_sections, readings_summary
from .report_text import LIMITS
from .selectors import accuracy_summary, market_accuracy
from .table import num, pct
from .variants import VARIANTS


@require_GET
def market_accuracy_page(request, market_id: int):
    market, reports = market_accuracy(market_id=market_id)
    if market is None:
        return render(request, "accuracy/accuracy_missing.html", {"market_id": market_id}, status=404)
    return render(
        request,
        "accuracy/accuracy.html",
        {
            "market": market,
            "reports": reports,
            "limits": LIMITS,
            "variants": VARIANTS,
            "readings": readings_sections(market_id=market_id),
        },
    )


@require_GET
def accuracy_summary_page(request):
    lines, missing = accuracy_summary()
    rows, sided = [], []
    for report, parts in lines:
        side_row = _sides_line(report, parts)
        if side_row:
            sided.append(side_row)

        def score(part, name, fmt, parts=parts):
            row = parts.get(part) or {}
            return fmt(row.get(name) if isinstance(row.get(name), (int, float)) else None)

        best = parts.get("best") or {}
        rows.append(
            {
                "report": report,
                "site_spearman": score("site", "spearman", num),
                "site_top": score("site", "top_decile", pct),
                "vol_spearman": score("volatility", "spearman", num),
                "vol_top": score("volatility", "top_decile", pct),
                "bands_spearman": score("bands", "spearman", num),
                "bands_top": score("bands", "top_decile", pct),
                "best": best.get("label", report.best_variant),
            }
        )
    return render(
        request,
        "accuracy/accuracy_summary.html",
        {"rows": rows, "sided": sided, "missing": missing, "limits": LIMITS, "readings_rows": readings_summary()},
    )


def _sides_line(report, parts: dict) -> dict | None:
    """The site variant's and the swing baseline's per-side scores, when the report has real liquidations per side."""
    site, swing = parts.get("site") or {}, parts.get("swing") or {}
    sides = site.get("sides") if isinstance(site.get("sides"), dict) else None
    if not sides:
        return None
    swing_sides = swing.get("sides") if isinstance(swing.get("sides"), dict) else {}

    def cell(source, side, name, fmt):
        value = (source.get(side) or {}).get(name)
        return fmt(value if isinstance(value, (int, float)) else None)

    line = {"report": report, "steps": sides.get("steps")}
    for side in ("long", "short"):
        for name, fmt in (("spearman", num), ("top_decile", pct)):
            line[f"{side}_{name}"] = cell(sides, side, name, fmt)
            line[f"swing_{side}_{name}"] = cell(swing_sides, side, name, fmt)
    return line
