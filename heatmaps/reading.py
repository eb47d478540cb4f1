"""The engine's reading of a grid → the stored ``analysis`` JSON (see heatmaps/analysis.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from heatmaps.engine import MapReading, SqueezeSummary

# The engine's verdict keys in the words the model page uses (and alerts match on).
VERDICT_WORDS = {
    "strong_build_up": "strong build-up",
    "build_up_not_accelerating": "build-up, not accelerating",
    "cool_down": "cool-down",
    "unconfirmed": "unconfirmed",
}
MAX_BANDS = 25  # the largest bands are kept; the rest are noise next to them


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(int(ms) / 1000, tz=UTC).isoformat()


def _pct(value: float | None) -> float | None:
    return None if value is None else round(float(value), 3)


def analysis_from_reading(reading: MapReading, squeeze: SqueezeSummary, times: np.ndarray, interval: str) -> dict:
    """JSON-ready analysis of the last row of a stored grid."""
    close = reading.close
    bands = []
    for band in sorted(reading.bands, key=lambda b: -b.value)[:MAX_BANDS]:
        first_row = reading.row - band.persistence_rows + 1
        bands.append({
            "side": band.side,
            "low": band.price_low,
            "high": band.price_high,
            "price": band.price,
            "usd": band.value,
            "distance_pct": round((band.price - close) / close * 100, 3),
            "trend": band.brightness,
            "change_pct": _pct(band.change_pct),
            "oi_trend": band.oi_trend,
            "verdict": VERDICT_WORDS[band.verdict],
            "persistence_hours": round(band.persistence_seconds / 3600, 3),
            "since": _iso(times[first_row]),
            "spike": band.is_spike,
        })
    levels = squeeze.levels
    down = {f"{level.pct:g}": level.long_usd for level in levels}
    up = {f"{level.pct:g}": level.short_usd for level in levels}
    widest = levels[-1]
    return {
        "as_of": _iso(times[reading.row]),
        "close": close,
        "interval": interval,
        "oi": {
            "now": reading.open_interest,
            "trend": reading.oi_trend,
            "change_pct": _pct(reading.oi_change_pct),
            "hours": reading.settings.lookback_hours,
        },
        "thresholds": {**reading.settings.to_dict(), "band_threshold_usd": reading.threshold},
        "bands": bands,
        "squeeze": {
            "down": down,
            "up": up,
            # Judged on the widest move; each move's own balance is in "by_pct".
            "heavier": {"long": "long", "short": "short"}.get(widest.heavier, "balanced"),
            "by_pct": {f"{level.pct:g}": level.heavier for level in levels},
        },
    }
