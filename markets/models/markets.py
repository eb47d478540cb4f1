"""Exchanges (enabled plugins) and the markets an admin added on them."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import models
from django.utils import timezone

from liqsite.exchanges import INTERVAL_SECONDS, ExchangePlugin
from liqsite.exchanges.registry import installed_plugins, plugin_class


class Exchange(models.Model):
    """One installed exchange plugin that an admin enabled, with its settings."""

    plugin = models.CharField(
        max_length=64,
        unique=True,
        help_text="Key of an installed exchange plugin (bundled or from the liqsite.exchanges entry-point group).",
    )
    enabled = models.BooleanField(default=True)
    settings = models.JSONField(default=dict, blank=True, help_text="Non-secret plugin settings, as JSON.")
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    banned_until = models.DateTimeField(
        null=True,
        blank=True,
        help_text="The exchange banned this server's address until then (HTTP 418): no refresh asks it before.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        # The table kept its name when the model moved from the heatmaps app (no data moved).
        db_table = "heatmaps_exchange"
        ordering = ["plugin"]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        info = installed_plugins().get(self.plugin)
        return info.label if info else f"{self.plugin} (not installed)"

    def record_error(self, message: str) -> None:
        self.last_error = message
        self.last_error_at = timezone.now()
        self.save(update_fields=["last_error", "last_error_at"])

    def ban_remaining(self, now: datetime | None = None) -> float:
        """Seconds left of the exchange's ban on this server's address (0 when none)."""
        if self.banned_until is None:
            return 0.0
        return max(0.0, (self.banned_until - (now or timezone.now())).total_seconds())

    def record_ban(self, seconds: float, message: str) -> None:
        """Remember a ban for ``seconds`` in the database, so every worker process respects it."""
        until = timezone.now() + timedelta(seconds=seconds)
        # Never shorten a ban another worker recorded (two 418s racing).
        Exchange.objects.filter(pk=self.pk).filter(models.Q(banned_until__isnull=True) | models.Q(banned_until__lt=until)).update(
            banned_until=until
        )
        self.refresh_from_db(fields=["banned_until"])
        self.record_error(message)

    def client(self, *, transport=None) -> ExchangePlugin:
        """A plugin instance configured with this exchange's settings."""
        return plugin_class(self.plugin)(self.settings, transport=transport)


class Market(models.Model):
    """One contract on one exchange, refreshed at the chosen intervals."""

    class ContractType(models.TextChoices):
        LINEAR = "linear", "Linear (quote-margined)"
        INVERSE = "inverse", "Inverse (coin-margined)"

    exchange = models.ForeignKey(Exchange, on_delete=models.PROTECT, related_name="markets")
    symbol = models.CharField(max_length=64)
    base = models.CharField(max_length=16, blank=True)
    quote = models.CharField(max_length=16, blank=True)
    contract_type = models.CharField(max_length=8, choices=ContractType.choices, default=ContractType.LINEAR)
    contract_size = models.FloatField(default=1.0)
    tick_size = models.FloatField(null=True, blank=True)
    note = models.CharField(max_length=200, blank=True)
    intervals = models.JSONField(default=list, help_text='Step intervals to ingest, e.g. ["15m", "1h"].')
    margin_tiers = models.JSONField(
        default=list,
        blank=True,
        help_text="The exchange's maintenance-margin tiers as last fetched (floor, cap, rate, max leverage, amount).",
    )
    active = models.BooleanField(default=True, help_text="Refreshed by the periodic task.")
    last_ingest_at = models.DateTimeField(null=True, blank=True, help_text="End of the last successful refresh.")
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    grids_due_since = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="Set when a refresh changed the stored series and cleared once the grids are computed from them: "
        "a coin's aggregate waits until none of its markets is due.",
    )

    class Meta:
        # The table kept its name when the model moved from the heatmaps app (no data moved).
        db_table = "heatmaps_market"
        ordering = ["exchange__plugin", "symbol"]
        constraints = [models.UniqueConstraint(fields=["exchange", "symbol"], name="market_unique_symbol_per_exchange")]

    def __str__(self) -> str:
        return f"{self.symbol} on {self.exchange}"

    @property
    def ordered_intervals(self) -> list[str]:
        return sorted(self.intervals, key=INTERVAL_SECONDS.__getitem__)

    def record_error(self, message: str, *, deactivate: bool) -> None:
        """Keep the reason a refresh failed; a permanent failure stops refreshing."""
        self.last_error = message
        self.last_error_at = timezone.now()
        fields = ["last_error", "last_error_at"]
        if deactivate:
            self.active = False
            fields.append("active")
        self.save(update_fields=fields)

    def record_success(self) -> None:
        self.last_ingest_at = timezone.now()
        self.last_error = ""
        self.last_error_at = None
        self.save(update_fields=["last_ingest_at", "last_error", "last_error_at"])
