"""Shared fixtures: eager Celery, the dummy third-party plugin, personas, sample data."""

from __future__ import annotations

import os
import sys
import textwrap

import pytest

from liqsite.celery import app as celery_app
from liqsite.exchanges.registry import reload_plugins

REQUIRE_SERVICES = os.environ.get("LIQSITE_REQUIRE_SERVICES") == "1"


def pytest_configure(config):
    isolate_parallel_workers_cache()


def isolate_parallel_workers_cache() -> None:
    """Give each parallel test process (``pytest -n``) its own part of a shared Redis cache.

    With ``CACHE_URL`` every test process talks to the same Redis database. Without
    this, two processes count each other's failed log-ins (the throttles key on the
    client address, the same in every test) and each test's ``cache.clear()``
    (Redis ``FLUSHDB``) wipes the counters of a test running in the other process.
    Each worker gets its own key prefix, and clearing deletes only that prefix.
    """
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return
    from django.conf import settings

    cache_settings = settings.CACHES["default"]
    if not cache_settings["BACKEND"].endswith("RedisCache"):
        return  # in-process memory: each worker has its own already
    cache_settings["KEY_PREFIX"] = f"{cache_settings.get('KEY_PREFIX', '')}-test-{worker}"

    from django.core.cache.backends.redis import RedisCache

    def clear_this_workers_keys(self) -> bool:
        client = self._cache.get_client(None, write=True)
        keys = list(client.scan_iter(match=f"{self.key_prefix}:*", count=1000))
        return bool(client.delete(*keys)) if keys else True

    RedisCache.clear = clear_this_workers_keys


@pytest.fixture(autouse=True)
def fresh_cache():
    """Each test starts with an empty cache: throttles, page caches and pending-task marks are per test."""
    from django.apps import apps

    if not apps.ready:  # the engine's tests run without Django (-p no:django)
        yield
        return
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def eager_celery():
    """Run tasks in-process during tests; the services tests use a real worker instead."""
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager = False


@pytest.fixture
def dummy_plugin_installed(tmp_path, monkeypatch):
    """Install the dummy plugin the way pip would: a dist-info with an entry point on sys.path."""
    dist = tmp_path / "liqsite_dummy_exchange-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: liqsite-dummy-exchange\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        textwrap.dedent("""\
        [liqsite.exchanges]
        dummy = tests.dummy_exchange:DummyExchange
        broken = tests.no_such_module:Nothing
        sample = tests.dummy_exchange:DummyExchange
    """)
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    reload_plugins()
    yield
    monkeypatch.undo()
    reload_plugins()


def skip_or_fail_without(service: str, reason: str):
    """Skip when a real service is not configured, unless CI demands it (then fail)."""
    if REQUIRE_SERVICES:
        pytest.fail(f"{service} is required here (LIQSITE_REQUIRE_SERVICES=1) but {reason}")
    pytest.skip(f"{service} not configured: {reason}")


@pytest.fixture
def admin_user(django_user_model):
    return django_user_model.objects.create_superuser("admin", "admin@example.com", "correct horse battery")


@pytest.fixture
def trader(django_user_model):
    return django_user_model.objects.create_user("trader", "trader@example.com", "correct horse battery")


def pytest_report_header(config):
    from django.conf import settings

    db = settings.DATABASES["default"]
    return [
        f"liqsite database: {db['ENGINE'].rsplit('.', 1)[-1]} {db.get('NAME')}",
        f"celery broker: {settings.CELERY_BROKER_URL.split('@')[-1]}",
        f"python: {sys.version.split()[0]}",
    ]
