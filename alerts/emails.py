"""The alert email: subject, text and HTML from templates, with one-click unsubscribe headers."""

from __future__ import annotations

from dataclasses import replace

from django.template.loader import render_to_string
from django.urls import reverse

from alerts.links import absolute
from alerts.models import Alert, AlertRule
from alerts.services.rules import unsubscribe_token
from heatmaps.viewing.readings_rows import reading_rows
from liqsite.accounts.selectors import email_confirmed
from liqsite.outbox.models import OutboxMessage
from liqsite.outbox.services import outbox_message_queue


def alert_email_context(*, alert: Alert, rule: AlertRule) -> dict:
    unsubscribe_url = absolute(reverse("alerts:unsubscribe", args=[unsubscribe_token(rule)]))
    return {
        "alert": alert,
        "rule": rule,
        "d": alert.details,
        "band": alert.details.get("band"),
        "oi_change": alert.details.get("oi_change"),
        "unsubscribe_url": unsubscribe_url,
        "rules_url": absolute(reverse("alerts:rule_list")),
        "log_url": absolute(reverse("alerts:log")),
        # The words as stored when the alert fired; beside each, its measured record on this market
        # and a link to the accuracy page's section, as the heatmap page shows them.
        "readings": [replace(row, link=absolute(row.link)) for row in reading_rows(alert.details, rule.target)],
        "pressure": alert.details.get("pressure"),
    }


def alert_email_queue(*, alert: Alert, rule: AlertRule) -> OutboxMessage | None:
    """Write the email for ``alert`` to the outbox (sent after commit); None if the user has no confirmed address.

    Only a confirmed address gets alerts: anyone can type a stranger's address at
    sign-up, and alerts must never reach an inbox whose owner did not ask for them.
    """
    if not email_confirmed(user=rule.user):
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
