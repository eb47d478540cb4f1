"""Computed liquidation grids, stored so no page or alert ever recomputes.

One current snapshot per (market, interval, long-share method), or per
(coin, interval, method) for the aggregate across exchanges. A computation replaces it in one transaction only
when its inputs changed (``input_digest``), so re-running it for the same data
changes nothing and a failed run leaves the previous snapshot in place.
"""

from __future__ import annotations

import numpy as np
from django.db import models
from django.db.models import Q

from grids.codec import unpack
from grids.targets import TargetFields
from liqsite.exchanges.intervals import INTERVAL_CHOICES


class LongShareMethod(models.TextChoices):
    """Where the share of new positions that are long comes from (model page, "One step")."""

    FIXED = "fixed", "Fixed 50 / 50 (reference rules)"
    LONG_SHORT = "long_short", "Long/short account ratio"
    TAKER = "taker", "Taker buy / sell volume"


class GridSnapshot(TargetFields):
    interval = models.CharField(max_length=4, choices=INTERVAL_CHOICES)
    long_share_method = models.CharField(max_length=10, choices=LongShareMethod.choices, default=LongShareMethod.FIXED)
    computed_at = models.DateTimeField()
    input_digest = models.CharField(max_length=64, help_text="SHA-256 of the inputs and parameters.")
    start = models.DateTimeField(help_text="open_time of the first step.")
    end = models.DateTimeField(help_text="open_time of the last step.")
    steps = models.PositiveIntegerField()
    bins = models.PositiveIntegerField()
    params = models.JSONField(help_text="Model parameters and thresholds used.")
    analysis = models.JSONField(
        help_text="Bands, OI confirmation and squeeze summary at the last step (see heatmaps/analysis.py)."
    )
    arrays = models.BinaryField(help_text="Compressed .npz of the grids and their axes.")
    # Kept apart from ``arrays`` so the default view never fetches them: only a
    # page that filters leverage buckets or exchanges reads the parts.
    layers = models.BinaryField(
        blank=True,
        default=b"",
        help_text="Compressed .npz of the per (market, leverage bucket) parts of the grids, empty when not stored.",
    )

    class Meta:
        # The table kept its name when the model moved from the heatmaps app (no data moved).
        db_table = "heatmaps_gridsnapshot"
        ordering = ["market", "coin", "interval"]
        # A computation looks for a snapshot with the same digest to copy (a coin of one market).
        indexes = [models.Index(fields=["input_digest"], name="grid_input_digest")]
        constraints = [
            models.UniqueConstraint(
                fields=["market", "interval", "long_share_method"],
                condition=Q(market__isnull=False),
                name="grid_unique_market_interval",
            ),
            models.UniqueConstraint(
                fields=["coin", "interval", "long_share_method"],
                condition=Q(market__isnull=True),
                name="grid_unique_coin_interval",
            ),
            TargetFields.market_xor_coin("grid_market_xor_coin"),
        ]

    def __str__(self) -> str:
        return f"{self.market or self.coin} {self.interval} grid ({self.steps}×{self.bins})"

    def load_arrays(self) -> dict[str, np.ndarray]:
        return unpack(self.arrays)
