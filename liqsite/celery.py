"""The Celery application and the periodic schedule.

The schedule lives in code; each interval comes from settings, which read it
from the environment (``LIQSITE_REFRESH_SECONDS``, ``LIQSITE_OUTBOX_SWEEP_SECONDS``,
``LIQSITE_ACCURACY_SECONDS``). Every periodic task
expires before its next run is due, so a backlog never piles up stale runs.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "liqsite.settings")

app = Celery("liqsite", task_cls="liqsite.tasks:LiqsiteTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_finalize.connect
def _schedule_periodic_tasks(sender: Celery, **kwargs) -> None:
    from django.conf import settings

    every = settings.LIQSITE_REFRESH_SECONDS
    sweep = settings.LIQSITE_OUTBOX_SWEEP_SECONDS
    accuracy = settings.LIQSITE_ACCURACY_SECONDS
    sender.conf.beat_schedule = {
        "refresh-active-markets": {
            "task": "markets.tasks.refresh_active_markets",
            "schedule": float(every),
            "options": {"expires": every * 0.8},
        },
        "sweep-email-outbox": {
            "task": "liqsite.outbox.tasks.sweep_outbox",
            "schedule": float(sweep),
            "options": {"expires": sweep * 0.8},
        },
        "sweep-password-resets": {
            "task": "liqsite.accounts.tasks.sweep_password_resets",
            "schedule": float(sweep),
            "options": {"expires": sweep * 0.8},
        },
        # Backtests are heavy and a day's new steps barely move a month's scores:
        # once per interval (daily by default), not after every grid computation.
        "backtest-markets": {
            "task": "accuracy.tasks.backtest_due_markets",
            "schedule": float(accuracy),
            "options": {"expires": accuracy * 0.8},
        },
    }
