"""Celery tasks of the accounts app."""

from __future__ import annotations

from celery import shared_task


@shared_task
def password_reset_send(request_id: int) -> str:
    """Queue the password-reset email for each account with the request's address (none for an unknown one)."""
    from liqsite.accounts.resets import password_reset_handle

    queued = password_reset_handle(request_id=request_id)
    return "already handled" if queued is None else f"{queued} reset email(s) queued"


@shared_task
def sweep_password_resets() -> str:
    """Periodic: send the resets whose task was lost (the broker was down when they were asked for)."""
    from liqsite.accounts.resets import password_reset_sweep

    return f"{password_reset_sweep()} lost reset request(s) handled"
