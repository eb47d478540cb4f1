"""Accuracy reports: how well a market's map matched what really happened.

Written by the backtest task (``accuracy/service.py``), one current
report per (market, interval), replaced in one transaction; the accuracy pages
only read them, never compute.
"""

from __future__ import annotations

from django.db import models

from liqsite.exchanges.intervals import INTERVAL_CHOICES


class AccuracyReport(models.Model):
    market = models.ForeignKey("markets.Market", on_delete=models.CASCADE, related_name="accuracy_reports")
    interval = models.CharField(max_length=4, choices=INTERVAL_CHOICES)
    computed_at = models.DateTimeField()
    period_start = models.DateTimeField(help_text="open_time of the first step replayed.")
    period_end = models.DateTimeField(help_text="End of the last step replayed.")
    split_at = models.DateTimeField(help_text="Steps from here on are held out: scored, never fitted on.")
    held_out_steps = models.PositiveIntegerField()
    variant = models.CharField(max_length=32, help_text="The model variant the site's grids use.")
    best_variant = models.CharField(
        max_length=32,
        blank=True,
        help_text="A variant that beat the reference and both baselines on this market's held-out steps, if any.",
    )
    results = models.JSONField(help_text="Scores of every variant and baseline, the data used and the verdicts.")

    class Meta:
        # The table kept its name when the model moved from the heatmaps app (no data moved).
        db_table = "heatmaps_accuracyreport"
        ordering = ["market", "interval"]
        constraints = [models.UniqueConstraint(fields=["market", "interval"], name="accuracy_unique_market_interval")]

    def __str__(self) -> str:
        return f"accuracy of {self.market} at {self.interval}"


class ReadingsReport(models.Model):
    """How often each of the four map readings came true on one market (``accuracy/readings_backtest.py``).

    Written by the backtest (command and task) beside the ``AccuracyReport``; the
    heatmap page shows each reading's held-out hit rate from here, never computing it.
    """

    market = models.ForeignKey("markets.Market", on_delete=models.CASCADE, related_name="readings_reports")
    interval = models.CharField(max_length=4, choices=INTERVAL_CHOICES)
    computed_at = models.DateTimeField()
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    split_at = models.DateTimeField(help_text="Events from here on are held out: scored, never fitted on.")
    results = models.JSONField(help_text="Per reading: its hit rate, its baseline, the parameters fitted and the verdict.")

    class Meta:
        ordering = ["market", "interval"]
        constraints = [models.UniqueConstraint(fields=["market", "interval"], name="readings_unique_market_interval")]

    def __str__(self) -> str:
        return f"readings record of {self.market} at {self.interval}"
