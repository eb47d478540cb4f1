"""The stored analysis of a grid (``GridSnapshot.analysis``): how it is written and how to query it.

The compute task writes this JSON once per computation; pages, watchlists and
alert evaluation only read it. Its shape is the contract between them::

    {
      "as_of": "2026-06-26T14:00:00+00:00",   # open_time of the last step
      "close": 142.31,                         # close of the last step
      "interval": "15m",
      "oi": {"now": 1.2e6, "trend": "rising", "change_pct": 2.4, "hours": 4},  # base units
      "thresholds": {...},                      # every threshold used, to show beside tables
      "bands": [                                # current bands at the last step, largest first
        {
          "side": "above" | "below",
          "low": 145.0, "high": 147.2,          # price range (bin edges)
          "price": 146.1,                       # value-weighted mean price
          "usd": 3.1e6,
          "distance_pct": 2.66,                 # (price - close) / close × 100, signed
          "trend": "brightening" | "steady" | "fading" | "unknown",  # unknown: no row H hours earlier
          "change_pct": 14.2,                   # band value vs the same range H hours earlier
          "oi_trend": "rising" | "flat" | "falling" | "unknown",
          "verdict": "strong build-up" | "build-up, not accelerating" | "cool-down" | "unconfirmed",
          "persistence_hours": 6.5,
          "since": "2026-06-26T07:30:00+00:00", # first row of the band's current episode
          "spike": false                        # younger than the spike threshold (1 h)
        }
      ],
      "squeeze": {
        "down": {"1": usd, "2": usd, "5": usd, "10": usd},   # long liquidations if price falls X %
        "up":   {"1": usd, "2": usd, "5": usd, "10": usd},   # short liquidations if price rises X %
        "heavier": "long" | "short" | "balanced",          # at the widest move (10 %)
        "by_pct": {"1": "long" | "short" | "even", ...}
      },
      "readings": {...}                      # the four readings, see grids/readings.py
    }

A band's *episode* is identified by (side, since): it starts when the band
first stands over its range and lasts while consecutive rows keep a band
overlapping that range, so alerts can fire once per episode.
"""

from __future__ import annotations

import numpy as np

from grids.models import GridSnapshot, LongShareMethod
from grids.readings import readings_to_json
from grids.targets import Target
from liqengine import MapAnalysis, MapReadings, SqueezeSummary
from liqsite.exchanges import INTERVAL_SECONDS
from liqsite.exchanges.http import from_ms

# The engine's verdict keys in the words the model page uses (and alerts match on).
VERDICT_WORDS = {
    "strong_build_up": "strong build-up",
    "build_up_not_accelerating": "build-up, not accelerating",
    "cool_down": "cool-down",
    "unconfirmed": "unconfirmed",
}
MAX_BANDS = 25  # the largest bands are kept; the rest are noise next to them


def _iso(ms: int) -> str:
    return from_ms(ms).isoformat()


def _pct(value: float | None) -> float | None:
    return None if value is None else round(float(value), 3)


def analysis_to_json(
    map_analysis: MapAnalysis,
    squeeze: SqueezeSummary,
    times: np.ndarray,
    interval: str,
    readings: MapReadings | None = None,
) -> dict:
    """JSON-ready analysis of the last row of a stored grid (with the four readings when given)."""
    close = map_analysis.close
    bands = []
    for band in sorted(map_analysis.bands, key=lambda b: -b.value)[:MAX_BANDS]:
        first_row = map_analysis.row - band.persistence_rows + 1
        bands.append(
            {
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
            }
        )
    levels = squeeze.levels
    down = {f"{level.pct:g}": level.long_usd for level in levels}
    up = {f"{level.pct:g}": level.short_usd for level in levels}
    widest = levels[-1]
    out = {
        "as_of": _iso(times[map_analysis.row]),
        "close": close,
        "interval": interval,
        "oi": {
            "now": map_analysis.open_interest,
            "trend": map_analysis.oi_trend,
            "change_pct": _pct(map_analysis.oi_change_pct),
            "hours": map_analysis.settings.lookback_hours,
        },
        "thresholds": {**map_analysis.settings.to_dict(), "band_threshold_usd": map_analysis.threshold},
        "bands": bands,
        "squeeze": {
            "down": down,
            "up": up,
            # Judged on the widest move; each move's own balance is in "by_pct".
            "heavier": {"long": "long", "short": "short"}.get(widest.heavier, "balanced"),
            "by_pct": {f"{level.pct:g}": level.heavier for level in levels},
        },
    }
    if readings is not None:
        out["readings"] = readings_to_json(readings, times)  # shape: grids/readings.py
    return out


def current_snapshot(target: Target, *, interval: str = "") -> GridSnapshot | None:
    """The grid a market (or a coin's aggregate) shows by default, without its arrays.

    ``interval`` empty means the finest stored interval. Each long-share method
    is its own snapshot; the reference method (fixed 50/50, the heatmap page's
    default) is preferred, then any other, so readers never get an arbitrary one.
    """
    snapshots = GridSnapshot.objects.defer("arrays", "layers").filter(**target.lookup())
    if interval:
        snapshots = snapshots.filter(interval=interval)
    return min(
        snapshots,
        key=lambda s: (
            INTERVAL_SECONDS.get(s.interval, 1 << 40),
            s.long_share_method != LongShareMethod.FIXED,
            s.long_share_method,
        ),
        default=None,
    )


def largest_band(analysis: dict, side: str) -> dict | None:
    """The band of most USD on one side ("above" or "below"), or None."""
    bands = [band for band in analysis.get("bands", ()) if band["side"] == side]
    return max(bands, key=lambda band: band["usd"], default=None)
