"""Real liquidations from the exchanges' public streams, and when we were listening.

A stream only tells us about liquidations while we are connected, so every
connection is recorded too: the time between connections is a gap in
coverage, shown as such rather than read as "no liquidations".
"""

from __future__ import annotations

from django.db import models


class Liquidation(models.Model):
    """One forced close reported by an exchange's public liquidation stream."""

    class Side(models.TextChoices):
        LONG = "long", "Long liquidated"
        SHORT = "short", "Short liquidated"

    market = models.ForeignKey("markets.Market", on_delete=models.CASCADE, related_name="liquidations")
    time = models.DateTimeField()
    side = models.CharField(max_length=5, choices=Side.choices)
    price = models.FloatField()
    quantity = models.FloatField(help_text="Base-asset units.")
    usd = models.FloatField()

    class Meta:
        # The table kept its name when the model moved from the heatmaps app (no data moved).
        db_table = "heatmaps_liquidation"
        ordering = ["market", "time"]
        constraints = [
            # Streams resend and reconnects overlap; the same event is one row.
            models.UniqueConstraint(fields=["market", "time", "side", "price", "quantity"], name="liquidation_unique_event"),
        ]
        indexes = [models.Index(fields=["market", "time"])]


class LiquidationCoverage(models.Model):
    """One connection of the liquidation collector to one exchange's stream."""

    exchange = models.ForeignKey("markets.Exchange", on_delete=models.CASCADE, related_name="liquidation_coverage")
    stream = models.CharField(max_length=100, help_text="The subscribed stream or topic, e.g. !forceOrder@arr.")
    connected_at = models.DateTimeField()
    last_message_at = models.DateTimeField(null=True, blank=True)
    disconnected_at = models.DateTimeField(null=True, blank=True, help_text="Empty while connected.")
    reason = models.TextField(blank=True, help_text="Why the connection ended.")

    class Meta:
        # The table kept its name when the model moved from the heatmaps app (no data moved).
        db_table = "heatmaps_liquidationcoverage"
        ordering = ["exchange", "connected_at"]
        indexes = [models.Index(fields=["exchange", "connected_at"])]
