"""Outgoing email, written in the same transaction as what caused it and sent by a task.

A message moves queued → sending → sent, or → failed (with the reason) and back
to sending on a retry. Every move out of queued/failed is a conditional update,
so only one worker ever holds a message in "sending".
"""

from __future__ import annotations

from django.db import models


class OutboxMessage(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    class Kind(models.TextChoices):
        ALERT = "alert", "Alert"
        PASSWORD_RESET = "password_reset", "Password reset"
        EMAIL_CONFIRM = "email_confirm", "Email confirmation"
        SIGNUP_NOTICE = "signup_notice", "Sign-up notice"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    to = models.EmailField()
    subject = models.CharField(max_length=300)
    text_body = models.TextField()
    html_body = models.TextField(blank=True)
    headers = models.JSONField(default=dict, blank=True, help_text="Extra headers, e.g. List-Unsubscribe.")
    # Password-reset and confirmation links are credentials: their bodies are blanked once sent.
    sensitive = models.BooleanField(default=False)

    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    claimed_at = models.DateTimeField(null=True, blank=True, help_text="Start of the current or last attempt.")
    next_attempt_at = models.DateTimeField(null=True, blank=True, help_text="When the sweep may retry a failed message.")
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        # The table kept its name when the model moved from the alerts app (no data moved).
        db_table = "alerts_outboxmessage"
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.get_status_display()}: {self.subject} → {self.to}"
