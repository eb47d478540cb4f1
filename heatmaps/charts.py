"""ECharts 6 options for the heatmap page, built as plain dicts and sent as compact JSON.

One chart holds three grids that share the time axis: the heatmap of pending
liquidations with the candles drawn over it (top left), the profile of
pending USD per price row at the latest step (top right, same price axis), and
open interest with realised liquidations (bottom).

The price axis is a *value* axis in the quote currency, so its ticks are round
numbers, it can be zoomed, and candles and the current-price line sit on it
directly. The heatmap is not drawn as ECharts heatmap cells (hundreds of
thousands of elements, painted over several frames): ``heatmap.js`` paints the
cells into one bitmap per view and a custom series places one column of that
bitmap per time column, so the map appears in a single frame and follows the
time zoom. The price rows need not be evenly spaced: the bitmap maps each
pixel's price to its row.

The cells travel compactly (see ``heatmap_cells``): each USD value rounded to
3 significant figures, as the tooltip shows it, coded as a 16-bit integer,
differenced along time, deflated and base64-encoded; about 1/40 of the JSON
numbers it replaces. Other numbers are rounded before they are sent (USD to 3
significant figures, prices to 6). Functions (tooltips, number formats)
cannot travel in JSON: ``heatmap.js`` adds the tooltips, and replaces a
``"formatter"`` naming one of its formats (``"usd"``, ``"compact"``,
``"price"``, ``"pointerPrice"``, ``"axisPrice"``) with the matching function.
"""

from __future__ import annotations

import base64
import json
import math
import zlib

import numpy as np

from heatmaps.viewing.window import HeatmapWindow
from liqsite.formatting import usd

# Purple → blue → green → yellow (the viridis ramp): ordered in lightness, so
# it reads in greyscale and for the common colour-vision deficiencies too.
COLOUR_SCALE = ["#440154", "#3b528b", "#21918c", "#5ec962", "#fde725"]
LONG_COLOUR = "#ef5350"
SHORT_COLOUR = "#26a69a"
TEXT_COLOUR = "#9aa3b5"
LINE_COLOUR = "#2a2f3d"
PRICE_LINE_COLOUR = "#f5c542"
TOOLTIP_BACKGROUND, TOOLTIP_TEXT = "#171a23", "#e6e8ee"  # the site's --panel and --text

# Labels drawn on a tag (the last price, the crosshair's price) state their line height: without it
# ECharts sizes the tag from the width of a CJK character, which Debian's Chromium draws from a
# narrow fallback glyph, so the tag came out a third of the text's height and cut the digits.
TAG_TEXT = {"fontSize": 12, "lineHeight": 15, "padding": [1, 4]}

HEATMAP_LEFT, HEATMAP_RIGHT = 84, "21%"
PROFILE_LEFT, PROFILE_RIGHT = "80.5%", 24
HEATMAP_TOP, HEATMAP_HEIGHT = 46, "58%"
# Below this chart width (phones) the option's "media" rule trims labels and legends.
NARROW_WIDTH = 640

# The cells' 16-bit code: 0 = empty; otherwise mantissa 100–999 and a power
# of ten from 10^-2 up, so a code holds exactly the 3 significant figures the
# tooltip shows. Decoded by ``decode_cells`` here and ``decodeCells`` in heatmap.js.
CELL_ENCODING = "sig3-u16-delta-deflate"
_MANTISSAS = 900
_LOWEST_EXPONENT = -2


def chart_payload(window: HeatmapWindow, *, currency: str = "USD", base: str = "") -> dict:
    """The option and the numbers ``heatmap.js`` needs for the map and its tooltips.

    ``currency`` is the quote currency prices are in; ``base`` the asset open
    interest is counted in (the stored grids keep it in base units).
    """
    return {
        "option": heatmap_option(window, currency=currency, base=base),
        "meta": {
            "cells": heatmap_cells(window),
            "times": window.times.tolist(),
            "columnMs": window.step_ms * window.steps_per_column,
            "endMs": window.end_ms,
            "edges": _round_sig(window.edges, 6).tolist(),
            "currency": currency,
            "scaleTop": _ceil_sig(window.scale_max, 2),
            "colours": COLOUR_SCALE,
            "prices": [_finite_list(_round_sig(getattr(window, name), 6)) for name in ("open", "high", "low", "close")],
        },
    }


def dumps(payload: dict) -> str:
    """Compact JSON, safe to embed in a ``<script type="application/json">`` element."""
    text = json.dumps(payload, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def heatmap_option(window: HeatmapWindow, *, currency: str = "USD", base: str = "") -> dict:
    time_labels = _time_labels(window)
    low, high = float(_round_sig(window.edges[0], 6)), float(_round_sig(window.edges[-1], 6))
    scale_top = _ceil_sig(window.scale_max, 2)
    series = [_heatmap_series(window), _candle_series(window)]
    series += _profile_series(window)
    series += _lower_series(window)
    price_axis = {
        "type": "value",
        "gridIndex": 0,
        "min": low,
        "max": high,
        "scale": True,
        "name": "price",
        "nameTextStyle": {"align": "right"},
        "splitNumber": 8,
        "axisLine": {"show": True, "lineStyle": {"color": LINE_COLOUR}},
        "axisTick": {"show": False},
        "splitLine": {"show": False},
        # The edges are bin edges, not round numbers: label only the round ticks between them.
        "axisLabel": {"color": TEXT_COLOUR, "formatter": "axisPrice", "showMinLabel": False, "showMaxLabel": False},
        "axisPointer": {
            "show": True,
            "type": "line",
            "snap": False,
            "triggerTooltip": False,
            "lineStyle": {"color": "#ffffff", "opacity": 0.5, "type": "dashed"},
            "label": {"show": True, "formatter": "pointerPrice", "backgroundColor": "#3b4252"} | TAG_TEXT,
        },
    }
    option = {
        "animation": False,
        "backgroundColor": "transparent",
        "textStyle": {"color": TEXT_COLOUR},
        "legend": {
            "bottom": 0,
            "left": HEATMAP_LEFT,
            "textStyle": {"color": TEXT_COLOUR},
            "data": [s["name"] for s in series[2:]],
        },
        # The site's dark panel and text colours: on ECharts' default white box the chart's grey text was
        # hard to read (2.5 : 1 contrast).
        "tooltip": {
            "trigger": "item",
            "confine": True,
            "backgroundColor": TOOLTIP_BACKGROUND,
            "borderColor": LINE_COLOUR,
            "textStyle": {"color": TOOLTIP_TEXT},
        },
        "axisPointer": {"link": [{"xAxisIndex": [0, 2]}]},
        "grid": [
            {"left": HEATMAP_LEFT, "right": HEATMAP_RIGHT, "top": HEATMAP_TOP, "height": HEATMAP_HEIGHT},
            {"left": PROFILE_LEFT, "right": PROFILE_RIGHT, "top": HEATMAP_TOP, "height": HEATMAP_HEIGHT},
            {"left": HEATMAP_LEFT, "right": HEATMAP_RIGHT, "top": "74%", "height": "16%"},
        ],
        "xAxis": [
            _category_axis(time_labels, grid=0, show_labels=False)
            | {
                "axisPointer": {
                    "show": True,
                    "type": "line",
                    "triggerTooltip": False,
                    "label": {"show": False},
                    "lineStyle": {"color": "#ffffff", "opacity": 0.5, "type": "dashed"},
                },
            },
            {
                "type": "value",
                "gridIndex": 1,
                "name": f"pending, {currency}",
                "nameLocation": "middle",
                "nameGap": 22,
                "splitLine": {"show": False},
                "axisLabel": {"show": False},
                "min": 0,
            },
            _category_axis(time_labels, grid=2, show_labels=True, labels_shown=8),
        ],
        "yAxis": [
            price_axis,
            {"type": "value", "gridIndex": 1, "min": low, "max": high, "scale": True, "show": False},
            {
                "type": "value",
                "gridIndex": 2,
                "name": f"open interest, {base}" if base else "open interest",
                "scale": True,
                "splitLine": {"lineStyle": {"color": LINE_COLOUR}},
                "axisLabel": {"color": TEXT_COLOUR, "formatter": "compact"},
            },
            {
                "type": "value",
                "gridIndex": 2,
                "name": f"liquidated, {currency}",
                "position": "right",
                "splitLine": {"show": False},
                "axisLabel": {"color": TEXT_COLOUR, "formatter": "usd"},
            },
        ],
        "visualMap": [
            {
                "type": "continuous",
                # The map is painted by heatmap.js, which reads this component's
                # range (dragging a handle hides the cells outside it); no series is coloured by it.
                "seriesIndex": [],
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
            }
        ],
        "dataZoom": [
            {"type": "inside", "xAxisIndex": [0, 2]},
            # Price zoom: a slider beside the price axis; "none" keeps candles
            # and profile bars that reach outside the zoomed range.
            {
                "type": "slider",
                "yAxisIndex": [0, 1],
                "filterMode": "none",
                "left": 4,
                "width": 12,
                "top": HEATMAP_TOP,
                "height": HEATMAP_HEIGHT,
                "showDetail": False,
                "showDataShadow": False,
                "brushSelect": False,
                "borderColor": LINE_COLOUR,
                "fillerColor": "rgba(154,163,181,0.18)",
            },
        ],
        "series": series,
    }
    narrow = _narrow_option(window, scale_top, series)
    option["media"] = [{"option": _wide_option(option, narrow)}, {"query": {"maxWidth": NARROW_WIDTH}, "option": narrow}]
    return option


def _narrow_option(window: HeatmapWindow, scale_top: float, series: list[dict]) -> dict:
    """What changes on a phone: the legend on one scrollable line, three time labels, no axis names."""
    return {
        # "data" again: a media rule's legend replaces the base one's list.
        "legend": {
            "type": "scroll",
            "left": 4,
            "right": 4,
            "bottom": 0,
            "itemGap": 6,
            "itemWidth": 14,
            "textStyle": {"fontSize": 10},
            "data": [s["name"] for s in series[2:]],
        },
        "grid": [
            {"left": 56, "right": "22%", "top": HEATMAP_TOP, "height": "56%"},
            {"left": "80%", "right": 8, "top": HEATMAP_TOP, "height": "56%"},
            {"left": 56, "right": "22%", "top": "72%", "height": "15%"},
        ],
        "xAxis": [{}, {"name": ""}, {"axisLabel": {"interval": max(0, window.columns // 2 - 1), "fontSize": 10}}],
        "yAxis": [{"name": ""}, {}, {"name": "", "axisLabel": {"fontSize": 10}}, {"show": False}],
        "visualMap": [{"right": 8, "itemHeight": 110, "text": [f"{usd(scale_top)}+", "$0"]}],
        "dataZoom": [{}, {"left": 2, "width": 10, "height": "56%"}],
    }


# ECharts' own defaults of what the narrow layout sets and the wide option leaves unsaid.
_ECHARTS_DEFAULTS = {
    "legend": {"type": "plain", "right": "auto", "itemGap": 10, "itemWidth": 25, "textStyle": {"fontSize": 12}},
    "xAxis": [{}, {}, {"axisLabel": {"fontSize": 12}}],
    "yAxis": [{}, {}, {"axisLabel": {"fontSize": 12}}, {"show": True}],
}


def _wide_option(option: dict, narrow: dict) -> dict:
    """The wide layout again, as a media item without a query (ECharts applies it when no query matches).

    ECharts merges a matching media rule into the chart but does not undo it when the rule stops
    matching: only a query-less item is applied then. Without it a chart that was once narrow (a phone
    turned, a window resized) kept the phone layout after widening again. So this states, for every
    property the narrow rule sets, its value in the wide option (or ECharts' default).
    """
    return _same_paths(narrow, option, _ECHARTS_DEFAULTS)


def _same_paths(shape, source, default):
    """``shape``'s keys and list positions, with the values ``source`` (else ``default``) has there."""
    if isinstance(shape, dict):
        return {key: _same_paths(value, _child(source, key), _child(default, key)) for key, value in shape.items()}
    if isinstance(shape, list) and any(isinstance(item, dict) for item in shape):
        return [_same_paths(item, _child(source, index), _child(default, index)) for index, item in enumerate(shape)]
    return source if source is not None else default


def _child(node, key):
    if isinstance(node, dict):
        return node.get(key)
    if isinstance(node, list) and isinstance(key, int) and key < len(node):
        return node[key]
    return None


def _category_axis(data: list[str], *, grid: int, show_labels: bool, labels_shown: int = 10) -> dict:
    # A fixed label interval: ECharts' automatic one lets a few hundred
    # labels overlap on a category axis.
    return {
        "type": "category",
        "gridIndex": grid,
        "data": data,
        "boundaryGap": True,
        "axisTick": {"show": False},
        "axisLine": {"lineStyle": {"color": LINE_COLOUR}},
        "axisLabel": {
            "show": show_labels,
            "color": TEXT_COLOUR,
            "interval": max(0, len(data) // labels_shown - 1),
            "hideOverlap": True,
        },
        "splitLine": {"show": False},
    }


def _heatmap_series(window: HeatmapWindow) -> dict:
    # One data item per time column (heatmap.js fills in the indexes and the
    # renderItem that draws the column from the painted bitmap).
    return {
        "name": "Pending liquidations (estimate)",
        "type": "custom",
        "renderItem": "heatmapColumn",
        "xAxisIndex": 0,
        "yAxisIndex": 0,
        "encode": {"x": 0},
        "clip": True,
        "data": [],
    }


def heatmap_cells(window: HeatmapWindow) -> dict:
    """USD per cell at 3 significant figures, column after column, packed (see ``CELL_ENCODING``).

    Cells under half a dollar are empty. Coding the rounded values rather than
    the float32 values keeps the tooltip's figure exact; differencing each
    row along time before deflating lets the long, steady bands compress to
    almost nothing.
    """
    codes = _cell_codes(window.pending)
    deltas = np.diff(codes.astype(np.int32), axis=0, prepend=0).astype("<u2")  # modulo 2**16, undone by a running sum
    packed = base64.b64encode(zlib.compress(deltas.tobytes(), 6)).decode("ascii")
    return {"columns": window.columns, "rows": window.rows, "encoding": CELL_ENCODING, "data": packed}


def decode_cells(cells: dict) -> np.ndarray:
    """The USD matrix (columns × rows) of a ``heatmap_cells`` block; what heatmap.js draws."""
    if cells.get("encoding") != CELL_ENCODING:
        raise ValueError(f"unknown cell encoding {cells.get('encoding')!r}")
    columns, rows = int(cells["columns"]), int(cells["rows"])
    deltas = np.frombuffer(zlib.decompress(base64.b64decode(cells["data"])), dtype="<u2").reshape(columns, rows)
    codes = np.cumsum(deltas.astype(np.uint32), axis=0) % 2**16
    index = codes.astype(np.int64) - 1
    values = (index % _MANTISSAS + 100) * 10.0 ** (index // _MANTISSAS + _LOWEST_EXPONENT)
    return np.where(codes > 0, values, 0.0)


def _cell_codes(pending: np.ndarray) -> np.ndarray:
    values = np.asarray(pending, dtype=np.float64)
    shown = np.isfinite(values) & (values >= 0.5)
    values = np.where(shown, np.maximum(values, 1.0), 1.0)
    exponent = np.floor(np.log10(values)) - 2
    mantissa = np.rint(values / 10.0**exponent)
    carry = mantissa >= 1000  # 999.6 rounds up into the next power of ten
    mantissa[carry] = 100
    exponent[carry] += 1
    codes = (exponent - _LOWEST_EXPONENT) * _MANTISSAS + (mantissa - 100) + 1
    return np.where(shown, np.minimum(codes, 2**16 - 1), 0).astype(np.uint16)


def _candle_series(window: HeatmapWindow) -> dict:
    price_line = _price_line(window)
    if not window.has_ohlc:
        return {
            "name": "Close",
            "type": "line",
            "xAxisIndex": 0,
            "yAxisIndex": 0,
            "showSymbol": False,
            "lineStyle": {"color": "#ffffff", "width": 1.2},
            "data": _finite_list(_round_sig(window.close, 6)),
        } | price_line
    prices = [_round_sig(getattr(window, name), 6) for name in ("open", "close", "low", "high")]  # ECharts' order
    data = [values if all(math.isfinite(v) for v in values) else "-" for values in np.column_stack(prices).tolist()]
    return {
        "name": "Candles",
        "type": "candlestick",
        "xAxisIndex": 0,
        "yAxisIndex": 0,
        "data": data,
        "itemStyle": {"color": "#f4f4f4", "color0": "#111318", "borderColor": "#f4f4f4", "borderColor0": "#c9ccd3"},
        "barMaxWidth": 8,
    } | price_line


def _price_line(window: HeatmapWindow) -> dict:
    """The latest close as a dashed line across the map, its value in a tag on the price axis."""
    closes = window.close[np.isfinite(window.close)]
    if not len(closes):
        return {}
    last = float(_round_sig(closes[-1], 6))
    return {
        "markLine": {
            "silent": True,
            "symbol": ["none", "none"],
            "animation": False,
            "lineStyle": {"color": PRICE_LINE_COLOUR, "type": "dashed", "width": 1},
            "label": {
                "position": "start",
                "formatter": _price_text(last),
                "color": "#111318",
                "backgroundColor": PRICE_LINE_COLOUR,
                "borderRadius": 2,
            }
            | TAG_TEXT,
            "data": [{"name": "last price", "yAxis": last}],
        }
    }


def _profile_series(window: HeatmapWindow) -> list[dict]:
    # One bar per price row, drawn by heatmap.js between the row's price
    # edges: [row, from USD, to USD, low price, high price]; shorts stack after longs.
    edges = _round_sig(window.edges, 6)
    longs = _round_sig(window.profile_long.astype(np.float64), 3)
    shorts = _round_sig(window.profile_short.astype(np.float64), 3)
    common = {
        "type": "custom",
        "renderItem": "profileBar",
        "xAxisIndex": 1,
        "yAxisIndex": 1,
        "encode": {"x": [1, 2], "y": [3, 4]},
        "clip": True,
    }
    return [
        common
        | {"name": "Longs pending now", "itemStyle": {"color": LONG_COLOUR}, "data": _rows(edges, np.zeros_like(longs), longs)},
        common
        | {"name": "Shorts pending now", "itemStyle": {"color": SHORT_COLOUR}, "data": _rows(edges, longs, longs + shorts)},
    ]


def _rows(edges: np.ndarray, start: np.ndarray, end: np.ndarray) -> list[list]:
    return [
        [row, _json_number(a), _json_number(b), _json_number(lo), _json_number(hi)]
        for row, (a, b, lo, hi) in enumerate(zip(start.tolist(), end.tolist(), edges[:-1].tolist(), edges[1:].tolist()))
        if b > a
    ]


def _lower_series(window: HeatmapWindow) -> list[dict]:
    series = [
        {
            "name": "Open interest",
            "type": "line",
            "xAxisIndex": 2,
            "yAxisIndex": 2,
            "showSymbol": False,
            "lineStyle": {"color": "#f5c542", "width": 1.2},
            "itemStyle": {"color": "#f5c542"},
            "data": _finite_list(_round_sig(window.open_interest, 5)),
        }
    ]
    measured = np.isfinite(window.measured_long) & np.isfinite(window.measured_short)
    bars = {"type": "bar", "xAxisIndex": 2, "yAxisIndex": 3, "barCategoryGap": "20%"}
    estimate_long = np.where(measured, np.nan, -window.realized_long)
    estimate_short = np.where(measured, np.nan, window.realized_short)
    series += [
        bars
        | {
            "name": "Longs liquidated (model estimate)",
            "stack": "estimate",
            "itemStyle": {"color": LONG_COLOUR, "opacity": 0.55},
            "data": _finite_list(_round_sig(estimate_long, 3)),
        },
        bars
        | {
            "name": "Shorts liquidated (model estimate)",
            "stack": "estimate",
            "itemStyle": {"color": SHORT_COLOUR, "opacity": 0.55},
            "data": _finite_list(_round_sig(estimate_short, 3)),
        },
    ]
    if measured.any():
        series += [
            bars
            | {
                "name": "Longs liquidated (measured)",
                "stack": "measured",
                "itemStyle": {"color": LONG_COLOUR},
                "data": _finite_list(_round_sig(np.where(measured, -window.measured_long, np.nan), 3)),
            },
            bars
            | {
                "name": "Shorts liquidated (measured)",
                "stack": "measured",
                "itemStyle": {"color": SHORT_COLOUR},
                "data": _finite_list(_round_sig(np.where(measured, window.measured_short, np.nan), 3)),
            },
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
    return [_json_number(value) if math.isfinite(value) else "-" for value in np.asarray(values).tolist()]


def _json_number(value: float) -> int | float:
    if value == int(value) and abs(value) < 2**53:
        return int(value)
    return float(f"{value:.10g}")


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


# -- where the bands come from (coin pages) ---------------------------------------
# Added to a finished payload rather than built into ``heatmap_option``, so the
# chart's own layout stays one function and the split is one optional step.

# Shades of the long and short colours, and line colours, one per exchange (in the split's order).
EXCHANGE_LONG_COLOURS = ["#ef5350", "#b71c1c", "#ff8a80", "#e57373"]
EXCHANGE_SHORT_COLOURS = ["#26a69a", "#00695c", "#80cbc4", "#4db6ac"]
EXCHANGE_LINE_COLOURS = ["#4fc3f7", "#ce93d8", "#ff8a65", "#aed581"]


def add_exchange_split(payload: dict, split) -> dict:
    """Split a coin chart by exchange: the profile stacked per exchange, one OI line each, tooltip numbers.

    ``split`` is a ``heatmaps.viewing.by_exchange.ExchangeSplit`` of the same
    window. The profile's two total series are replaced by one series per
    exchange and side (they add up to the same bars); ``meta.byExchange``
    carries each exchange's pending USD per row at the latest step for the
    tooltips of the profile and of the latest column.
    """
    option = payload["option"]
    profile_names = {"Longs pending now", "Shorts pending now"}
    series = [s for s in option["series"] if s.get("name") not in profile_names]
    # The same custom bars as the totals (heatmap.js draws them between each row's price edges),
    # one per exchange and side, stacked: longs of every exchange, then their shorts.
    edges = np.asarray(payload["meta"]["edges"], dtype=np.float64)
    common = {
        "type": "custom",
        "renderItem": "profileBar",
        "xAxisIndex": 1,
        "yAxisIndex": 1,
        "encode": {"x": [1, 2], "y": [3, 4]},
        "clip": True,
    }
    profile = []
    stacked = np.zeros(len(edges) - 1)
    for side, values, colours in (
        ("Longs", split.profile_long, EXCHANGE_LONG_COLOURS),
        ("Shorts", split.profile_short, EXCHANGE_SHORT_COLOURS),
    ):
        for index, label in enumerate(split.labels):
            top = stacked + _round_sig(np.asarray(values[index], dtype=np.float64), 3)
            profile.append(
                common
                | {
                    "name": f"{side} pending now · {label}",
                    "itemStyle": {"color": colours[index % len(colours)]},
                    "data": _rows(edges, stacked, top),
                }
            )
            stacked = top
    lines = [
        {
            "name": f"Open interest · {label}",
            "type": "line",
            "xAxisIndex": 2,
            "yAxisIndex": 2,
            "showSymbol": False,
            "lineStyle": {"color": EXCHANGE_LINE_COLOURS[index % len(EXCHANGE_LINE_COLOURS)], "width": 1, "type": "dashed"},
            "itemStyle": {"color": EXCHANGE_LINE_COLOURS[index % len(EXCHANGE_LINE_COLOURS)]},
            "data": _finite_list(_round_sig(split.open_interest[index], 5)),
        }
        for index, label in enumerate(split.labels)
    ]
    # Heatmap and candles stay the first two series (the visual map and heatmap.js rely on it).
    option["series"] = series[:2] + profile + series[2:] + lines
    legend = [name for name in option["legend"]["data"] if name not in profile_names]
    # The media items restate the legend's list (a media legend replaces the base one's): all of them change.
    for holder in [option] + [item["option"] for item in option.get("media", [])]:
        if "legend" in holder:
            holder["legend"]["data"] = legend + [line["name"] for line in lines]
    payload["meta"]["byExchange"] = {
        "labels": list(split.labels),
        "long": [_round_sig(row, 3).tolist() for row in split.profile_long],
        "short": [_round_sig(row, 3).tolist() for row in split.profile_short],
    }
    return payload
