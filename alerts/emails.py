"""The alert email: subject, text and HTML from templates, with one-click unsubscribe headers."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.urls import reverse

from alerts.links import absolute
from alerts.models import Alert, AlertRule, OutboxMessage
from alerts.services.outbox import outbox_message_queue
from alerts.services.rules import unsubscribe_token


def alert_email_context(*, alert: Alert, rule: AlertRule) -> dict:
    unsubscribe_url = absolute(reverse("alerts:unsubscribe", args=[unsubscribe_token(rule)]))
    return {
        "alert": alert, "rule": rule, "d": alert.details, "band": alert.details.get("band"),
        "oi_change": alert.details.get("oi_change"), "unsubscribe_url": unsubscribe_url,
        "rules_url": absolute(reverse("alerts:rule_list")), "log_url": absolute(reverse("alerts:log")),
    }


def alert_email_queue(*, alert: Alert, rule: AlertRule) -> OutboxMessage | None:
    """Write the email for ``alert`` to the outbox (sent after commit); None if the user has no address."""
    if not rule.user.email:
        return None
    context = alert_email_context(alert=alert, rule=rule)
    return outbox_message_queue(
        kind=OutboxMessage.Kind.ALERT,
        to=rule.user.email,
        subject=render_to_string("alerts/emails/alert_subject.txt", context),
        text=render_to_string("alerts/emails/alert_body.txt", context),
        html=render_to_string("alerts/emails/alert_body.html", context),
        headers={
            # RFC 8058 one-click unsubscribe: the mail client POSTs
            # "List-Unsubscribe=One-Click" to this URL, which pauses the rule.
            "List-Unsubscribe": f"<{context['unsubscribe_url']}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Auto-Submitted": "auto-generated",
        },
    )
