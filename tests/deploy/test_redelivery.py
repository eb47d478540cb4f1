"""A worker killed mid-task (SIGKILL) loses nothing: the task is delivered again and finished.

Real ``celery worker`` processes run ``tests.deploy.slow_app`` (liqsite's app
and settings plus one slow test task) on the embedded filesystem broker and,
when configured, on Redis. The test kills either the pool process running the
task (Celery notices and requeues it: reject_on_worker_lost) or the whole
worker, main process and all (nothing of it is left to requeue anything: the
broker must hand the unacknowledged task to the next worker by itself).
"""

from __future__ import annotations

import os
import signal
import sys
import uuid
from pathlib import Path

import pytest
from celery import Celery
from django.conf import settings

from tests.conftest import skip_or_fail_without
from tests.deploy.processes import Process, child_env, wait_for

TASK_SECONDS = 6
# Redis hands an unacknowledged task back after the visibility timeout; shortened
# for these workers only (production: longer than the longest task, see settings).
REDIS_VISIBILITY_SECONDS = 8


def marks(folder: Path, kind: str) -> list[int]:
    """Pids of the processes that started (or finished) the slow task, in order."""
    found = sorted(folder.glob(f"{kind}-*"), key=lambda p: int(p.name.split("-")[2]))
    return [int(p.name.split("-")[1]) for p in found]


class Broker:
    def __init__(self, kind: str, tmp_path: Path):
        self.kind = kind
        self.var = tmp_path / "var"
        self.var.mkdir()
        self.env = child_env(LIQSITE_VAR_DIR=str(self.var))
        if kind == "redis":
            prefix = f"liqsite-test-{uuid.uuid4().hex[:12]}:"
            self.env.update(
                CELERY_BROKER_URL=settings.CELERY_BROKER_URL,
                LIQSITE_TEST_KEYPREFIX=prefix,
                LIQSITE_TEST_VISIBILITY_TIMEOUT=str(REDIS_VISIBILITY_SECONDS),
            )
            self.app = Celery("publisher", broker=settings.CELERY_BROKER_URL, set_as_current=False)
            self.app.conf.broker_transport_options = {"global_keyprefix": prefix}
        else:
            queue = self.var / "celery"
            options = {
                "data_folder_in": str(queue / "queue"),
                "data_folder_out": str(queue / "queue"),
                "claims_folder": str(queue / "claims"),
                "control_folder": str(queue / "control"),
            }
            for folder in ("queue", "claims", "control"):
                (queue / folder).mkdir(parents=True)
            self.app = Celery("publisher", broker="filesystem://", set_as_current=False)
            self.app.conf.broker_transport = "liqsite.broker:Transport"
            self.app.conf.broker_transport_options = options

    def worker(self, name: str, logs: Path) -> Process:
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "tests.deploy.slow_app",
            "worker",
            "--pool",
            "prefork",
            "--concurrency",
            "1",
            "--loglevel",
            "INFO",
            "--without-mingle",
            "--without-gossip",
            "-n",
            f"{name}@%h",
        ]
        return Process(name, command, env=self.env, logs=logs)

    def close(self):
        if self.kind == "redis":
            import redis

            client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
            keys = list(client.scan_iter(f"{self.env['LIQSITE_TEST_KEYPREFIX']}*"))
            if keys:
                client.delete(*keys)
        self.app.close()


@pytest.fixture(params=["filesystem", "redis"])
def broker(request, tmp_path):
    if request.param == "redis" and not settings.CELERY_BROKER_URL.startswith("redis"):
        skip_or_fail_without("Redis", f"the broker is {settings.CELERY_BROKER_URL} (set CELERY_BROKER_URL=redis://...)")
    broker = Broker(request.param, tmp_path)
    yield broker
    broker.close()


@pytest.mark.parametrize("victim", ["pool process", "whole worker"])
def test_a_task_whose_worker_is_killed_mid_task_is_delivered_again_and_finished(broker, victim, tmp_path):
    folder = tmp_path / "marks"
    folder.mkdir()
    first = broker.worker("first", tmp_path)
    workers = [first]
    try:
        broker.app.send_task("tests.slow_mark", args=[str(folder), TASK_SECONDS])
        wait_for(lambda: marks(folder, "start"), timeout=90, what="the task to start", processes=(first,))
        killed = marks(folder, "start")[0]
        if victim == "pool process":
            os.kill(killed, signal.SIGKILL)
            survivor = first
        else:
            first.kill_group(signal.SIGKILL)
            first.popen.wait(timeout=10)
            survivor = broker.worker("second", tmp_path)
            workers.append(survivor)
        assert not marks(folder, "done")
        wait_for(lambda: marks(folder, "done"), timeout=120, what="the task to finish again", processes=(survivor,))
        starts, done = marks(folder, "start"), marks(folder, "done")
        assert starts[0] == killed and len(starts) == 2 and done == [starts[1]] and done[0] != killed
    finally:
        for worker in workers:
            worker.stop()
    if broker.kind == "filesystem":
        assert not list((broker.var / "celery" / "claims").iterdir()), "a finished task left its claim behind"
