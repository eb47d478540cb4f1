"""Template context for a heatmap view, shared by the heatmap pages and the share pages."""

from __future__ import annotations

from heatmaps.formatting import plain
from heatmaps.liquidation_selectors import liquidation_notice
from heatmaps.pages.controls import view_controls
from heatmaps.pages.heatmap_view import HeatmapView
from heatmaps.pages.query import METHODS
from heatmaps.pages.readings import band_rows, oi_reading, squeeze_rows, threshold_rows
from heatmaps.pages.window import CROP_MARGIN, SCALE_PERCENTILE


def view_context(
    view: HeatmapView, *, path: str, public: bool = False, analysis: dict | None = None, params: dict | None = None
) -> dict:
    """Everything the ``view`` partial prints. ``public`` hides controls and anything per user.

    ``analysis`` and ``params`` replace the snapshot's own (frozen share links keep copies).
    """
    analysis = view.analysis if analysis is None else analysis
    if params is None:
        params = view.snapshot.params if view.snapshot is not None else None
    squeeze, heavier = squeeze_rows(analysis)
    return {
        "view": view,
        "window": view.window,
        "public": public,
        "controls": view_controls(view, path) if view.computed and not public else [],
        "method_label": METHODS.get(view.query.method or "", ""),
        "bands": band_rows(analysis),
        "squeeze": squeeze,
        "heavier": heavier,
        "thresholds": threshold_rows(analysis),
        "oi": oi_reading(analysis),
        "as_of": analysis.get("as_of", ""),
        "params": _params_rows(params),
        "crop_margin_pct": round(CROP_MARGIN * 100),
        "scale_percentile": f"{SCALE_PERCENTILE:g}",
        "share_params": view.query.params(),
        # Caveats of the exchanges' liquidation feeds (e.g. Binance's one per symbol per second).
        "liquidation_notices": sorted({notice for market in view.markets if (notice := liquidation_notice(market=market))}),
    }


def _params_rows(params) -> list[tuple[str, str]]:
    if not isinstance(params, dict):
        return []
    rows = []
    for key, value in params.items():
        if isinstance(value, (dict, list)) and len(str(value)) > 200:
            continue  # tier tables and the like: on the model page, not in the page footer
        rows.append((key.replace("_", " "), plain(value)))
    return rows


