"""The base every liqsite Celery task runs on, and the retry policy it carries once.

Every task is idempotent (upserts, digests, row claims), so a task is
acknowledged only once it has finished and is handed to another worker when
its worker dies mid-task: a lost computation is worse than one done twice.
A busy database (SQLite's "database is locked", a PostgreSQL failover) is
worth another try with backoff; anything else is the task's own business.
Tasks are queued with ``delay_on_commit`` (Celery's Django task), so no
worker ever reads rows its caller has not committed.

A broker that is down when the transaction commits must not turn the caller's
request into a 500: what the task was for is already committed (an outbox
row, new candles), and a periodic job redoes it once the broker is back (the
outbox sweep re-sends mail still queued; the next refresh that brings new data
recomputes a market's grids). So the on-commit dispatch logs the failure and returns.
"""

from __future__ import annotations

import functools
import logging
import random

from celery.contrib.django.task import DjangoTask
from django.db import InterfaceError, OperationalError, transaction
from kombu.exceptions import OperationalError as BrokerUnavailable

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 900


def backoff_seconds(retries: int, retry_after: float | None = None) -> float:
    """Exponential backoff with jitter, never shorter than what the exchange asked for."""
    delay = min(MAX_BACKOFF_SECONDS, 30 * 2**retries) * random.uniform(0.5, 1.0)
    return max(delay, retry_after or 0)


class LiqsiteTask(DjangoTask):
    acks_late = True
    reject_on_worker_lost = True
    autoretry_for = (OperationalError, InterfaceError)
    retry_backoff = 15
    retry_backoff_max = 300
    retry_jitter = True
    max_retries = 4

    def delay_on_commit(self, *args, **kwargs) -> None:
        """Queue ``self.delay(*args, **kwargs)`` once the transaction commits; a broker outage is logged, not raised."""
        transaction.on_commit(functools.partial(self._publish_after_commit, args, kwargs, {}))

    def apply_async_on_commit(self, args=None, kwargs=None, **options) -> None:
        """Queue ``self.apply_async(...)`` once the transaction commits; a broker outage is logged, not raised."""
        transaction.on_commit(functools.partial(self._publish_after_commit, args or (), kwargs or {}, options))

    def _publish_after_commit(self, args, kwargs, options) -> None:
        try:
            self.apply_async(args, kwargs, **options)
        except BrokerUnavailable as error:
            log.error(
                "could not queue %s%r: the broker is unreachable (%s); a periodic job will redo it", self.name, tuple(args), error
            )
