"""Creating, changing, pausing and deleting alert rules, and the signed unsubscribe token."""

from __future__ import annotations

from django.core import signing
from django.db.models import Case, Value, When
from django.utils import timezone

from alerts.models import AlertRule

RULE_FIELDS = (
    "market",
    "coin",
    "kind",
    "interval",
    "side",
    "within_pct",
    "min_usd",
    "require_strong",
    "min_persistence_hours",
    "oi_direction",
    "oi_change_pct",
    "oi_hours",
    "pressure_pct",
    "cooldown_minutes",
)
UNSUBSCRIBE_SALT = "alerts.unsubscribe"


def rule_create(*, user, data: dict) -> AlertRule:
    rule = AlertRule(user=user, **{name: data[name] for name in RULE_FIELDS if name in data})
    rule.full_clean()
    rule.save()
    return rule


def rule_update(*, rule: AlertRule, data: dict) -> AlertRule:
    for name in RULE_FIELDS:
        if name in data:
            setattr(rule, name, data[name])
    rule.full_clean()
    # Only the edited fields: a concurrent evaluation may be updating last_fired_at.
    rule.save(update_fields=[*RULE_FIELDS, "updated_at"])
    return rule


def rule_delete(*, rule: AlertRule) -> None:
    rule.delete()


def rule_set_paused(*, rule: AlertRule, paused: bool) -> AlertRule:
    """Pause or resume; idempotent, and keeps when the rule was first paused."""
    AlertRule.objects.filter(pk=rule.pk).update(
        paused=paused,
        paused_at=None if not paused else Case(When(paused=True, then="paused_at"), default=Value(timezone.now())),
        updated_at=timezone.now(),
    )
    rule.refresh_from_db(fields=["paused", "paused_at", "updated_at"])
    return rule


def unsubscribe_token(rule: AlertRule) -> str:
    """A signed token naming the rule, for the one-click unsubscribe link in its emails.

    It does not expire: a mail read months later must still be able to silence
    its rule, and all it can do is pause that one rule.
    """
    return signing.dumps({"rule": rule.pk}, salt=UNSUBSCRIBE_SALT, compress=True)


def rule_from_token(token: str) -> AlertRule | None:
    """The rule a token names, or None for a forged, damaged or stale (rule deleted) token."""
    try:
        payload = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("rule"), int):
        return None
    return AlertRule.objects.select_related("market__exchange").filter(pk=payload["rule"]).first()


def rule_unsubscribe(*, token: str) -> AlertRule | None:
    """Pause the rule a token names (the one-click unsubscribe); None when the token names no rule."""
    rule = rule_from_token(token)
    if rule is not None:
        rule_set_paused(rule=rule, paused=True)
    return rule
