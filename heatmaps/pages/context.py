"""Template context for a heatmap view, shared by the heatmap pages and the share pages."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from heatmaps.pages.charted import ChartedView
from heatmaps.pages.controls import view_controls
from heatmaps.viewing.analysis_rows import band_rows, oi_reading, squeeze_rows, threshold_rows
from heatmaps.viewing.by_exchange import exchange_split
from heatmaps.viewing.query import METHODS, RANGES
from heatmaps.viewing.readings_rows import reading_rows
from heatmaps.viewing.window import CROP_MARGIN, SCALE_PERCENTILE
from liqsite.exchanges import INTERVAL_SECONDS
from liqsite.formatting import plain, utc_ms, when
from markets.liquidation_selectors import liquidation_notice

LIVE_SECONDS = 30  # new grids are stored every few minutes; a check costs one small query and a 304


def view_context(
    view: ChartedView, *, path: str, public: bool = False, analysis: dict | None = None, params: dict | None = None
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
        "bands": _split_bands(view, band_rows(analysis)),
        "squeeze": squeeze,
        "heavier": heavier,
        "thresholds": threshold_rows(analysis),
        "oi": oi_reading(analysis),
        "readings": reading_rows(analysis, view.target),
        "as_of": analysis.get("as_of", ""),
        "as_of_span": _step_span(analysis.get("as_of"), view.query.interval),
        "range_notice": range_notice(view),
        # An open page checks for a newer grid this often; shared pages refresh on their own schedule.
        "live_seconds": 0 if public else LIVE_SECONDS,
        "png_name": f"liqsite-{view.target.title.split(' ')[0]}-{view.query.range}".replace("/", "-"),
        "params": _params_rows(params),
        "crop_margin_pct": round(CROP_MARGIN * 100),
        "scale_percentile": f"{SCALE_PERCENTILE:g}",
        "share_params": view.query.params(),
        # Caveats of the exchanges' liquidation feeds (e.g. Binance's one per symbol per second).
        "liquidation_notices": sorted({notice for market in view.markets if (notice := liquidation_notice(market=market))}),
    }


def range_notice(view: ChartedView) -> str:
    """A sentence when the stored data covers less than the range asked for ("1y" of a 26-day grid), else ""."""
    window = view.window
    if window is None or not window.columns:
        return ""
    covered_ms = window.end_ms - int(window.times[0])
    asked_ms = RANGES[view.query.range].total_seconds() * 1000
    if covered_ms + window.step_ms * window.steps_per_column > asked_ms:
        return ""
    return (
        f"Only {_duration(covered_ms)} of {view.query.interval} data are stored, "
        f"less than the {view.query.range} asked for: the chart shows all of it."
    )


def _duration(ms: float) -> str:
    days = ms / 86_400_000
    if days >= 2:
        return f"{days:.0f} days"
    hours = ms / 3_600_000
    return f"{hours:.0f} hours" if hours >= 2 else f"{ms / 60_000:.0f} minutes"


def _step_span(as_of, interval: str | None) -> str:
    """``2026-06-26 15:00–15:15 UTC``: the step the analysis was read at, in the header's terms."""
    start = when(as_of) if as_of else ""
    if not start or start == as_of or interval not in INTERVAL_SECONDS:
        return start
    opened = datetime.fromisoformat(as_of)
    end = utc_ms(opened.timestamp() * 1000 + INTERVAL_SECONDS[interval] * 1000)
    return f"{start}–{end[11:] if end[:10] == start[:10] else end}"


# How a stored parameter whose value is "not set" reads: what the model uses instead.
UNSET_PARAMS = {
    "mmr": "from each market's maintenance-margin tiers",
    "position_notional": "not set",
    "half_life_steps": "off (levels do not age)",
}


def _split_bands(view: ChartedView, bands: list) -> list:
    """The bands with each exchange's USD in them (live coin pages with a stored split; frozen links have no snapshot)."""
    split = exchange_split(view) if bands else None
    if split is None:
        return bands
    return [replace(band, by_exchange=tuple(split.band_usd(band.low, band.high))) for band in bands]


def _params_rows(params) -> list[tuple[str, str]]:
    if not isinstance(params, dict):
        return []
    rows = []
    for key, value in params.items():
        if isinstance(value, (dict, list)) and len(str(value)) > 200:
            continue  # tier tables and the like: on the model page, not in the page footer
        rows.append((key.replace("_", " "), _param_text(key, value)))
    return rows


def _param_text(key: str, value) -> str:
    """A parameter in words: ``contract: linear, maintenance basis: liquidation``, never a Python repr."""
    if value is None:
        return UNSET_PARAMS.get(key, "not set")
    if isinstance(value, dict):
        return ", ".join(f"{k.replace('_', ' ')}: {_param_text(k, v)}" for k, v in value.items()) or "none"
    if isinstance(value, (list, tuple)):
        return ", ".join(_param_text(key, v) for v in value) or "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return plain(value)
