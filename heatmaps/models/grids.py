"""Computed liquidation grids, stored so no page or alert ever recomputes.

One current snapshot per (market, interval, long-share method), or per
(coin, interval, method) for the aggregate across exchanges. A computation replaces it in one transaction only
when its inputs changed (``input_digest``), so re-running it for the same data
changes nothing and a failed run leaves the previous snapshot in place.
"""

from __future__ import annotations

import io

import numpy as np
from django.db import models
from django.db.models import Q

from liqsite.exchanges.intervals import INTERVAL_CHOICES

# Arrays kept in ``GridSnapshot.arrays`` (one compressed .npz blob):
#   times         int64 (T,)      open_time of each step, ms since the epoch (UTC)
#   bin_edges     float64 (B+1,)  ascending price edges
#   long_grid     float32 (T, B)  USD of pending long levels per bin after each step
#   short_grid    float32 (T, B)
#   realized_long, realized_short, pending_long, pending_short  float32 (T,)
#   open, high, low, close        float64 (T,)   the candles drawn over the grid (for a coin:
#                                                the first market with a step, as the engine picks)
#   open_interest                 float64 (T,)   base units (summed over a coin's markets)
#   layer_market_id int64 (P,), layer_leverage float64 (P,)   index of the parts kept in ``layers``
# and in ``GridSnapshot.layers`` (its own blob, read only by pages that filter):
#   layer_long_grid, layer_short_grid float32 (P, T, B); layer_realized_long, layer_realized_short float32 (P, T)
ARRAY_NAMES = (
    "times", "bin_edges", "long_grid", "short_grid", "realized_long", "realized_short",
    "pending_long", "pending_short", "close", "open_interest",
)
# Written by the compute task; readers fall back when a snapshot lacks them.
OPTIONAL_ARRAY_NAMES = ("open", "high", "low", "layer_market_id", "layer_leverage")
LAYER_NAMES = ("layer_long_grid", "layer_short_grid", "layer_realized_long", "layer_realized_short")


def pack_arrays(arrays: dict[str, np.ndarray]) -> bytes:
    missing = set(ARRAY_NAMES) - set(arrays)
    if missing:
        raise ValueError(f"grid arrays missing: {', '.join(sorted(missing))}")
    buffer = io.BytesIO()
    names = [*ARRAY_NAMES, *(name for name in OPTIONAL_ARRAY_NAMES if name in arrays)]
    np.savez_compressed(buffer, **{name: arrays[name] for name in names})
    return buffer.getvalue()


def pack_layers(layers: dict[str, np.ndarray]) -> bytes:
    missing = set(LAYER_NAMES) - set(layers)
    if missing:
        raise ValueError(f"grid layers missing: {', '.join(sorted(missing))}")
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **{name: layers[name] for name in LAYER_NAMES})
    return buffer.getvalue()


def unpack_arrays(blob: bytes) -> dict[str, np.ndarray]:
    with np.load(io.BytesIO(bytes(blob)), allow_pickle=False) as archive:
        return {name: archive[name] for name in archive.files}


class LongShareMethod(models.TextChoices):
    """Where the share of new positions that are long comes from (model page, "One step")."""

    FIXED = "fixed", "Fixed 50 / 50 (reference rules)"
    LONG_SHORT = "long_short", "Long/short account ratio"
    TAKER = "taker", "Taker buy / sell volume"


class GridSnapshot(models.Model):
    market = models.ForeignKey("heatmaps.Market", null=True, blank=True, on_delete=models.CASCADE, related_name="grids")
    coin = models.CharField(max_length=16, blank=True, help_text="Base asset, for the aggregate across exchanges.")
    interval = models.CharField(max_length=4, choices=INTERVAL_CHOICES)
    long_share_method = models.CharField(max_length=10, choices=LongShareMethod.choices, default=LongShareMethod.FIXED)
    computed_at = models.DateTimeField()
    input_digest = models.CharField(max_length=64, help_text="SHA-256 of the inputs and parameters.")
    start = models.DateTimeField(help_text="open_time of the first step.")
    end = models.DateTimeField(help_text="open_time of the last step.")
    steps = models.PositiveIntegerField()
    bins = models.PositiveIntegerField()
    params = models.JSONField(help_text="Model parameters and thresholds used.")
    analysis = models.JSONField(help_text="Bands, OI confirmation and squeeze summary at the last step (see heatmaps/analysis.py).")
    arrays = models.BinaryField(help_text="Compressed .npz of the grids and their axes.")
    # Kept apart from ``arrays`` so the default view never fetches them: only a
    # page that filters leverage buckets or exchanges reads the parts.
    layers = models.BinaryField(
        blank=True, default=b"",
        help_text="Compressed .npz of the per (market, leverage bucket) parts of the grids, empty when not stored.",
    )

    class Meta:
        ordering = ["market", "coin", "interval"]
        constraints = [
            models.UniqueConstraint(
                fields=["market", "interval", "long_share_method"], condition=Q(market__isnull=False), name="grid_unique_market_interval",
            ),
            models.UniqueConstraint(
                fields=["coin", "interval", "long_share_method"], condition=Q(market__isnull=True), name="grid_unique_coin_interval",
            ),
            models.CheckConstraint(
                condition=(Q(market__isnull=False) & Q(coin="")) | (Q(market__isnull=True) & ~Q(coin="")),
                name="grid_market_xor_coin",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.market or self.coin} {self.interval} grid ({self.steps}×{self.bins})"

    def load_arrays(self) -> dict[str, np.ndarray]:
        return unpack_arrays(self.arrays)
