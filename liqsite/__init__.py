"""liqsite: an open, self-hosted liquidation-heatmap platform."""

# Load the Celery app with Django so ``shared_task`` binds to it and tasks
# queued from web requests use the configured broker.
from liqsite.celery import app as celery_app

__all__ = ("celery_app",)
