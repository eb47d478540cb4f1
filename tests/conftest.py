"""Shared fixtures: eager Celery, the dummy third-party plugin, personas, sample data."""

from __future__ import annotations

import os
import sys
import textwrap

import pytest

from liqsite.celery import app as celery_app
from liqsite.exchanges.registry import reload_plugins

REQUIRE_SERVICES = os.environ.get("LIQSITE_REQUIRE_SERVICES") == "1"


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
