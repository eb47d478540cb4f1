"""Password-reset requests: written on the site, turned into emails by a task or, later, by the sweep."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from liqsite.accounts.emails import password_reset_queue
from liqsite.accounts.models import PasswordResetRequest
from liqsite.accounts.tasks import password_reset_send

# A request still waiting this long lost its task (the broker was down or restarted).
LOST_AFTER = timedelta(minutes=1)


def password_reset_request(*, email: str) -> PasswordResetRequest:
    """Record a reset for ``email`` and have a task send it once this transaction commits."""
    request = PasswordResetRequest.objects.create(email=email)
    password_reset_send.delay_on_commit(request.pk)
    return request


def password_reset_handle(*, request_id: int) -> int | None:
    """Queue the reset emails of one request; None when another worker already handled it.

    Deleting the row is the claim: of two workers racing, one deletes it and
    sends, the other deletes nothing and sends nothing.
    """
    with transaction.atomic():
        email = PasswordResetRequest.objects.filter(pk=request_id).values_list("email", flat=True).first()
        if email is None or not PasswordResetRequest.objects.filter(pk=request_id).delete()[0]:
            return None
        return password_reset_queue(email=email)


def password_reset_sweep(*, now=None) -> int:
    """Handle the requests whose task never ran; returns how many were handled."""
    now = now or timezone.now()
    lost = PasswordResetRequest.objects.filter(requested_at__lt=now - LOST_AFTER).values_list("pk", flat=True)[:1000]
    return sum(password_reset_handle(request_id=pk) is not None for pk in list(lost))
