"""The suite against the real services: PostgreSQL through the ORM, Redis through a Celery worker.

Locally these skip when DATABASE_URL / CELERY_BROKER_URL do not point at the
servers; CI sets LIQSITE_REQUIRE_SERVICES=1, which turns a skip into a failure.
"""

import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.db import connection

from liqsite.celery import app as celery_app
from markets.models import Candle, Exchange, Market
from markets.tasks import refresh_market
from tests.conftest import skip_or_fail_without

pytestmark = pytest.mark.services


@pytest.mark.django_db
def test_the_suite_runs_on_postgresql_when_configured():
    if connection.vendor != "postgresql":
        skip_or_fail_without("PostgreSQL", f"the test database is {connection.vendor} (set DATABASE_URL=postgres://...)")
    with connection.cursor() as cursor:
        cursor.execute("select version()")
        assert cursor.fetchone()[0].startswith("PostgreSQL")


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_on_redis_refreshes_a_market():
    if not settings.CELERY_BROKER_URL.startswith("redis"):
        skip_or_fail_without("Redis", f"the broker is {settings.CELERY_BROKER_URL} (set CELERY_BROKER_URL=redis://...)")
    if connection.vendor == "sqlite":
        pytest.skip("an in-thread worker needs a database shared across threads; CI runs this on PostgreSQL")
    exchange = Exchange.objects.create(plugin="sample")
    market = Market.objects.create(exchange=exchange, symbol="BTCUSDT", intervals=["15m"])
    celery_app.conf.task_always_eager = False
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        refresh_market.delay(market.pk)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and Candle.objects.filter(market=market).count() < 268:
            time.sleep(0.2)
    assert Candle.objects.filter(market=market).count() == 268
    market.refresh_from_db()
    assert market.last_ingest_at is not None
