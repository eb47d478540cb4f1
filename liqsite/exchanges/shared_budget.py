"""A request budget that every worker process shares, kept in Redis.

Exchanges limit requests per IP address, not per process: with four Celery
worker processes, four in-process limiters would together spend four times
the budget. When the deployment has Redis (``CACHE_URL``), each named budget
is one token bucket in Redis, updated by a single Lua script so that reading,
refilling and spending are one atomic step for all processes. The script reads
Redis's own clock, so processes on several machines agree on elapsed time.

Without Redis the in-process ``WeightLimiter`` is used (see
``liqsite.exchanges.http``); if Redis stops answering, the limiter falls back
to it too rather than failing the refresh.
"""

from __future__ import annotations

import threading

# KEYS[1] the bucket; ARGV capacity, refill rate (tokens per second), weight.
# Returns the seconds to wait before ``weight`` fits, as a string (Lua numbers
# returned to Redis are truncated to integers); "0" means it was spent.
_TOKEN_BUCKET = """
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local weight = tonumber(ARGV[3])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1])
local at = tonumber(state[2])
if tokens == nil or at == nil then
  tokens = capacity
  at = now
end
tokens = math.min(capacity, tokens + math.max(0, now - at) * rate)
local wait = 0
if tokens >= weight then
  tokens = tokens - weight
else
  wait = (weight - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity / rate * 1000) + 1000)
return tostring(wait)
"""


class BudgetUnavailable(Exception):
    """The shared budget cannot be reached; the caller falls back to its in-process limiter."""


class RedisBudget:
    """Named token buckets in the Redis at ``url``, shared by every process that uses the same URL and prefix."""

    def __init__(self, url: str, *, prefix: str = "liqsite:exchange-budget:"):
        self.url = url
        self.prefix = prefix
        self._script = None
        self._lock = threading.Lock()

    def _bucket_script(self):
        # Connect on first use, not at start-up: a web process that never calls an exchange never connects.
        with self._lock:
            if self._script is None:
                import redis

                client = redis.Redis.from_url(self.url, socket_timeout=5, socket_connect_timeout=5)
                self._script = client.register_script(_TOKEN_BUCKET)
            return self._script

    def try_spend(self, name: str, weight: float, *, capacity: float, window: float) -> float:
        """Spend ``weight`` of the ``capacity``-per-``window`` budget ``name`` if it is there (returns 0);
        otherwise spend nothing and return the seconds until it will be."""
        import redis

        try:
            return float(self._bucket_script()(keys=[self.prefix + name], args=[capacity, capacity / window, weight]))
        except redis.RedisError as error:
            raise BudgetUnavailable(f"{type(error).__name__}: {error}") from error

    def __repr__(self) -> str:
        return f"RedisBudget({self.prefix!r})"
