"""Celery tasks of the outbox: send one message, and sweep up failed, lost or stuck ones."""

from __future__ import annotations

from celery import shared_task


class OutboxSendFailed(Exception):
    pass


@shared_task(bind=True, max_retries=None)
def send_outbox_message(self, message_id: int) -> str:
    """Send one outbox message; a failure is recorded on the row and retried with backoff."""
    from liqsite.outbox.services import MAX_ATTEMPTS, outbox_message_send

    result = outbox_message_send(message_id=message_id)
    if result.status == "failed" and result.retry_in is not None:
        if self.request.retries >= MAX_ATTEMPTS:
            raise OutboxSendFailed(result.error)
        raise self.retry(exc=OutboxSendFailed(result.error), countdown=result.retry_in.total_seconds())
    return result.summary()


@shared_task
def sweep_outbox() -> str:
    """Periodic: re-queue failed messages under the attempt limit, and lost or stuck ones."""
    from liqsite.outbox.services import outbox_sweep

    report = outbox_sweep()
    return f"{report.requeued} re-queued, {report.lost} lost tasks re-sent, {report.stuck} stuck sends reset"
