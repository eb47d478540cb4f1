"""The alert log: the user's alerts, newest first, with the fate of each email; paged with HTMX."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from alerts.models import Alert
from liqsite.outbox.models import OutboxMessage

pytestmark = pytest.mark.django_db


def alert(user, number, message=None):
    return Alert.objects.create(
        user=user,
        coin="BTC",
        episode_key=f"k{number}",
        fired_at=timezone.now() - timedelta(minutes=number),
        kind="cluster",
        rule_text="rule",
        summary=f"summary number {number}",
        details={},
        heatmap_url="http://127.0.0.1:8000/",
        message=message,
    )


def test_the_log_shows_what_happened_to_each_email(owner, owner_client):
    failed = OutboxMessage.objects.create(
        kind="alert",
        to="owner@example.com",
        subject="s",
        text_body="t",
        status="failed",
        attempts=2,
        last_error="SMTPDataError: (554, b'Transaction failed')",
    )
    alert(owner, 1, failed)
    alert(owner, 2)
    page = owner_client.get(reverse("alerts:log")).content.decode()
    assert page.index("summary number 1") < page.index("summary number 2")  # newest first
    assert ">failed<" in page and "2 attempts: SMTPDataError" in page and "no confirmed email address" in page


def test_the_log_pages_with_htmx(owner, owner_client):
    for number in range(55):
        alert(owner, number)
    first = owner_client.get(reverse("alerts:log")).content.decode()
    assert "summary number 49<" in first and "summary number 50<" not in first and "page 1 of 2" in first
    second = owner_client.get(reverse("alerts:log") + "?page=2", HTTP_HX_REQUEST="true")
    assert second.content.decode().lstrip().startswith('<section id="log-table">')
    assert "summary number 54<" in second.content.decode()
    assert "HX-Request" in second["Vary"]
