"""The email outbox: queue a message with what caused it, send it once, retry failures.

Sending claims the row with a conditional update (queued/failed → sending)
that commits before the SMTP conversation starts, so a second worker, a
duplicate task or a sweep racing a retry finds nothing to claim. The outcome
(sent, or failed with the reason) is recorded whatever happens.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import F
from django.utils import timezone

from liqsite.outbox.models import OutboxMessage
from liqsite.outbox.tasks import send_outbox_message

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
# A message "sending" for longer than this lost its worker mid-send (SMTP calls
# time out after EMAIL_TIMEOUT); the sweep marks it failed so it is retried.
# Whether that worker delivered it is unknown: we prefer a rare duplicate to a lost alert.
STUCK_AFTER = timedelta(minutes=15)
# A message still "queued" this long after it was written lost its task (broker restart).
LOST_AFTER = timedelta(minutes=10)
Status = OutboxMessage.Status


def retry_delay(attempts: int) -> timedelta:
    """Wait before attempt ``attempts + 1``: 1, 2, 4, 8 … minutes, at most an hour."""
    return timedelta(minutes=min(60, 2 ** max(0, attempts - 1)))


def outbox_message_queue(
    *,
    kind: str,
    to: str,
    subject: str,
    text: str,
    html: str = "",
    headers: dict | None = None,
    sensitive: bool = False,
) -> OutboxMessage:
    """Write a message and send it from a task once the surrounding transaction commits."""

    message = OutboxMessage.objects.create(
        kind=kind,
        to=to,
        subject=" ".join(subject.split())[:300],
        text_body=text,
        html_body=html,
        headers=headers or {},
        sensitive=sensitive,
    )
    send_outbox_message.delay_on_commit(message.pk)
    return message


@dataclass(frozen=True)
class SendResult:
    status: str  # sent, failed, or skipped (someone else holds or finished the message)
    attempts: int = 0
    error: str = ""
    retry_in: timedelta | None = None

    def summary(self) -> str:
        return f"{self.status} after {self.attempts} attempt(s)" + (f": {self.error}" if self.error else "")


def _email(message: OutboxMessage) -> EmailMultiAlternatives:
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.text_body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.to],
        headers=message.headers,
    )
    if message.html_body:
        email.attach_alternative(message.html_body, "text/html")
    return email


def outbox_message_send(*, message_id: int) -> SendResult:
    """Claim one message, send it through Django's email backend and record the outcome."""
    now = timezone.now()
    claimed = OutboxMessage.objects.filter(
        pk=message_id,
        status__in=(Status.QUEUED, Status.FAILED),
        attempts__lt=MAX_ATTEMPTS,
    ).update(status=Status.SENDING, attempts=F("attempts") + 1, claimed_at=now, updated_at=now)
    if not claimed:
        return SendResult("skipped")
    message = OutboxMessage.objects.get(pk=message_id)
    try:
        sent = _email(message).send()
        if sent != 1:
            raise RuntimeError("the email backend accepted no message")
    except Exception as error:  # noqa: BLE001 - whatever went wrong is recorded and retried
        reason = f"{type(error).__name__}: {error}"[:2000]
        delay = retry_delay(message.attempts)
        OutboxMessage.objects.filter(pk=message_id, status=Status.SENDING).update(
            status=Status.FAILED,
            last_error=reason,
            next_attempt_at=now + delay,
            updated_at=timezone.now(),
        )
        log.warning("email %s to %s failed (attempt %d): %s", message_id, message.to, message.attempts, reason)
        return SendResult("failed", message.attempts, reason, delay if message.attempts < MAX_ATTEMPTS else None)
    done = {
        "status": Status.SENT,
        "sent_at": timezone.now(),
        "last_error": "",
        "next_attempt_at": None,
        "updated_at": timezone.now(),
    }
    if message.sensitive:
        done.update(text_body="", html_body="")
    OutboxMessage.objects.filter(pk=message_id, status=Status.SENDING).update(**done)
    return SendResult("sent", message.attempts)


@dataclass(frozen=True)
class SweepReport:
    requeued: int
    lost: int
    stuck: int


def outbox_sweep(*, now: datetime | None = None) -> SweepReport:
    """Re-queue failed messages that are due and under the attempt limit, lost ones, and stuck ones."""

    now = now or timezone.now()
    stuck = OutboxMessage.objects.filter(status=Status.SENDING, claimed_at__lt=now - STUCK_AFTER).update(
        status=Status.FAILED,
        next_attempt_at=now,
        updated_at=now,
        last_error="interrupted while sending (the worker stopped); delivery unknown, retrying",
    )
    due = OutboxMessage.objects.filter(status=Status.FAILED, attempts__lt=MAX_ATTEMPTS, next_attempt_at__lte=now)
    requeued = 0
    for message_id in due.values_list("pk", flat=True)[:1000]:
        if OutboxMessage.objects.filter(pk=message_id, status=Status.FAILED).update(status=Status.QUEUED, updated_at=now):
            send_outbox_message.delay_on_commit(message_id)
            requeued += 1
    lost_rows = OutboxMessage.objects.filter(status=Status.QUEUED, updated_at__lt=now - LOST_AFTER)
    lost = 0
    for message_id in lost_rows.values_list("pk", flat=True)[:1000]:
        # Touch the row so the next sweep waits again before queuing another task.
        if OutboxMessage.objects.filter(pk=message_id, status=Status.QUEUED, updated_at__lt=now - LOST_AFTER).update(
            updated_at=now
        ):
            send_outbox_message.delay_on_commit(message_id)
            lost += 1
    return SweepReport(requeued, lost, stuck)
