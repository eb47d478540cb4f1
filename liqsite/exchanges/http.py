"""Shared HTTP machinery for exchange plugins, bundled or third-party.

One client per plugin instance (``ExchangeHttp``) does what every exchange
client needs and nothing exchange-specific:

* an ``httpx.Client`` with timeouts and a User-Agent, built on the plugin's
  ``transport`` (the one seam for HTTP: ``None`` means the real network, tests
  pass a transport that replays recorded responses);
* a request-weight budget per exchange endpoint (``shared_limiter``) shared by
  every client of the same exchange, so a worker refreshing ten markets stays
  under the exchange's limit; with Redis configured it is shared by every
  worker process too (``shared_budget``), since exchanges count per IP;
* bounded retries with exponential backoff on timeouts, connection resets and
  5xx; 429 waits for ``Retry-After`` when it is short, 418 (an IP ban) never
  waits; when retries run out an ``ExchangeError(permanent=False,
  retry_after=...)`` lets the Celery task try again later;
* JSON decoding that names an HTML error page or a non-JSON body for what it
  is, and a plugin hook (``unwrap``) that checks the exchange's envelope.

``ResponseReader`` turns fields of a decoded body into floats and UTC times,
raising an ``ExchangeError`` that names exchange, endpoint and field for
anything missing, non-numeric, NaN or out of order, so a page is rejected
whole before any of it is yielded.

Tests override two module-level seams: ``transport_factory`` (used when a
plugin is built without a transport, e.g. by the Celery task) and ``sleep``.
"""

from __future__ import annotations

import email.utils
import json
import logging
import math
import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from liqsite.exchanges.errors import ExchangeError
from liqsite.exchanges.shared_budget import BudgetUnavailable, RedisBudget

log = logging.getLogger(__name__)

USER_AGENT = "liqsite (self-hosted liquidation heatmaps; +https://github.com/liqsite/liqsite)"
DEFAULT_TIMEOUT = httpx.Timeout(15.0, connect=5.0)


def _real_network() -> httpx.BaseTransport | None:
    return None


# The transport used when a plugin is constructed without one. ``None`` means
# httpx's real network transport; tests replace this to replay recordings
# through code paths that build plugins themselves (the refresh task).
transport_factory: Callable[[], httpx.BaseTransport | None] = _real_network


def sleep(seconds: float) -> None:
    """Wait between retries; tests replace it."""
    time.sleep(seconds)


def wait_for_budget(seconds: float) -> None:
    """Wait for the rate limiter's window to free up; tests replace it."""
    time.sleep(seconds)


def monotonic() -> float:
    """The limiter's clock; tests replace it together with ``wait_for_budget``."""
    return time.monotonic()


def utc_now() -> datetime:
    """The current time; plugins ask this (not ``datetime.now``) so tests can fix it."""
    return clock()


clock: Callable[[], datetime] = lambda: datetime.now(UTC)  # noqa: E731 - a seam tests replace


# --- rate limiting -------------------------------------------------------------


class WeightLimiter:
    """At most ``capacity`` request weight per ``window`` seconds (a sliding window).

    Exchanges publish their limits as weight per window per IP; staying at a
    fraction of it leaves room for other processes on the same machine.
    """

    def __init__(self, capacity: float, window: float):
        if capacity <= 0 or window <= 0:
            raise ValueError("capacity and window must be positive")
        self.capacity = capacity
        self.window = window
        self._spent: list[tuple[float, float]] = []  # (when, weight)
        self._lock = threading.Lock()

    def acquire(self, weight: float = 1.0) -> float:
        """Block until ``weight`` fits in the window; returns the seconds waited."""
        weight = min(weight, self.capacity)
        waited = 0.0
        while True:
            with self._lock:
                now = monotonic()
                self._spent = [(when, w) for when, w in self._spent if now - when < self.window]
                used = sum(w for _, w in self._spent)
                if used + weight <= self.capacity:
                    self._spent.append((now, weight))
                    return waited
                # Wait until enough of the oldest spending leaves the window.
                freed, delay = 0.0, self.window
                for when, w in self._spent:
                    freed += w
                    if used - freed + weight <= self.capacity:
                        delay = self.window - (now - when)
                        break
            delay = max(delay, 0.01)
            wait_for_budget(delay)
            waited += delay

    def reset(self) -> None:
        """Forget what was spent (tests start each case with a full budget)."""
        with self._lock:
            self._spent.clear()


# The budget every process shares (``RedisBudget`` when the deployment has Redis;
# the markets app sets it at start-up). ``None`` keeps each budget in this process.
shared_budget: RedisBudget | None = None


class ExchangeLimiter:
    """One exchange's named request budget: shared through ``shared_budget`` when set, else in-process.

    Plugins create these at import time (``shared_limiter``), before settings
    are read, so the choice between shared and local is made at each request.
    """

    def __init__(self, name: str, capacity: float, window: float):
        self.name = name
        self.capacity = capacity
        self.window = window
        self.local = WeightLimiter(capacity, window)

    def acquire(self, weight: float = 1.0) -> float:
        """Block until ``weight`` fits in the budget; returns the seconds waited."""
        budget = shared_budget
        if budget is None:
            return self.local.acquire(weight)
        weight = min(weight, self.capacity)
        waited = 0.0
        while True:
            try:
                delay = budget.try_spend(self.name, weight, capacity=self.capacity, window=self.window)
            except BudgetUnavailable as error:
                # Better a per-process budget than no request at all; the warning says the limit is no longer shared.
                log.warning("shared request budget %s unavailable (%s); using this process's own", self.name, error)
                return waited + self.local.acquire(weight)
            if delay <= 0:
                return waited
            delay = max(delay, 0.01)
            wait_for_budget(delay)
            waited += delay

    def reset(self) -> None:
        """Forget what this process spent (tests start each case with a full budget)."""
        self.local.reset()


_limiters: dict[str, ExchangeLimiter] = {}
_limiters_lock = threading.Lock()


def shared_limiter(name: str, capacity: float, window: float) -> ExchangeLimiter:
    """The limiter called ``name`` (created on first use), shared by every client of the exchange in this
    process and, when ``shared_budget`` is set, by every process."""
    with _limiters_lock:
        limiter = _limiters.get(name)
        if limiter is None:
            limiter = _limiters[name] = ExchangeLimiter(name, capacity, window)
        return limiter


# --- retries ---------------------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    """How hard one request tries before handing the problem to the task queue."""

    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 8.0
    # A 429 asking us to wait longer than this is handed to the task queue
    # (which retries the whole refresh later) instead of blocking a worker.
    max_inline_wait: float = 10.0

    def delay(self, attempt: int) -> float:
        """Exponential backoff with jitter for the retry after ``attempt`` (1-based)."""
        return min(self.max_delay, self.base_delay * 2 ** (attempt - 1)) * random.uniform(0.75, 1.25)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


# --- the client ------------------------------------------------------------------

Unwrap = Callable[[Any, "ResponseReader"], Any]


def _identity(body: Any, reader: ResponseReader) -> Any:
    return body


class ExchangeHttp:
    """GET JSON from one exchange, politely and with clear errors.

    ``unwrap(body, reader)`` checks the exchange's envelope and returns the
    payload, raising ``ExchangeError`` for error bodies: ``permanent=True`` for
    errors retrying cannot fix (unknown symbol, bad parameter), ``False`` for
    ones that may pass (the exchange's own "busy" or rate-limit codes, which
    are then retried here like a 5xx).
    """

    def __init__(
        self,
        exchange: str,
        base_url: str,
        *,
        transport: httpx.BaseTransport | None = None,
        unwrap: Unwrap = _identity,
        retry: RetryPolicy = RetryPolicy(),
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
    ):
        self.exchange = exchange
        self.unwrap = unwrap
        self.retry = retry
        if transport is None:
            transport = transport_factory()
        self.client = httpx.Client(
            base_url=base_url,
            transport=transport,
            timeout=timeout,
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
            follow_redirects=False,
        )

    def close(self) -> None:
        self.client.close()

    def get_json(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        weight: float = 1.0,
        limiter: WeightLimiter | ExchangeLimiter | None = None,
    ) -> Any:
        """GET ``path`` and return the unwrapped JSON payload, or raise ``ExchangeError``."""
        reader = ResponseReader(self.exchange, path)
        last_error: ExchangeError | None = None
        for attempt in range(1, self.retry.attempts + 1):
            if limiter is not None:
                limiter.acquire(weight)
            try:
                response = self.client.get(path, params=dict(params or {}))
            except httpx.TimeoutException as error:
                last_error = reader.transient(f"timed out after {self.retry.attempts} attempts ({type(error).__name__})")
            except httpx.TransportError as error:
                # Connection refused or reset, DNS failure, a dropped stream.
                last_error = reader.transient(
                    f"network error after {self.retry.attempts} attempts: {type(error).__name__}: {error}"
                )
            else:
                try:
                    return self._handle(response, reader, attempt)
                except _RetryAfter as wait:
                    last_error = wait.error
                    if wait.seconds is not None:
                        sleep(wait.seconds)
                        continue
            if attempt < self.retry.attempts:
                sleep(self.retry.delay(attempt))
        assert last_error is not None
        raise last_error

    def _handle(self, response: httpx.Response, reader: ResponseReader, attempt: int) -> Any:
        status = response.status_code
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        last = attempt >= self.retry.attempts
        if status == 418:
            # Binance answers 418 once an IP kept going after 429s: it is banned
            # for Retry-After seconds. Waiting in-process would only hold a worker.
            raise reader.transient(
                f"HTTP 418: this IP is banned by the exchange for {retry_after or 'an unknown number of'} seconds",
                retry_after=retry_after or 300.0,
                banned=True,
            )
        if status == 429:
            error = reader.transient("HTTP 429: rate limited", retry_after=retry_after or 60.0)
            wait = retry_after if retry_after is not None else self.retry.delay(attempt)
            if last or wait > self.retry.max_inline_wait:
                raise error
            raise _RetryAfter(error, wait)
        if status >= 500:
            error = reader.transient(f"HTTP {status} from the exchange{_snippet(response)}", retry_after=retry_after)
            if last:
                raise error
            raise _RetryAfter(error, None)
        body = decode_json(response, reader)
        try:
            payload = self.unwrap(body, reader)
        except ExchangeError as error:
            if 400 <= status < 500:
                error.permanent = True  # a 4xx other than 429/418 is the request's fault
                raise
            if error.permanent or last:
                raise
            raise _RetryAfter(
                error, error.retry_after if error.retry_after and error.retry_after <= self.retry.max_inline_wait else None
            ) from None
        if 400 <= status < 500:
            raise reader.permanent(f"HTTP {status}{_snippet(response)}")
        if status != 200:
            raise reader.malformed(f"unexpected HTTP {status}")
        return payload


class _RetryAfter(Exception):
    """Internal: this attempt failed transiently; wait ``seconds`` (or back off) and retry."""

    def __init__(self, error: ExchangeError, seconds: float | None):
        self.error = error
        self.seconds = seconds


def _snippet(response: httpx.Response, limit: int = 120) -> str:
    text = " ".join(response.text.split())[:limit]
    return f": {text}" if text else ""


def decode_json(response: httpx.Response, reader: ResponseReader) -> Any:
    """The body as JSON, or an ``ExchangeError`` saying what came instead."""
    text = response.text
    content_type = response.headers.get("Content-Type", "")
    stripped = text.lstrip()
    if "html" in content_type.lower() or stripped[:1] == "<":
        title = ""
        lower = stripped.lower()
        if "<title>" in lower:
            start = lower.index("<title>") + 7
            title = " ".join(stripped[start : lower.find("</title>", start)].split())[:80]
        raise reader.malformed(
            f"expected JSON, got an HTML page (HTTP {response.status_code}{', ' + repr(title) if title else ''});"
            " the exchange or a proxy in front of it is having trouble"
        )
    if not stripped:
        raise reader.malformed(f"expected JSON, got an empty body (HTTP {response.status_code})")
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except ValueError as error:
        raise reader.malformed(f"expected JSON, got {stripped[:60]!r}… ({error})") from None


def _reject_constant(name: str):
    # json accepts NaN / Infinity literals by default; exchanges never mean them.
    raise ValueError(f"{name} is not valid JSON")


# --- reading fields --------------------------------------------------------------

# Sanity bounds for millisecond timestamps: 2009-01-01 .. 2100-01-01. A value
# outside means seconds were sent for milliseconds (or garbage).
_MIN_MS = 1_230_768_000_000
_MAX_MS = 4_102_444_800_000


class ResponseReader:
    """Reads fields of one endpoint's body; every problem names exchange, endpoint and field."""

    def __init__(self, exchange: str, endpoint: str):
        self.exchange = exchange
        self.endpoint = endpoint

    # errors
    def malformed(self, message: str, field: str = "") -> ExchangeError:
        """A body we refuse to read. Transient: the next refresh may get a sound one."""
        return ExchangeError(message, permanent=False, exchange=self.exchange, endpoint=self.endpoint, field=field)

    def transient(self, message: str, *, retry_after: float | None = None, banned: bool = False) -> ExchangeError:
        return ExchangeError(
            message, permanent=False, exchange=self.exchange, endpoint=self.endpoint, retry_after=retry_after, banned=banned
        )

    def permanent(self, message: str, field: str = "") -> ExchangeError:
        return ExchangeError(message, permanent=True, exchange=self.exchange, endpoint=self.endpoint, field=field)

    # structure
    def field(self, obj: Any, key: str | int, where: str = "") -> Any:
        """``obj[key]``; missing is an error naming ``where.key``."""
        name = f"{where}.{key}" if where else str(key)
        try:
            return obj[key]
        except (KeyError, IndexError, TypeError):
            kind = type(obj).__name__
            raise self.malformed(
                f"missing (got a {kind}{' of ' + str(len(obj)) + ' items' if isinstance(obj, (list, tuple)) else ''})", name
            ) from None

    def mapping(self, value: Any, where: str) -> Mapping:
        if not isinstance(value, Mapping):
            raise self.malformed(f"expected an object, got {type(value).__name__}", where)
        return value

    def sequence(self, value: Any, where: str) -> Sequence:
        if not isinstance(value, list):
            raise self.malformed(f"expected a list, got {type(value).__name__}", where)
        return value

    # values
    def number(self, value: Any, where: str) -> float:
        """A finite float from a JSON number or a numeric string (exchanges send both)."""
        if isinstance(value, bool) or value is None:
            raise self.malformed(f"expected a number, got {value!r}", where)
        if isinstance(value, (int, float)):
            result = float(value)
        elif isinstance(value, str):
            try:
                result = float(value)
            except ValueError:
                raise self.malformed(f"expected a number, got {value[:40]!r}", where) from None
        else:
            raise self.malformed(f"expected a number, got {type(value).__name__}", where)
        if not math.isfinite(result):
            raise self.malformed(f"expected a finite number, got {value!r}", where)
        return result

    def optional_number(self, value: Any, where: str) -> float | None:
        """Like ``number`` but ``None`` / ``""`` (how exchanges say "not set") give ``None``."""
        if value is None or value == "":
            return None
        return self.number(value, where)

    def time_ms(self, value: Any, where: str) -> datetime:
        """A UTC datetime from milliseconds since the epoch (number or numeric string)."""
        ms = self.number(value, where)
        if not (_MIN_MS <= ms <= _MAX_MS) or ms != int(ms):
            raise self.malformed(f"expected a millisecond timestamp, got {value!r}", where)
        return from_ms(ms)

    def ascending(self, rows: Sequence, where: str, *, time_of: Callable[[Any], datetime] = lambda row: row.time) -> Sequence:
        """Check strictly increasing times (after any reversal of newest-first lists)."""
        for index in range(1, len(rows)):
            if time_of(rows[index]) <= time_of(rows[index - 1]):
                raise self.malformed(
                    f"times out of order at row {index + 1}: {time_of(rows[index]).isoformat()} "
                    f"after {time_of(rows[index - 1]).isoformat()}",
                    where,
                )
        return rows


# --- paging helpers -----------------------------------------------------------------


def to_ms(when: datetime) -> int:
    """Milliseconds since the epoch of an aware datetime."""
    return int(when.timestamp() * 1000)


def from_ms(ms: float) -> datetime:
    """The UTC datetime of milliseconds since the epoch (the inverse of :func:`to_ms`)."""
    return datetime.fromtimestamp(int(ms) / 1000, tz=UTC)


def windows(start_ms: int, end_ms: int, step_ms: int) -> Iterable[tuple[int, int]]:
    """Consecutive ``[start, stop)`` windows of ``step_ms`` covering ``[start_ms, end_ms]``, oldest first."""
    cursor = start_ms
    while cursor <= end_ms:
        yield cursor, cursor + step_ms
        cursor += step_ms


def floor_ms(ms: int, step_ms: int) -> int:
    """``ms`` rounded down to a multiple of ``step_ms``."""
    return ms - ms % step_ms


def ceil_ms(ms: int, step_ms: int) -> int:
    """``ms`` rounded up to a multiple of ``step_ms``."""
    return -(-ms // step_ms) * step_ms


def fetch_windows(
    fetch: Callable[[int, int], Sequence],
    *,
    start_ms: int,
    end_ms: int,
    step_ms: int,
    since_ms: int | None = None,
    keep: Callable[[Any], bool] | None = None,
) -> Iterable[list]:
    """Page forward through ``[start_ms, end_ms]`` in windows of ``step_ms``, oldest first.

    ``fetch(lo, hi)`` returns the parsed rows (each with a ``time``) of the
    window ``[lo, hi)``, already checked. Rows outside the window, before
    ``since_ms`` or refused by ``keep`` are dropped (exchanges round window
    edges differently), and each non-empty window is yielded as one batch.
    Sizing the window to the endpoint's page limit means one request per batch.
    """
    for lo, hi in windows(start_ms, end_ms, step_ms):
        rows = [
            row
            for row in fetch(lo, hi)
            if lo <= to_ms(row.time) < hi and (since_ms is None or to_ms(row.time) >= since_ms) and (keep is None or keep(row))
        ]
        if rows:
            yield rows
