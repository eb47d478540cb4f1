"""Celery tasks of the alerts app: thin wrappers that take ids and call a service.

The grid computation calls ``evaluate_market_rules`` (or ``evaluate_coin_rules``
for an aggregate grid) once its snapshot is committed::

    transaction.on_commit(lambda: evaluate_market_rules.delay(market_id))

Evaluation is idempotent (see ``alerts.services.evaluation``): running it twice,
or in two workers at once, fires each alert once.
"""

from __future__ import annotations

from celery import shared_task
from django.db import DatabaseError

from alerts.services.evaluation import rules_evaluate
from alerts.services.outbox import MAX_ATTEMPTS, outbox_message_send, outbox_sweep
from heatmaps.tasks import backoff_seconds


class OutboxSendFailed(Exception):
    pass


@shared_task(bind=True, max_retries=5, acks_late=True)
def evaluate_market_rules(self, market_id: int) -> str:
    """Evaluate every active rule on one market against its current grid."""
    try:
        return rules_evaluate(market_id=market_id).summary()
    except DatabaseError as error:
        raise self.retry(exc=error, countdown=backoff_seconds(self.request.retries)) from error


@shared_task(bind=True, max_retries=5, acks_late=True)
def evaluate_coin_rules(self, coin: str) -> str:
    """Evaluate every active rule on one coin (aggregate across exchanges) against its current grid."""
    try:
        return rules_evaluate(coin=coin).summary()
    except DatabaseError as error:
        raise self.retry(exc=error, countdown=backoff_seconds(self.request.retries)) from error


@shared_task(bind=True, max_retries=MAX_ATTEMPTS, acks_late=True)
def send_outbox_message(self, message_id: int) -> str:
    """Send one outbox message; a failure is recorded on the row and retried with backoff."""
    result = outbox_message_send(message_id=message_id)
    if result.status == "failed" and result.retry_in is not None:
        raise self.retry(exc=OutboxSendFailed(result.error), countdown=result.retry_in.total_seconds())
    return result.summary()


@shared_task
def sweep_outbox() -> str:
    """Periodic: re-queue failed messages under the attempt limit, and lost or stuck ones."""
    report = outbox_sweep()
    return f"{report.requeued} re-queued, {report.lost} lost tasks re-sent, {report.stuck} stuck sends reset"
