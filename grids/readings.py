"""The four readings of a grid (``analysis["readings"]``): stored as JSON, stated in plain words.

Written with the rest of the analysis by the compute task (never on a
request); the heatmap page, the share page and alert emails read it and say
it with :func:`readings_sentences`. Shape::

    "readings": {
      "fakeout": {"up_pct": 3.1, "down_pct": 0.4, "thin_pct": 2.0},   # None: no dense bin that way on the map
      "volatility": {"pct": 2.0, "top_share": 0.1, "by_pct": {"2": {"usd": 4.1e7, "rank": 0.93, "top": true,
                     "since": "2026-06-26T12:00:00+00:00", "history_hours": 720.0}, ...}},
      "lean": {"pct": 2.0, "long_below": 3e7, "short_above": 1.2e7, "ratio": 2.5, "side": "long", "min_ratio": 1.5},
      "magnet": {"pct": 5.0, "band": {"price": ..., "low": ..., "high": ..., "usd": ..., "distance_pct": -1.8,
                 "side": "below"} | null},
      "settings": {...}                                               # ReadingSettings, as used
    }

``lean.ratio`` is heavier ÷ lighter; None when only one side has fuel
(``side`` still names it) or neither has.
"""

from __future__ import annotations

import math

import numpy as np

from liqengine import MapReadings
from liqsite.exchanges.http import from_ms
from liqsite.formatting import price, usd

READING_KEYS = ("fakeout", "volatility", "lean", "magnet")
READING_TITLES = {
    "fakeout": "Fakeout risk",
    "volatility": "Volatility ahead",
    "lean": "Squeeze lean",
    "magnet": "Magnet",
}


def _finite(x: float) -> float | None:
    return round(float(x), 3) if math.isfinite(x) else None


def readings_to_json(readings: MapReadings, times: np.ndarray) -> dict:
    """JSON-ready readings of the last row (``times``: the grid's row open times, ms)."""
    s = readings.settings
    by_pct = {}
    for pct, p in readings.pressure.items():
        by_pct[f"{pct:g}"] = {
            "usd": p["usd"],
            "rank": None if p["rank"] is None else round(p["rank"], 4),
            "top": p["top"],
            "since": None if p["since_row"] is None else from_ms(int(times[p["since_row"]])).isoformat(),
            "history_hours": round(p["history_hours"], 2),
            "history_rows": p["history_rows"],
        }
    band = readings.magnet
    ratio = readings.lean_ratio
    return {
        "fakeout": {"up_pct": _finite(readings.thin_up_pct), "down_pct": _finite(readings.thin_down_pct), "thin_pct": s.thin_pct},
        "volatility": {"pct": s.pressure_pct, "top_share": s.top_share, "by_pct": by_pct},
        "lean": {
            "pct": s.lean_pct,
            "long_below": readings.long_below,
            "short_above": readings.short_above,
            "ratio": None if ratio is None or not math.isfinite(ratio) else round(ratio, 3),
            "side": readings.lean if readings.lean != "none" else "none",
            "min_ratio": s.lean_ratio,
        },
        "magnet": {
            "pct": s.magnet_pct,
            "band": None
            if band is None
            else {
                "price": band["price"],
                "low": band["price_low"],
                "high": band["price_high"],
                "usd": band["value"],
                "distance_pct": round(band["distance_pct"], 3),
                "side": band["side"],
            },
        },
        "settings": s.to_dict(),
    }


def _signed(x: float) -> str:
    return f"{'−' if x < 0 else '+'}{abs(x):.1f} %"


def _fakeout_side(name: str, move: str, distance, thin_pct: float) -> str:
    if distance is None:
        return f"{name} price: thin (no dense cluster on the map) — a breakout {move} has little fuel (fakeout risk)"
    if distance >= thin_pct:
        return f"{name} price: thin for {distance:.1f} % — a breakout {move} has little fuel (fakeout risk)"
    return f"{name} price: a dense cluster {distance:.1f} % away — a breakout {move} has fuel to follow through"


def _volatility(v: dict) -> str:
    pct = v.get("pct", 2.0)
    p = (v.get("by_pct") or {}).get(f"{pct:g}")
    if not p:
        return ""
    days = p.get("history_hours", 0) / 24
    span = f"the last {days:.0f} days" if days >= 1.5 else f"the last {p.get('history_hours', 0):.0f} hours"
    if p.get("rank") is None:
        return f"Pressure within ±{pct:g} %: {usd(p['usd'])}, not enough history yet to rank it"
    top = round(100 * v.get("top_share", 0.1))
    if p.get("top"):
        return f"Pressure within ±{pct:g} %: high (top {top} % of {span}) — expect fast moves"
    rank = _ordinal(round(100 * p["rank"]))
    if p["rank"] <= 0.25:
        return f"Pressure within ±{pct:g} %: low ({rank} percentile of {span}) — a calmer path"
    return f"Pressure within ±{pct:g} %: moderate ({rank} percentile of {span})"


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _lean(v: dict) -> str:
    pct = v.get("pct", 2.0)
    long_below, short_above = v.get("long_below") or 0, v.get("short_above") or 0
    side, ratio = v.get("side"), v.get("ratio")
    if not long_below and not short_above:
        return f"No long or short fuel within {pct:g} % of price: no lean"
    if side == "long":
        how = f"outweighs short fuel above {ratio:.1f} : 1" if ratio else "with no short fuel above"
        return f"Long fuel below ({usd(long_below)}) {how} (within {pct:g} %) — long-squeeze risk: leans down"
    if side == "short":
        how = f"outweighs long fuel below {ratio:.1f} : 1" if ratio else "with no long fuel below"
        return f"Short fuel above ({usd(short_above)}) {how} (within {pct:g} %) — short-squeeze risk: leans up"
    return (
        f"Long fuel below ({usd(long_below)}) and short fuel above ({usd(short_above)}) within {pct:g} % "
        f"are within {v.get('min_ratio', 1.5):g} : 1 — no lean"
    )


def _magnet(v: dict) -> str:
    band = v.get("band")
    if not band:
        return f"No big band within ±{v.get('pct', 5.0):g} % of price"
    return f"Nearest big band: {price(band['price'])} ({_signed(band['distance_pct'])}), {usd(band['usd'])}"


def readings_sentences(analysis: dict | None) -> list[dict]:
    """The readings in plain words: ``[{"key", "title", "text"}]``, empty when the analysis has none.

    Tolerates a missing or malformed part (an older snapshot): that reading is left out.
    """
    readings = analysis.get("readings") if isinstance(analysis, dict) else None
    if not isinstance(readings, dict):
        return []
    out = []
    for key in READING_KEYS:
        part = readings.get(key)
        if not isinstance(part, dict):
            continue
        try:
            if key == "fakeout":
                text = "; ".join(
                    [
                        _fakeout_side("Above", "up", part.get("up_pct"), part.get("thin_pct", 2.0)),
                        _fakeout_side("below", "down", part.get("down_pct"), part.get("thin_pct", 2.0)),
                    ]
                )
            else:
                text = {"volatility": _volatility, "lean": _lean, "magnet": _magnet}[key](part)
        except (KeyError, TypeError, ValueError):
            continue
        if text:
            out.append({"key": key, "title": READING_TITLES[key], "text": text})
    return out
