"""The Celery app of the redelivery tests: liqsite's app plus one slow, test-only task.

A worker started with ``celery -A tests.deploy.slow_app worker`` runs with
liqsite's settings (broker, acks_late, reject_on_worker_lost, transport
options) and can also run ``slow_mark``, which records each start in a folder,
sleeps, and records its end. The tests kill the worker while it sleeps.
``LIQSITE_TEST_VISIBILITY_TIMEOUT`` shortens the broker's visibility timeout
for this worker only, so a test does not wait the production hour.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from liqsite.celery import app

if os.environ.get("LIQSITE_TEST_VISIBILITY_TIMEOUT"):
    app.conf.broker_transport_options = {
        **app.conf.broker_transport_options,
        "visibility_timeout": int(os.environ["LIQSITE_TEST_VISIBILITY_TIMEOUT"]),
        # Redis looks for expired messages every 10 s but scans only every 10th look by default.
        "unacked_restore_throttle": 1,
    }
if os.environ.get("LIQSITE_TEST_KEYPREFIX"):
    # Keeps this test's Redis keys (queues and unacknowledged messages) apart from everything else on the server.
    app.conf.broker_transport_options = {
        **app.conf.broker_transport_options,
        "global_keyprefix": os.environ["LIQSITE_TEST_KEYPREFIX"],
    }


@app.task(name="tests.slow_mark")
def slow_mark(folder: str, seconds: float) -> None:
    marks = Path(folder)
    (marks / f"start-{os.getpid()}-{time.time_ns()}").touch()
    time.sleep(seconds)
    (marks / f"done-{os.getpid()}-{time.time_ns()}").touch()
