"""The exchange request budget: in-process without Redis, one budget for every process with it.

The Redis tests need a Redis server: they use ``CACHE_URL`` and skip when it is
not a redis:// URL (fail under LIQSITE_REQUIRE_SERVICES=1). Each test uses its
own key prefix, so parallel test workers and earlier runs do not share buckets.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.conf import settings

from liqsite.exchanges import http as exchange_http
from liqsite.exchanges.shared_budget import BudgetUnavailable, RedisBudget
from tests.conftest import skip_or_fail_without

ROOT = Path(__file__).resolve().parents[2]


class Full(Exception):
    """Raised by the test's wait seam: the limiter would have had to wait this long."""


def refuse_to_wait(seconds):
    raise Full(seconds)


@pytest.fixture
def redis_url():
    url = os.environ.get("CACHE_URL", "")
    if not url.startswith(("redis://", "rediss://")):
        skip_or_fail_without("Redis", "CACHE_URL is not a redis:// URL")
    return url


@pytest.fixture
def prefix(redis_url):
    import redis

    name = f"liqsite-test:{uuid.uuid4().hex}:"
    yield name
    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(f"{name}*"):
        client.delete(key)


def test_the_app_shares_the_budget_exactly_when_the_cache_is_redis():
    # Set by MarketsConfig.ready(), from the same setting that makes the cache Redis.
    redis_cache = settings.CACHES["default"]["BACKEND"].endswith("RedisCache")
    if redis_cache:
        assert isinstance(exchange_http.shared_budget, RedisBudget)
    else:
        assert exchange_http.shared_budget is None


def test_without_a_shared_budget_each_process_keeps_its_own(monkeypatch):
    monkeypatch.setattr(exchange_http, "shared_budget", None)
    monkeypatch.setattr(exchange_http, "wait_for_budget", refuse_to_wait)
    limiter = exchange_http.ExchangeLimiter(f"test:{uuid.uuid4().hex}", 3, 60)
    for _ in range(3):
        assert limiter.acquire() == 0
    with pytest.raises(Full) as waited:
        limiter.acquire()
    assert 59 <= waited.value.args[0] <= 60


def test_two_clients_of_one_redis_spend_one_budget(redis_url, prefix, monkeypatch):
    # Two RedisBudget objects with their own connections: what two worker processes hold.
    first, second = RedisBudget(redis_url, prefix=prefix), RedisBudget(redis_url, prefix=prefix)
    spend = lambda budget, weight=1: budget.try_spend("binance:weight", weight, capacity=5, window=3600)  # noqa: E731
    assert [spend(first), spend(second), spend(first, 2), spend(second)] == [0, 0, 0, 0]
    # The bucket is empty for both: one token comes back every 3600 / 5 = 720 s.
    assert 719 <= spend(first) <= 720 and 719 <= spend(second) <= 720
    # A refused request spent nothing; another budget name is untouched.
    assert 1439 <= spend(second, 2) <= 1440
    assert first.try_spend("okx:public", 5, capacity=5, window=2) == 0


WORKER = """
import sys
from liqsite.exchanges import http
from liqsite.exchanges.shared_budget import RedisBudget

http.shared_budget = RedisBudget(sys.argv[1], prefix=sys.argv[2])
http.wait_for_budget = lambda seconds: sys.exit(f"would wait {seconds:.0f} s")
limiter = http.shared_limiter("okx:history-candles", 5, 3600)
spent = 0
try:
    for _ in range(4):
        limiter.acquire()
        spent += 1
finally:
    print(spent, flush=True)
"""


def test_worker_processes_share_one_budget_per_exchange(redis_url, prefix):
    # Three separate Python processes each try 4 requests against a budget of 5: together they get 5, not 12.
    command = [sys.executable, "-c", WORKER, redis_url, prefix]
    workers = [subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(3)]
    results = [worker.communicate(timeout=60) for worker in workers]
    assert sum(int(out.strip()) for out, _ in results) == 5, results
    # The processes that ran out were told to wait for the next token, not allowed through.
    assert all("would wait" in err for (out, err) in results if int(out.strip()) < 4)


def test_the_plugins_limiter_waits_for_budget_another_process_spent(redis_url, prefix, monkeypatch):
    budget = RedisBudget(redis_url, prefix=prefix)
    monkeypatch.setattr(exchange_http, "shared_budget", budget)
    monkeypatch.setattr(exchange_http, "wait_for_budget", refuse_to_wait)
    limiter = exchange_http.shared_limiter("okx:history-candles", 10, 2)  # the OKX plugin's own candles budget
    other_process = RedisBudget(redis_url, prefix=prefix)
    assert all(other_process.try_spend("okx:history-candles", 1, capacity=10, window=2) == 0 for _ in range(10))
    with pytest.raises(Full) as waited:
        limiter.acquire()
    assert 0 < waited.value.args[0] <= 0.2  # one token refills in 2 / 10 s


def test_an_unreachable_redis_falls_back_to_the_process_budget(monkeypatch, caplog):
    # Nothing listens on port 1: the request still goes out, under this process's own limit, with a warning.
    monkeypatch.setattr(exchange_http, "shared_budget", RedisBudget("redis://127.0.0.1:1/0"))
    monkeypatch.setattr(exchange_http, "wait_for_budget", refuse_to_wait)
    with pytest.raises(BudgetUnavailable):
        exchange_http.shared_budget.try_spend("x", 1, capacity=1, window=1)
    limiter = exchange_http.ExchangeLimiter(f"test:{uuid.uuid4().hex}", 1, 60)
    assert limiter.acquire() == 0
    assert "unavailable" in caplog.text and "using this process's own" in caplog.text
    with pytest.raises(Full):
        limiter.acquire()
