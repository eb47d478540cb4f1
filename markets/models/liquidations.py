"""Real liquidations: from the exchanges' public streams, or imported from a file, and when they are known.

A stream only tells us about liquidations while we are connected, so every
connection is recorded too: the time between connections is a gap in
coverage, shown as such rather than read as "no liquidations". An imported
file of single liquidations covers the span it declares
(``LiquidationImport``); an imported file of per-step totals
(``LiquidationTotal``) is a measurement of each step it has a row for.
"""

from __future__ import annotations

from django.db import models

from markets.models.series import SeriesRow


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


class LiquidationImport(models.Model):
    """A file of single liquidations imported for one market, and the span it covers.

    Liquidations between ``start`` and ``end`` are all in the file (the
    operator says so by importing it), so a step inside the span with no
    record is a measured zero, as a step the collector listened to is.
    """

    market = models.ForeignKey("markets.Market", on_delete=models.CASCADE, related_name="liquidation_imports")
    start = models.DateTimeField()
    end = models.DateTimeField(help_text="Exclusive: the span covered is [start, end).")
    records = models.PositiveIntegerField(help_text="Rows in the file.")
    source = models.CharField(max_length=200, help_text="The file's name.")
    imported_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["market", "start"]
        indexes = [models.Index(fields=["market", "start"])]

    def __str__(self) -> str:
        return f"{self.source}: liquidations of {self.market} {self.start:%Y-%m-%d %H:%M} → {self.end:%Y-%m-%d %H:%M}"


class LiquidationTotal(SeriesRow):
    """The USD really liquidated in one step, per side, as imported (an export of another collector or a data vendor).

    A row is a measurement of the whole step: 0 is a quiet step, not a missing one.
    """

    long_usd = models.FloatField(help_text="USD of long positions liquidated in the step.")
    short_usd = models.FloatField(help_text="USD of short positions liquidated in the step.")

    class Meta(SeriesRow.Meta):
        verbose_name = "liquidation total"
