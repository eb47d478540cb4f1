"""ECharts 6 options for the heatmap page, built as plain dicts and sent as compact JSON.

One chart holds three grids that share the time axis: the heatmap of pending
liquidations with the candles drawn over it (top left), the profile of
pending USD per price row at the latest step (top right, same price rows), and
open interest with realised liquidations (bottom).

ECharts draws a cartesian heatmap only on two category axes, so price rows are
categories. The candles go on a hidden value axis measured in *rows*
(0 … R): a price is placed by interpolating its logarithm between the row
edges, which lines it up exactly with the cells whatever the bin spacing.

Numbers are rounded before they are sent (USD to 3 significant figures,
prices to 6, positions to 1/1000 of a row) and empty cells are left out:
that is most of what keeps the default view under its weight budget.
Functions (tooltips, number formats) cannot travel in JSON: ``heatmap.js``
adds the tooltip, and replaces a ``"formatter"`` of ``"usd"`` or
``"compact"`` with the matching function; it reads the ``meta`` block for the
numbers they show. The heatmap's cells travel
in ``meta.cells`` as a dense matrix that ``heatmap.js`` expands into the
series data (see ``heatmap_cells``).
"""

from __future__ import annotations

import json
import math

import numpy as np

from heatmaps.formatting import usd
from heatmaps.pages.window import HeatmapWindow

# Purple → blue → green → yellow (the viridis ramp): ordered in lightness, so
# it reads in greyscale and for the common colour-vision deficiencies too.
COLOUR_SCALE = ["#440154", "#3b528b", "#21918c", "#5ec962", "#fde725"]
LONG_COLOUR = "#ef5350"
SHORT_COLOUR = "#26a69a"
TEXT_COLOUR = "#9aa3b5"
LINE_COLOUR = "#2a2f3d"

HEATMAP_LEFT, HEATMAP_RIGHT = 76, "21%"
PROFILE_LEFT, PROFILE_RIGHT = "80.5%", 24


def chart_payload(window: HeatmapWindow, *, currency: str = "USD", base: str = "") -> dict:
    """The option and the numbers ``heatmap.js`` needs for tooltips.

    ``currency`` is the quote currency prices are in; ``base`` the asset open
    interest is counted in (the stored grids keep it in base units).
    """
    return {
        "option": heatmap_option(window, currency=currency, base=base),
        "meta": {
            "cells": heatmap_cells(window),
            "times": window.times.tolist(),
            "columnMs": window.step_ms * window.steps_per_column,
            "edges": _round_sig(window.edges, 6).tolist(),
            "currency": currency,
            "prices": [_finite_list(_round_sig(getattr(window, name), 6)) for name in ("open", "high", "low", "close")],
        },
    }


def dumps(payload: dict) -> str:
    """Compact JSON, safe to embed in a ``<script type="application/json">`` element."""
    text = json.dumps(payload, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def heatmap_option(window: HeatmapWindow, *, currency: str = "USD", base: str = "") -> dict:
    time_labels = _time_labels(window)
    price_labels = [_price_text(p) for p in window.edges[:-1]]
    scale_top = _ceil_sig(window.scale_max, 2)
    series = [_heatmap_series(window), _candle_series(window)]
    series += _profile_series(window)
    series += _lower_series(window)
    return {
        "animation": False,
        "backgroundColor": "transparent",
        "textStyle": {"color": TEXT_COLOUR},
        "legend": {
            "bottom": 0,
            "left": HEATMAP_LEFT,
            "textStyle": {"color": TEXT_COLOUR},
            "data": [s["name"] for s in series[2:]],
        },
        "tooltip": {"trigger": "item", "confine": True},
        "axisPointer": {"link": [{"xAxisIndex": [0, 2]}]},
        "grid": [
            {"left": HEATMAP_LEFT, "right": HEATMAP_RIGHT, "top": 46, "height": "58%"},
            {"left": PROFILE_LEFT, "right": PROFILE_RIGHT, "top": 46, "height": "58%"},
            {"left": HEATMAP_LEFT, "right": HEATMAP_RIGHT, "top": "74%", "height": "16%"},
        ],
        "xAxis": [
            _category_axis(time_labels, grid=0, show_labels=False),
            {
                "type": "value", "gridIndex": 1, "name": f"pending, {currency}", "nameLocation": "middle",
                "nameGap": 22, "splitLine": {"show": False}, "axisLabel": {"show": False},
            },
            _category_axis(time_labels, grid=2, show_labels=True, labels_shown=8),
        ],
        "yAxis": [
            _category_axis(price_labels, grid=0, show_labels=True, labels_shown=14) | {"name": "price", "nameTextStyle": {"align": "right"}},
            {"type": "value", "gridIndex": 0, "min": 0, "max": window.rows, "show": False},
            _category_axis(price_labels, grid=1, show_labels=False),
            {
                "type": "value", "gridIndex": 2, "name": f"open interest, {base}" if base else "open interest", "scale": True,
                "splitLine": {"lineStyle": {"color": LINE_COLOUR}}, "axisLabel": {"color": TEXT_COLOUR, "formatter": "compact"},
            },
            {
                "type": "value", "gridIndex": 2, "name": f"liquidated, {currency}", "position": "right",
                "splitLine": {"show": False}, "axisLabel": {"color": TEXT_COLOUR, "formatter": "usd"},
            },
        ],
        "visualMap": [{
            "type": "continuous",
            "seriesIndex": 0,
            "min": 0,
            "max": scale_top,
            "calculable": True,
            "realtime": False,
            "orient": "horizontal",
            "top": 0,
            "right": PROFILE_RIGHT,
            "itemWidth": 12,
            "itemHeight": 180,
            "formatter": "usd",
            "text": [f"{usd(scale_top)}+  (99th percentile; brighter cells capped)", "$0"],
            "textStyle": {"color": TEXT_COLOUR},
            "inRange": {"color": COLOUR_SCALE},
        }],
        "dataZoom": [{"type": "inside", "xAxisIndex": [0, 2]}],
        "series": series,
    }


def _category_axis(data: list[str], *, grid: int, show_labels: bool, labels_shown: int = 10) -> dict:
    # A fixed label interval: ECharts' automatic one lets a few hundred
    # price labels overlap on a category axis.
    return {
        "type": "category",
        "gridIndex": grid,
        "data": data,
        "boundaryGap": True,
        "axisTick": {"show": False},
        "axisLine": {"lineStyle": {"color": LINE_COLOUR}},
        "axisLabel": {"show": show_labels, "color": TEXT_COLOUR, "interval": max(0, len(data) // labels_shown - 1)},
        "splitLine": {"show": False},
    }


def _heatmap_series(window: HeatmapWindow) -> dict:
    # The cells travel as one dense column-major matrix in ``meta.cells``
    # (see ``heatmap_cells``); heatmap.js turns its non-zero entries into this
    # series' [column, row, USD] data. Triples would be 3× the JSON objects and
    # take most of the page's time budget to build.
    return {
        "name": "Pending liquidations (estimate)",
        "type": "heatmap",
        "xAxisIndex": 0,
        "yAxisIndex": 0,
        "data": [],
        # Drawn in one pass: progressive rendering paints chunks over many
        # frames and leaves half-drawn maps in screenshots and link previews.
        "progressive": 0,
        "emphasis": {"itemStyle": {"borderColor": "#ffffff", "borderWidth": 1}},
    }


def heatmap_cells(window: HeatmapWindow) -> dict:
    """USD per cell, column after column, rounded to 3 significant figures; 0 = empty (not drawn)."""
    values = np.rint(_round_sig(window.pending.astype(np.float64), 3)).astype(np.int64)
    return {"columns": window.columns, "rows": window.rows, "values": values.ravel().tolist()}


def _candle_series(window: HeatmapWindow) -> dict:
    rows = np.interp(
        np.log(np.where(window.close > 0, window.close, np.nan)), np.log(window.edges), np.arange(window.rows + 1)
    )
    if not window.has_ohlc:
        return {
            "name": "Close", "type": "line", "xAxisIndex": 0, "yAxisIndex": 1, "showSymbol": False,
            "lineStyle": {"color": "#ffffff", "width": 1.2}, "data": _finite_list(np.round(rows, 3)),
        }
    positions = [
        np.round(np.interp(np.log(getattr(window, name)), np.log(window.edges), np.arange(window.rows + 1)), 3)
        for name in ("open", "close", "low", "high")  # ECharts' candlestick order
    ]
    data = [
        values if all(math.isfinite(v) for v in values) else "-"
        for values in np.column_stack(positions).tolist()
    ]
    return {
        "name": "Candles", "type": "candlestick", "xAxisIndex": 0, "yAxisIndex": 1, "data": data,
        "itemStyle": {"color": "#f4f4f4", "color0": "#111318", "borderColor": "#f4f4f4", "borderColor0": "#c9ccd3"},
        "barMaxWidth": 8,
    }


def _profile_series(window: HeatmapWindow) -> list[dict]:
    common = {"type": "bar", "xAxisIndex": 1, "yAxisIndex": 2, "stack": "profile", "barCategoryGap": "10%"}
    return [
        common | {"name": "Longs pending now", "itemStyle": {"color": LONG_COLOUR},
                  "data": _round_sig(window.profile_long.astype(np.float64), 3).tolist()},
        common | {"name": "Shorts pending now", "itemStyle": {"color": SHORT_COLOUR},
                  "data": _round_sig(window.profile_short.astype(np.float64), 3).tolist()},
    ]


def _lower_series(window: HeatmapWindow) -> list[dict]:
    series = [{
        "name": "Open interest", "type": "line", "xAxisIndex": 2, "yAxisIndex": 3, "showSymbol": False,
        "lineStyle": {"color": "#f5c542", "width": 1.2}, "itemStyle": {"color": "#f5c542"},
        "data": _finite_list(_round_sig(window.open_interest, 5)),
    }]
    measured = np.isfinite(window.measured_long) & np.isfinite(window.measured_short)
    bars = {"type": "bar", "xAxisIndex": 2, "yAxisIndex": 4, "barCategoryGap": "20%"}
    estimate_long = np.where(measured, np.nan, -window.realized_long)
    estimate_short = np.where(measured, np.nan, window.realized_short)
    series += [
        bars | {"name": "Longs liquidated (model estimate)", "stack": "estimate",
                "itemStyle": {"color": LONG_COLOUR, "opacity": 0.55}, "data": _finite_list(_round_sig(estimate_long, 3))},
        bars | {"name": "Shorts liquidated (model estimate)", "stack": "estimate",
                "itemStyle": {"color": SHORT_COLOUR, "opacity": 0.55}, "data": _finite_list(_round_sig(estimate_short, 3))},
    ]
    if measured.any():
        series += [
            bars | {"name": "Longs liquidated (measured)", "stack": "measured", "itemStyle": {"color": LONG_COLOUR},
                    "data": _finite_list(_round_sig(np.where(measured, -window.measured_long, np.nan), 3))},
            bars | {"name": "Shorts liquidated (measured)", "stack": "measured", "itemStyle": {"color": SHORT_COLOUR},
                    "data": _finite_list(_round_sig(np.where(measured, window.measured_short, np.nan), 3))},
        ]
    return series


# -- formatting ------------------------------------------------------------------

def _round_sig(values: np.ndarray, digits: int) -> np.ndarray:
    """Round to ``digits`` significant figures, element-wise (zeros and NaN pass through)."""
    values = np.asarray(values, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        magnitude = np.where(
            np.isfinite(values) & (values != 0), 10.0 ** (np.floor(np.log10(np.abs(values))) - (digits - 1)), 1.0
        )
        return np.round(values / magnitude) * magnitude


def _finite_list(values: np.ndarray) -> list:
    """A JSON-ready list: whole numbers as ints, NaN as ECharts' "-" (no value)."""
    out = []
    for value in values.tolist():
        if not math.isfinite(value):
            out.append("-")
        elif value == int(value) and abs(value) < 2**53:
            out.append(int(value))
        else:
            out.append(float(f"{value:.10g}"))
    return out


def _ceil_sig(value: float, digits: int) -> float:
    if value <= 0 or not math.isfinite(value):
        return 1.0
    magnitude = 10 ** (math.floor(math.log10(value)) - (digits - 1))
    return math.ceil(value / magnitude) * magnitude


def _time_labels(window: HeatmapWindow) -> list[str]:
    stamps = np.datetime_as_string(window.times.astype("datetime64[ms]"), unit="m")
    if window.step_ms * window.steps_per_column >= 86_400_000:
        return [s[:10] for s in stamps.tolist()]
    return [s[5:16].replace("T", " ") for s in stamps.tolist()]


def _price_text(price: float) -> str:
    if price >= 1000:
        return f"{price:,.0f}"
    if price >= 1:
        return f"{price:,.{max(0, 4 - len(str(int(price))))}f}"
    return f"{price:.4g}"


