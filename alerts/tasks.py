"""Celery tasks of the alerts app: thin wrappers that take a target key and call a service.

The grid computation announces new grids (``grids.signals.grids_stored``) once
they are committed; the app's ``ready`` connects it to ``evaluate_rules``.
Evaluation is idempotent (see ``alerts.services.evaluation``): running it twice,
or in two workers at once, fires each alert once.
"""

from __future__ import annotations

from celery import shared_task

from alerts.services.evaluation import rules_evaluate
from grids.targets import Target


@shared_task
def evaluate_rules(target_key: str) -> str:
    """Evaluate every active rule on one market or one coin against its current grid."""
    return rules_evaluate(Target.from_key(target_key)).summary()
