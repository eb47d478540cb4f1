"""The stored reading of a grid (``GridSnapshot.analysis``) and how to query it.

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
      }
    }

A band's *episode* is identified by (side, since): it starts when the band
first stands over its range and lasts while consecutive rows keep a band
overlapping that range, so alerts can fire once per episode.
"""

from __future__ import annotations

from heatmaps.models import GridSnapshot, LongShareMethod, Market
from liqsite.exchanges import INTERVAL_SECONDS

VERDICTS = ("strong build-up", "build-up, not accelerating", "cool-down", "unconfirmed")
TRENDS = ("brightening", "steady", "fading", "unknown")
OI_TRENDS = ("rising", "flat", "falling", "unknown")


def current_snapshot(*, market: Market | None = None, coin: str = "", interval: str = "") -> GridSnapshot | None:
    """The grid a market (or a coin's aggregate) shows by default, without its arrays.

    ``interval`` empty means the finest stored interval. Each long-share method
    is its own snapshot; the reference method (fixed 50/50, the heatmap page's
    default) is preferred, then any other, so readers never get an arbitrary one.
    """
    snapshots = GridSnapshot.objects.defer("arrays", "layers")
    snapshots = snapshots.filter(market=market) if market is not None else snapshots.filter(market__isnull=True, coin=coin)
    if interval:
        snapshots = snapshots.filter(interval=interval)
    return min(
        snapshots,
        key=lambda s: (INTERVAL_SECONDS.get(s.interval, 1 << 40), s.long_share_method != LongShareMethod.FIXED, s.long_share_method),
        default=None,
    )


def largest_band(analysis: dict, side: str) -> dict | None:
    """The band of most USD on one side ("above" or "below"), or None."""
    bands = [band for band in analysis.get("bands", ()) if band["side"] == side]
    return max(bands, key=lambda band: band["usd"], default=None)
