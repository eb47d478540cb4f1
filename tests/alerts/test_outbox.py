"""The outbox delivers through a real SMTP server on loopback, records failures and retries them."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from celery.exceptions import Retry
from django.test import Client
from django.utils import timezone

from alerts.models import AlertRule
from liqsite.outbox.models import OutboxMessage
from liqsite.outbox.services import MAX_ATTEMPTS, outbox_message_queue, outbox_message_send, outbox_sweep
from liqsite.outbox.tasks import send_outbox_message, sweep_outbox
from tests.alerts.factories import T0, band, store_grid
from tests.alerts.smtp import bodies, free_port, use_smtp

pytestmark = pytest.mark.django_db
Status = OutboxMessage.Status


def queue(django_capture_on_commit_callbacks, *, send: bool, **overrides) -> OutboxMessage:
    fields = {
        "kind": "alert",
        "to": "owner@example.com",
        "subject": "Subject",
        "text": "Text body",
        "html": "<p>HTML body</p>",
        "headers": {"List-Unsubscribe": "<http://x/u/>"},
    }
    with django_capture_on_commit_callbacks(execute=send):
        return outbox_message_queue(**(fields | overrides))


def test_an_alert_arrives_with_both_bodies_and_one_click_unsubscribe(
    owner, market, smtp_server, django_capture_on_commit_callbacks
):
    rule = AlertRule.objects.create(user=owner, market=market, kind="cluster", within_pct=5, min_usd=1e6)
    store_grid(market=market, close=100, bands=[band(low=102, high=103, usd=2e6, close=100, since=T0)])
    from alerts.tasks import evaluate_rules
    from grids.targets import Target

    with django_capture_on_commit_callbacks(execute=True):
        evaluate_rules.delay(Target(market_id=market.pk).key)

    (received,) = smtp_server.messages
    assert received["To"] == "owner@example.com"
    assert received["Subject"].strip().startswith("[liqsite] BTCUSDT")  # folded header: leading space
    assert received.get_content_type() == "multipart/alternative"
    text, html = bodies(received)
    assert "$2.0M" in text and "102.00 – 103.00" in text and "strong build-up" in text
    assert "http://127.0.0.1:8000/markets/" in text or "http://127.0.0.1:8000/" in text
    assert "<strong>$2.0M</strong>" in html
    unsubscribe = received["List-Unsubscribe"].strip()  # long headers are folded
    assert unsubscribe.startswith("<http://127.0.0.1:8000/alerts/unsubscribe/") and unsubscribe.endswith("/>")
    assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert OutboxMessage.objects.get().status == Status.SENT

    # The mail client's one-click POST: no session, no CSRF token.
    path = unsubscribe[1:-1].removeprefix("http://127.0.0.1:8000")
    response = Client(enforce_csrf_checks=True).post(
        path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200
    rule.refresh_from_db()
    assert rule.paused


def test_an_smtp_refusal_leaves_the_message_failed_with_the_reason_and_a_retry_sends_it(
    smtp_server, django_capture_on_commit_callbacks
):
    smtp_server.reply = "554 5.7.1 Transaction failed: policy"
    message = queue(django_capture_on_commit_callbacks, send=False)
    result = outbox_message_send(message_id=message.pk)
    message.refresh_from_db()
    assert (result.status, message.status, message.attempts) == ("failed", Status.FAILED, 1)
    assert "554" in message.last_error and "Transaction failed" in message.last_error
    assert message.next_attempt_at > timezone.now()
    assert smtp_server.messages == [] and smtp_server.refused == 1

    # The server recovers; once the backoff has passed the beat sweep re-queues the message and it is sent.
    smtp_server.reply = "250 OK"
    with django_capture_on_commit_callbacks(execute=True):
        assert outbox_sweep().requeued == 0  # not due yet
    OutboxMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=True):
        sweep_outbox.delay()
    message.refresh_from_db()
    assert (message.status, message.attempts, message.last_error) == (Status.SENT, 2, "")
    assert len(smtp_server.messages) == 1


def test_a_closed_port_is_recorded_and_the_task_retries_with_backoff(settings, django_capture_on_commit_callbacks):
    use_smtp(settings, free_port())  # nothing listens there
    message = queue(django_capture_on_commit_callbacks, send=False)
    with mock.patch.object(send_outbox_message, "retry", side_effect=Retry("retrying")) as retry:
        with pytest.raises(Retry):
            send_outbox_message.apply(args=(message.pk,), throw=True)
    message.refresh_from_db()
    assert message.status == Status.FAILED and message.attempts == 1
    assert "Connection refused" in message.last_error or "ConnectionRefusedError" in message.last_error
    assert retry.call_args.kwargs["countdown"] == 60


def test_a_message_is_sent_once_whoever_asks(smtp_server, django_capture_on_commit_callbacks):
    message = queue(django_capture_on_commit_callbacks, send=True)
    # A duplicate task, a redelivered one after a lost ack, or the sweep: nothing to claim.
    assert outbox_message_send(message_id=message.pk).status == "skipped"
    send_outbox_message.delay(message.pk)
    with django_capture_on_commit_callbacks(execute=True):
        outbox_sweep(now=timezone.now() + timedelta(days=1))
    assert len(smtp_server.messages) == 1
    assert OutboxMessage.objects.get().attempts == 1


def test_the_sweep_gives_up_at_the_attempt_limit_and_rescues_stuck_and_lost_messages(
    smtp_server, django_capture_on_commit_callbacks
):
    now = timezone.now()
    given_up = queue(django_capture_on_commit_callbacks, send=False, subject="given up")
    OutboxMessage.objects.filter(pk=given_up.pk).update(status=Status.FAILED, attempts=MAX_ATTEMPTS, next_attempt_at=now)
    stuck = queue(django_capture_on_commit_callbacks, send=False, subject="stuck")
    OutboxMessage.objects.filter(pk=stuck.pk).update(status=Status.SENDING, attempts=1, claimed_at=now - timedelta(hours=1))
    lost = queue(django_capture_on_commit_callbacks, send=False, subject="lost")
    OutboxMessage.objects.filter(pk=lost.pk).update(updated_at=now - timedelta(hours=1))

    with django_capture_on_commit_callbacks(execute=True):
        report = outbox_sweep(now=now)
    # The stuck one is marked failed, due at once, and re-queued in the same sweep.
    assert (report.stuck, report.requeued, report.lost) == (1, 1, 1)
    stuck.refresh_from_db()
    assert stuck.status == Status.SENT and stuck.attempts == 2
    assert sorted(m["Subject"].strip() for m in smtp_server.messages) == ["lost", "stuck"]
    given_up.refresh_from_db()
    assert given_up.status == Status.FAILED and given_up.attempts == MAX_ATTEMPTS


def test_sensitive_bodies_are_blanked_once_sent(smtp_server, django_capture_on_commit_callbacks):
    message = queue(
        django_capture_on_commit_callbacks, send=True, kind="password_reset", sensitive=True, text="reset link", html=""
    )
    message.refresh_from_db()
    assert message.status == Status.SENT and message.text_body == "" and message.html_body == ""
    assert "reset link" in smtp_server.messages[0].get_content()
