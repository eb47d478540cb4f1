"""Alert rules and the alerts they fired.

An ``Alert`` row is the claim of one (rule, episode): the unique constraint on
``(rule, episode_key)`` is what makes a second worker, a retried task or a
re-run evaluation find the episode taken and send nothing. The cooldown is
claimed on the rule itself with a conditional update of ``last_fired_at``
(see ``alerts.services.evaluation``).
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models

from grids.targets import TargetFields
from liqsite.exchanges.intervals import INTERVAL_CHOICES
from liqsite.formatting import usd as _usd


class AlertRule(TargetFields):
    class Kind(models.TextChoices):
        CLUSTER = "cluster", "Cluster build-up"
        APPROACH = "approach", "Price approaching a band"
        OI_SURGE = "oi_surge", "Open-interest surge"
        VOLATILITY = "volatility", "Volatility ahead"

    class Side(models.TextChoices):
        EITHER = "either", "Above or below price"
        ABOVE = "above", "Above price (short liquidations)"
        BELOW = "below", "Below price (long liquidations)"

    class Direction(models.TextChoices):
        EITHER = "either", "Up or down"
        UP = "up", "Up"
        DOWN = "down", "Down"

    BAND_KINDS = (Kind.CLUSTER, Kind.APPROACH)

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alert_rules")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.CLUSTER)
    interval = models.CharField(
        max_length=4,
        choices=INTERVAL_CHOICES,
        blank=True,
        help_text="Grid interval to watch; empty means the finest one computed for the market.",
    )
    # Band rules (cluster build-up, price approaching a band).
    side = models.CharField(max_length=6, choices=Side.choices, default=Side.EITHER)
    within_pct = models.FloatField(default=3.0, help_text="Band within this % of price.")
    min_usd = models.FloatField(default=1_000_000, help_text="Band worth at least this many USD.")
    require_strong = models.BooleanField(default=False, help_text='Only bands whose verdict is "strong build-up".')
    min_persistence_hours = models.FloatField(default=0, help_text="Band standing at least this long.")
    # Open-interest surge.
    oi_direction = models.CharField(max_length=6, choices=Direction.choices, default=Direction.EITHER)
    oi_change_pct = models.FloatField(default=5.0, help_text="OI changed by at least this %.")
    oi_hours = models.FloatField(default=4.0, help_text="... over this many hours.")
    # Volatility ahead: pressure within ± this % of price enters its top decile (widths the grids store).
    pressure_pct = models.FloatField(
        default=2.0,
        choices=[(1.0, "±1 %"), (2.0, "±2 %"), (3.0, "±3 %"), (5.0, "±5 %")],
        help_text="Pending liquidations within this % of price, ranked against the last 30 days.",
    )

    cooldown_minutes = models.PositiveIntegerField(default=60, help_text="Quiet time after an alert fired.")
    paused = models.BooleanField(default=False)
    paused_at = models.DateTimeField(null=True, blank=True)
    last_fired_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["user", "created_at", "pk"]
        constraints = [TargetFields.market_xor_coin("alertrule_market_xor_coin")]
        indexes = [models.Index(fields=["market", "paused"]), models.Index(fields=["coin", "paused"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.market or self.coin}"

    @property
    def cooldown(self) -> timedelta:
        return timedelta(minutes=self.cooldown_minutes)

    @property
    def is_band_rule(self) -> bool:
        return self.kind in self.BAND_KINDS

    def describe(self) -> str:
        """The condition in one plain sentence, for pages and emails."""
        usd = _usd(self.min_usd)
        side = {"either": "above or below", "above": "above", "below": "below"}[self.side]
        if self.kind == self.Kind.CLUSTER:
            text = f"A band worth ≥ {usd} {side} price, within {self.within_pct:g} %"
            if self.require_strong:
                text += ', verdict "strong build-up"'
            if self.min_persistence_hours:
                text += f", standing ≥ {self.min_persistence_hours:g} h"
            return text
        if self.kind == self.Kind.APPROACH:
            return f"Price within {self.within_pct:g} % of a band worth ≥ {usd} {side} it"
        if self.kind == self.Kind.VOLATILITY:
            return f"Pressure within ±{self.pressure_pct:g} % of price enters its top 10 % of the last 30 days"
        direction = {"either": "up or down", "up": "up", "down": "down"}[self.oi_direction]
        return f"Open interest {direction} ≥ {self.oi_change_pct:g} % over {self.oi_hours:g} h"


class Alert(TargetFields):
    """One alert fired for one rule and one episode; the row the alert log shows."""

    # The rule or even the market may be deleted later; the log keeps the alert
    # with what it said (``details["target"]`` names the market).
    market = models.ForeignKey("markets.Market", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    rule = models.ForeignKey(AlertRule, null=True, on_delete=models.SET_NULL, related_name="alerts")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alerts")
    episode_key = models.CharField(max_length=200, help_text="What makes this alert once-only, e.g. band:15m:above:<since>.")
    fired_at = models.DateTimeField()
    kind = models.CharField(max_length=10, choices=AlertRule.Kind.choices)
    rule_text = models.CharField(max_length=300, help_text="The rule's condition when it fired.")
    summary = models.CharField(max_length=300)
    details = models.JSONField(help_text="What was found: the band or OI change, price, time, snapshot.")
    heatmap_url = models.URLField(max_length=500)
    message = models.OneToOneField("outbox.OutboxMessage", null=True, blank=True, on_delete=models.SET_NULL, related_name="alert")

    class Meta:
        ordering = ["-fired_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["rule", "episode_key"], name="alert_once_per_rule_episode"),
        ]
        indexes = [models.Index(fields=["user", "-fired_at"])]

    def __str__(self) -> str:
        return self.summary

    @property
    def target_label(self) -> str:
        if self.market_id is None and not self.coin:
            return self.details.get("target", "")
        return super().target_label
