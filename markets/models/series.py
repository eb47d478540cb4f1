"""Market snapshots: one row per market, interval and step time.

The unique constraint on (market, interval, time) is what makes every ingest
an upsert: a step fetched twice is one row.
"""

from __future__ import annotations

from django.db import models

from liqsite.exchanges.intervals import INTERVAL_CHOICES


class SeriesRow(models.Model):
    """A row of a per-interval series (candles, open interest, long/short)."""

    market = models.ForeignKey("markets.Market", on_delete=models.CASCADE, related_name="+")
    interval = models.CharField(max_length=4, choices=INTERVAL_CHOICES)
    time = models.DateTimeField(help_text="UTC; the start of the step for candles, the reading time otherwise.")

    class Meta:
        abstract = True
        ordering = ["market", "interval", "time"]
        constraints = [
            models.UniqueConstraint(fields=["market", "interval", "time"], name="%(class)s_unique_step"),
        ]


class Candle(SeriesRow):
    open = models.FloatField()
    high = models.FloatField()
    low = models.FloatField()
    close = models.FloatField()
    volume = models.FloatField(help_text="Base-asset units.")
    taker_buy_volume = models.FloatField(null=True, blank=True, help_text="Base units bought by takers, when offered.")

    class Meta(SeriesRow.Meta):
        # The table kept its name when the model moved from the heatmaps app (no data moved).
        db_table = "heatmaps_candle"


class OpenInterest(SeriesRow):
    open_interest = models.FloatField(help_text="Base-asset units.")
    open_interest_usd = models.FloatField(null=True, blank=True)

    class Meta(SeriesRow.Meta):
        # The table kept its name when the model moved from the heatmaps app (no data moved).
        db_table = "heatmaps_openinterest"
        verbose_name = "open interest reading"


class FundingRate(models.Model):
    """A settled funding rate. Funding has its own cadence (8h, sometimes 4h or 1h), not the candles'."""

    market = models.ForeignKey("markets.Market", on_delete=models.CASCADE, related_name="+")
    time = models.DateTimeField()
    rate = models.FloatField(help_text="Fraction per funding interval (0.0001 = 0.01 %).")

    class Meta:
        # The table kept its name when the model moved from the heatmaps app (no data moved).
        db_table = "heatmaps_fundingrate"
        ordering = ["market", "time"]
        constraints = [models.UniqueConstraint(fields=["market", "time"], name="fundingrate_unique_time")]


class LongShortRatio(SeriesRow):
    long_share = models.FloatField(help_text="Share of accounts that are long, in [0, 1].")

    class Meta(SeriesRow.Meta):
        # The table kept its name when the model moved from the heatmaps app (no data moved).
        db_table = "heatmaps_longshortratio"
        verbose_name = "long/short ratio"
