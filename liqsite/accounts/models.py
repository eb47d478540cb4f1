"""Which email address each account has proved it receives mail at."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ConfirmedEmail(models.Model):
    """The address an account confirmed by following a link sent to it.

    The account's address counts as confirmed only while ``user.email`` is still
    this address, so changing the address (in the admin) needs a new confirmation.
    Alert emails go only to confirmed addresses: nobody can aim alerts at an
    inbox they do not read.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="confirmed_email",
    )
    email = models.EmailField()
    confirmed_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["email"])]

    def __str__(self) -> str:
        return f"{self.email} (confirmed {self.confirmed_at:%Y-%m-%d})"


class PasswordResetRequest(models.Model):
    """A reset asked for on the site and not yet turned into emails.

    The request writes this row in its own transaction and a task turns it into
    the emails; if the broker was down when the task was queued, the periodic
    sweep finds the row and does it then, so a reset is never lost. The row is
    deleted once handled: the address is not kept.
    """

    email = models.EmailField()
    requested_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["requested_at"])]
