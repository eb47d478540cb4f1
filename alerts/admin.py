"""Admin for operators: rules, the alerts they fired and the outbox (bodies hidden: reset links are credentials)."""

from django.contrib import admin

from alerts.models import Alert, AlertRule, WatchlistItem
from liqsite.outbox.models import OutboxMessage


@admin.register(AlertRule)
class AlertRuleAdmin(admin.ModelAdmin):
    list_display = ("__str__", "user", "paused", "cooldown_minutes", "last_fired_at")
    list_filter = ("kind", "paused")
    raw_id_fields = ("user", "market")


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ("fired_at", "user", "summary", "episode_key")
    readonly_fields = [field.name for field in Alert._meta.fields]


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = ("created_at", "kind", "to", "subject", "status", "attempts", "sent_at")
    list_filter = ("status", "kind")
    fields = (
        "kind",
        "to",
        "subject",
        "status",
        "attempts",
        "last_error",
        "created_at",
        "claimed_at",
        "next_attempt_at",
        "sent_at",
    )
    readonly_fields = fields


@admin.register(WatchlistItem)
class WatchlistItemAdmin(admin.ModelAdmin):
    list_display = ("user", "market", "coin", "position")
    raw_id_fields = ("user", "market")
