"""Test helpers for exchange plugins: replaying recorded responses, and the contract every plugin passes.

A plugin's test module subclasses ``PluginContractTests`` in a ``Test*``
class (pytest collects it) and fills in the hooks: which plugin, which
recorded bodies answer which paths, and what they should parse to. Every
bundled plugin and the dummy third-party plugin in ``tests/`` pass the same
tests, so a third-party plugin can run them too::

    from liqsite.exchanges.testing import PluginContractTests, ReplayTransport, recorded

    class TestKraken(PluginContractTests):
        plugin_class = KrakenExchange
        ...

Responses are replayed at the plugin's one HTTP seam, its ``transport``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs

import httpx
import pytest

from liqsite.exchanges import ExchangeError, ExchangePlugin
from liqsite.exchanges import http as exchange_http

Responder = httpx.Response | Callable[[httpx.Request], httpx.Response] | BaseException


def recorded(path: str | Path, *, status: int = 200, headers: Mapping[str, str] | None = None) -> httpx.Response:
    """A response whose body is a recorded file, byte for byte."""
    content = Path(path).read_bytes()
    return httpx.Response(status, content=content, headers={"Content-Type": "application/json", **(headers or {})})


def json_response(payload: Any, *, status: int = 200, headers: Mapping[str, str] | None = None) -> httpx.Response:
    """A response carrying ``payload`` as JSON (for bodies derived from recordings in a test)."""
    return httpx.Response(
        status, content=json.dumps(payload).encode(), headers={"Content-Type": "application/json", **(headers or {})}
    )


def html_page(status: int = 200) -> httpx.Response:
    """What a CDN or maintenance proxy sends instead of JSON."""
    body = f"<html><head><title>{status} Service Unavailable</title></head><body>Please try again later.</body></html>"
    return httpx.Response(status, content=body.encode(), headers={"Content-Type": "text/html"})


def raises(error: type[httpx.TransportError]) -> Callable[[httpx.Request], httpx.Response]:
    """A responder that fails like the network does (``httpx.ReadTimeout``, ``httpx.ConnectError``…)."""

    def respond(request: httpx.Request) -> httpx.Response:
        raise error(f"{error.__name__} (replayed)", request=request)

    return respond


class ReplayTransport(httpx.MockTransport):
    """Answers requests by URL path from recorded responses, and remembers every request.

    ``routes`` maps a path to one responder (answers every request) or a list
    of responders (consumed in order; one request too many fails the test, so
    paging tests prove exactly how many pages a plugin asked for).
    """

    def __init__(self, routes: Mapping[str, Responder | Sequence[Responder]]):
        self.routes = {path: (list(value) if isinstance(value, (list, tuple)) else value) for path, value in routes.items()}
        self.requests: list[httpx.Request] = []
        super().__init__(self._respond)

    def _respond(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        if path not in self.routes:
            raise AssertionError(f"no recording for {request.method} {request.url}; recorded paths: {', '.join(self.routes)}")
        route = self.routes[path]
        if isinstance(route, list):
            if not route:
                raise AssertionError(f"no recorded response left for {request.method} {request.url}")
            route = route.pop(0)
        if isinstance(route, BaseException):
            raise route
        response = route(request) if callable(route) and not isinstance(route, httpx.Response) else route
        # A fresh copy each time: an httpx.Response body can be read only once per request.
        return httpx.Response(response.status_code, headers=response.headers, content=response.content)

    def to(self, path: str) -> list[httpx.Request]:
        """The requests made to ``path``."""
        return [request for request in self.requests if request.url.path == path]


def query(request: httpx.Request) -> dict[str, str]:
    """A request's query parameters (last value wins)."""
    return {key: values[-1] for key, values in parse_qs(request.url.query.decode()).items()}


@dataclass(frozen=True)
class Expected:
    """What one series parses to from the recordings: row count and its first and last rows."""

    count: int
    first: Any
    last: Any
    # The clock while fetching this series (recordings of different series come from different dates).
    now: datetime | None = None


def assert_row(actual: Any, expected: Any, *, rel: float = 1e-9) -> None:
    """Dataclass rows equal, floats to ``rel``."""
    assert type(actual) is type(expected), (actual, expected)
    for item in fields(expected):
        got, want = getattr(actual, item.name), getattr(expected, item.name)
        if isinstance(want, float):
            assert got == pytest.approx(want, rel=rel), f"{item.name}: {got} != {want}"
        else:
            assert got == want, f"{item.name}: {got!r} != {want!r}"


class PluginContractTests:
    """The behaviour every exchange plugin shares. Subclass and set the hooks.

    Hooks (class attributes or methods):

    * ``plugin_class``, ``settings``: the plugin under test.
    * ``symbol``, ``interval``: the market the recordings are of.
    * ``now``: the clock during the tests (just after the recordings).
    * ``routes()``: path → responder for every request a full backfill of
      ``symbol`` at ``interval`` makes, from recordings.
    * ``expected``: method name (``candles``, ``open_interest``,
      ``funding_rates``, ``long_short_ratios``) → ``Expected``.
    * ``expected_instrument``: ``instrument(symbol)`` from the recordings.
    * ``candles_path`` and ``resume_since``: where faults are injected, and a
      ``since`` inside the recorded candles.
    * ``requested_start(request)``: the start time a candles request asked for.
    * ``paging_routes()``: routes making ``candles(symbol, interval,
      paging_since)`` answer in ``paging_pages`` pages.
    * ``error_response``: a recorded error body (unknown symbol) with its status.
    * ``malformed_candles``: name → (responder for the candles path, text the
      error must contain): missing field, string for a number, NaN, times
      out of order, wrong envelope.
    """

    plugin_class: ClassVar[type[ExchangePlugin]]
    settings: ClassVar[dict] = {}
    symbol: ClassVar[str]
    interval: ClassVar[str]
    now: ClassVar[datetime]
    expected: ClassVar[Mapping[str, Expected]]
    expected_instrument: ClassVar[Any]
    candles_path: ClassVar[str]
    resume_since: ClassVar[datetime]
    paging_since: ClassVar[datetime | None] = None
    paging_pages: ClassVar[int] = 2
    # (module, attribute, size): shrink the plugin's page size so a short recording spans several pages.
    page_size: ClassVar[tuple[Any, str, int] | None] = None
    error_response: ClassVar[httpx.Response]
    malformed_candles: ClassVar[Mapping[str, tuple[Responder, str]]] = {}

    def routes(self) -> dict[str, Any]:
        raise NotImplementedError

    def paging_routes(self) -> dict[str, Any]:
        raise NotImplementedError

    def requested_start(self, request: httpx.Request) -> datetime:
        raise NotImplementedError

    # --- fixtures -------------------------------------------------------------------
    @pytest.fixture(autouse=True)
    def _contract_environment(self, monkeypatch):
        """A fixed clock and no real waiting; retry sleeps are recorded in ``self.sleeps``."""
        fake_clock(monkeypatch, lambda: self.clock_now or self.now)
        self.clock_now: datetime | None = None
        self.sleeps: list[float] = []
        monkeypatch.setattr(exchange_http, "sleep", self.sleeps.append)

    def make(self, routes: Mapping[str, Any]) -> tuple[ExchangePlugin, ReplayTransport]:
        transport = ReplayTransport(routes)
        return self.plugin_class(dict(self.settings), transport=transport), transport

    def with_candles(self, responder: Responder | Sequence[Responder]) -> tuple[ExchangePlugin, ReplayTransport]:
        return self.make({**self.routes(), self.candles_path: responder})

    @staticmethod
    def batches(plugin: ExchangePlugin, method: str, *args) -> list[list]:
        return [list(batch) for batch in getattr(plugin, method)(*args)]

    def call_args(self, method: str, since: datetime | None) -> tuple:
        return (self.symbol, since) if method == "funding_rates" else (self.symbol, self.interval, since)

    # --- every endpoint parses from recordings ------------------------------------------
    def test_instrument_from_the_recorded_listing(self):
        plugin, _ = self.make(self.routes())
        with plugin:
            assert plugin.instrument(self.symbol) == self.expected_instrument
            with pytest.raises(ExchangeError) as caught:
                plugin.instrument("NO-SUCH-SYMBOL")
        assert caught.value.permanent

    def test_each_series_parses_from_the_recordings(self):
        assert self.expected, "declare what the recordings parse to"
        for method, expected in self.expected.items():
            self.clock_now = expected.now
            plugin, _ = self.make(self.routes())
            with plugin:
                rows = rows_of(self.batches(plugin, method, *self.call_args(method, None)))
            assert len(rows) == expected.count, method
            assert_row(rows[0], expected.first)
            assert_row(rows[-1], expected.last)

    def test_batches_are_oldest_first_with_utc_times(self):
        for method, expected in self.expected.items():
            self.clock_now = expected.now
            plugin, _ = self.make(self.routes())
            with plugin:
                times = [row.time for row in rows_of(self.batches(plugin, method, *self.call_args(method, None)))]
            assert times == sorted(times) and len(set(times)) == len(times), method
            assert all(t.utcoffset().total_seconds() == 0 for t in times), method

    # --- paging and resuming ---------------------------------------------------------
    def test_paging_yields_each_page_as_a_batch_oldest_first(self, monkeypatch):
        if self.page_size is not None:
            owner, name, size = self.page_size
            monkeypatch.setattr(owner, name, size)
        plugin, transport = self.make(self.paging_routes())
        with plugin:
            batches = self.batches(plugin, "candles", self.symbol, self.interval, self.paging_since)
        assert len(batches) == self.paging_pages
        for earlier, later in zip(batches, batches[1:]):
            assert earlier[-1].time < later[0].time
        assert len(transport.to(self.candles_path)) >= self.paging_pages

    def test_a_resumed_fetch_starts_at_since_and_returns_nothing_older(self):
        plugin, transport = self.make(self.routes())
        with plugin:
            rows = rows_of(self.batches(plugin, "candles", self.symbol, self.interval, self.resume_since))
        requests = transport.to(self.candles_path)
        assert requests, "the plugin asked for no candles"
        # It asks from ``since`` (not from the start of history again) …
        assert self.requested_start(requests[0]) == self.resume_since
        # … and yields only rows at or after it.
        assert rows and all(row.time >= self.resume_since for row in rows)

    # --- faults -------------------------------------------------------------------------
    def _candles(self, plugin):
        return self.batches(plugin, "candles", self.symbol, self.interval, self.resume_since)

    def test_a_5xx_is_retried_with_backoff_then_succeeds(self):
        good = self.routes()[self.candles_path]
        good = good[0] if isinstance(good, (list, tuple)) else good
        plugin, transport = self.with_candles([html_page(503), httpx.Response(502), good])
        with plugin:
            assert self._candles(plugin)
        assert len(transport.to(self.candles_path)) == 3
        assert len(self.sleeps) == 2 and self.sleeps[1] > self.sleeps[0] * 1.1

    def test_timeouts_and_resets_retry_a_bounded_number_of_times_then_fail_transiently(self):
        for error in (httpx.ReadTimeout, httpx.ConnectError, httpx.RemoteProtocolError):
            plugin, transport = self.with_candles(raises(error))
            with plugin, pytest.raises(ExchangeError) as caught:
                self._candles(plugin)
            assert not caught.value.permanent
            assert len(transport.to(self.candles_path)) == exchange_http.RetryPolicy().attempts
            assert plugin.label in str(caught.value)

    def test_429_waits_for_retry_after_then_hands_over_to_the_task_queue(self):
        limited = httpx.Response(429, headers={"Retry-After": "2"}, content=b"{}")
        plugin, transport = self.with_candles(limited)
        with plugin, pytest.raises(ExchangeError) as caught:
            self._candles(plugin)
        assert not caught.value.permanent and caught.value.retry_after == 2
        assert 2.0 in self.sleeps and len(transport.to(self.candles_path)) == exchange_http.RetryPolicy().attempts

        long_wait = httpx.Response(429, headers={"Retry-After": "120"}, content=b"{}")
        plugin, transport = self.with_candles(long_wait)
        with plugin, pytest.raises(ExchangeError) as caught:
            self._candles(plugin)
        assert caught.value.retry_after == 120 and len(transport.to(self.candles_path)) == 1

    def test_418_ban_is_not_waited_out_in_process(self):
        plugin, transport = self.with_candles(httpx.Response(418, headers={"Retry-After": "600"}, content=b""))
        with plugin, pytest.raises(ExchangeError) as caught:
            self._candles(plugin)
        assert not caught.value.permanent and caught.value.retry_after == 600 and caught.value.banned
        assert len(transport.to(self.candles_path)) == 1 and not self.sleeps

    def test_an_error_body_for_an_unknown_symbol_is_permanent(self):
        plugin, transport = self.with_candles(self.error_response)
        with plugin, pytest.raises(ExchangeError) as caught:
            self._candles(plugin)
        assert caught.value.permanent
        assert len(transport.to(self.candles_path)) == 1

    # --- malformed responses --------------------------------------------------------------
    def test_an_html_page_is_named_as_such(self):
        plugin, _ = self.with_candles(html_page(200))
        with plugin, pytest.raises(ExchangeError) as caught:
            self._candles(plugin)
        assert "HTML page" in str(caught.value) and self.candles_path in str(caught.value)
        assert not caught.value.permanent

    def test_malformed_pages_raise_naming_the_field_before_anything_is_yielded(self):
        assert {"missing field", "string for a number", "NaN", "out of order"} <= set(self.malformed_candles)
        for name, (responder, text) in self.malformed_candles.items():
            plugin, _ = self.with_candles(responder)
            with plugin:
                batches = iter(plugin.candles(self.symbol, self.interval, self.resume_since))
                with pytest.raises(ExchangeError) as caught:
                    next(batches)  # the bad page is refused before its batch exists
            message = str(caught.value)
            assert text in message, f"{name}: {message}"
            assert plugin.label in message and self.candles_path in message, f"{name}: {message}"


def fake_clock(monkeypatch, now: Callable[[], datetime]) -> None:
    """Fix the plugins' clock and make rate-limit waits instant (the limiter's clock jumps instead)."""
    offset = [0.0]
    real_monotonic = exchange_http.time.monotonic
    monkeypatch.setattr(exchange_http, "clock", now)
    monkeypatch.setattr(exchange_http, "monotonic", lambda: real_monotonic() + offset[0])
    monkeypatch.setattr(exchange_http, "wait_for_budget", lambda seconds: offset.__setitem__(0, offset[0] + seconds))
    # Budgets in this process only: the shared (Redis) budget has its own tests.
    monkeypatch.setattr(exchange_http, "shared_budget", None)
    for limiter in list(exchange_http._limiters.values()):
        limiter.reset()


def rows_of(batches: Iterable[Sequence]) -> list:
    """All rows of all batches, in order."""
    return [row for batch in batches for row in batch]
