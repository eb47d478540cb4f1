"""The "volatility ahead" rule: pressure near price entered its top decile.

Read from the stored analysis (``analysis["readings"]["volatility"]``, see
``grids/readings.py``): pending liquidations within ± the rule's width of
price, ranked against the trailing 30 days when the grid was computed. The
episode is the run of top-decile rows ending at the latest one, named by its
first row (``since``), so an alert fires once when pressure enters the top
decile and again only after it left and came back.
"""

from __future__ import annotations

from alerts.links import absolute, heatmap_path
from alerts.models import AlertRule
from grids.models import GridSnapshot
from liqsite.formatting import usd


def volatility_findings(rule: AlertRule, grid: GridSnapshot, label: str, *, context: dict) -> list[dict]:
    """The top-decile pressure episode going on now, if any, as the evaluation's ``Finding`` fields."""
    readings = (grid.analysis or {}).get("readings") or {}
    widths = (readings.get("volatility") or {}).get("by_pct") or {}
    p = widths.get(f"{rule.pressure_pct:g}")
    if not isinstance(p, dict) or not p.get("top") or not p.get("since"):
        return []
    share = round(100 * (readings["volatility"].get("top_share") or 0.1))
    summary = (
        f"{label}: pressure within ±{rule.pressure_pct:g} % of price is high — {usd(p['usd'])}, "
        f"top {share} % of the last {p.get('history_hours', 0) / 24:.0f} days: expect fast moves"
    )
    details = context | {"pressure": {"pct": rule.pressure_pct, **p}}
    return [
        dict(
            episode_key=f"vol:{grid.interval}:{grid.long_share_method}:{rule.pressure_pct:g}:{p['since']}",
            summary=summary,
            details=details,
            usd=float(p.get("usd") or 0),
            heatmap_url=absolute(heatmap_path(grid.target, interval=grid.interval, method=grid.long_share_method)),
            interval=grid.interval,
            method=grid.long_share_method,
        )
    ]
