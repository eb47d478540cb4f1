"""A third-party exchange plugin that lives outside liqsite, for discovery tests.

It is registered the way a pip package would register it (an entry point in
the ``liqsite.exchanges`` group, see ``conftest.dummy_plugin_installed``), and
its behaviour is chosen through its settings so tests can make it fail in
each way a real exchange fails.

With ``{"source": "http"}`` it fetches the same data over HTTP through
liqsite's public HTTP module, the way a third-party plugin would, from the
tiny JSON API that ``DummyServer`` below serves at the transport seam; that
is how it passes the shared plugin contract tests.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx

from liqsite.exchanges import (
    INTERVAL_SECONDS,
    Candle,
    ExchangeError,
    ExchangePlugin,
    Instrument,
    OpenInterestPoint,
    http,
)
from liqsite.exchanges.http import ExchangeHttp, ResponseReader, fetch_windows, floor_ms, to_ms

START = datetime(2024, 1, 1, tzinfo=UTC)
STEPS = 48
PAGE_ROWS = 24  # rows per page of the dummy HTTP API


def _price(index: int) -> float:
    return 100.0 + (index % 7)


class DummyExchange(ExchangePlugin):
    label = "Dummy exchange (tests)"
    description = "A deterministic exchange used by liqsite's tests."
    intervals = ("15m", "1h")
    default_settings = {"mode": "ok", "steps": STEPS, "source": "generated"}

    def __init__(self, settings=None, *, transport=None):
        super().__init__(settings, transport=transport)
        self.http = None
        if self.settings["source"] == "http":
            self.http = ExchangeHttp(self.label, "https://api.dummy.invalid", transport=transport, unwrap=_unwrap)

    def close(self):
        if self.http is not None:
            self.http.close()

    def instruments(self):
        if self.http is not None:
            rows = self.http.get_json("/v1/instruments")
            reader = ResponseReader(self.label, "/v1/instruments")
            return tuple(
                Instrument(
                    reader.field(row, "symbol"),
                    row["base"],
                    row["quote"],
                    "linear",
                    1.0,
                    reader.number(reader.field(row, "tick"), "tick"),
                )
                for row in reader.sequence(rows, "data")
            )
        return (Instrument("DUMMYUSDT", "DUMMY", "USDT", "linear", 1.0, 0.01),)

    def _fail_if_asked(self, endpoint: str) -> None:
        mode = self.settings["mode"]
        if mode == "permanent":
            raise ExchangeError("symbol delisted", permanent=True, exchange=self.label, endpoint=endpoint)
        if mode == "transient":
            raise ExchangeError("HTTP 503 from upstream", permanent=False, exchange=self.label, endpoint=endpoint, retry_after=7)

    def _times(self, interval, since):
        step = timedelta(seconds=INTERVAL_SECONDS[interval])
        times = [START + i * step for i in range(self.settings["steps"])]
        return [t for t in times if since is None or t >= since]

    def candles(self, symbol, interval, since):
        if self.http is not None:
            return self._candles_over_http(symbol, interval, since)
        self.instrument(symbol)
        self._fail_if_asked("/candles")
        rows = []
        for t in self._times(interval, since):
            index = int((t - START).total_seconds() // INTERVAL_SECONDS[interval])
            price = _price(index)
            high = price + 2.0 if self.settings["mode"] != "malformed" or index != 5 else price - 5.0
            rows.append(Candle(t, price, high, price - 1.0, price + 0.5, 10.0 + index, 4.0))
        # Two pages, like a paging exchange.
        middle = len(rows) // 2
        return [page for page in (rows[:middle], rows[middle:]) if page]

    def open_interest(self, symbol, interval, since):
        self._fail_if_asked("/open-interest")
        return [[OpenInterestPoint(t, 1000.0 + i, None) for i, t in enumerate(self._times(interval, since))]]

    def _candles_over_http(self, symbol, interval, since):
        step = INTERVAL_SECONDS[interval] * 1000
        start = floor_ms(to_ms(since or START), step)

        def fetch(lo, hi):
            body = self.http.get_json("/v1/candles", {"symbol": symbol, "interval": interval, "start": lo, "end": hi})
            reader = ResponseReader(self.label, "/v1/candles")
            candles = []
            for index, row in enumerate(reader.sequence(body, "data")):
                where = f"data[{index}]"
                if len(reader.sequence(row, where)) != 7:
                    raise reader.malformed(f"a row has {len(row)} fields, expected 7", where)
                names = ("open", "high", "low", "close", "volume", "taker_buy_volume")
                values = [reader.number(value, f"{where}.{name}") for value, name in zip(row[1:], names)]
                candles.append(Candle(reader.time_ms(row[0], f"{where}.time"), *values))
            return list(reader.ascending(candles, "time"))

        return fetch_windows(
            fetch,
            start_ms=start,
            end_ms=to_ms(http.utc_now()),
            step_ms=step * PAGE_ROWS,
            since_ms=to_ms(since) if since else None,
        )


def _unwrap(body, reader):
    """The dummy API's envelope: ``{"ok": true, "data": ...}`` or ``{"ok": false, "error": "..."}``."""
    envelope = reader.mapping(body, "body")
    if reader.field(envelope, "ok") is not True:
        raise reader.permanent(f"refused: {envelope.get('error', '')}")
    return reader.field(envelope, "data")


class DummyServer:
    """The dummy exchange's JSON API, served at the transport seam (its "recordings").

    ``/v1/candles?start=&end=`` answers the deterministic steps in
    ``[start, end)`` at most ``PAGE_ROWS`` at a time, as a paging exchange does.
    """

    def __init__(self, steps: int = STEPS):
        self.steps = steps

    def instruments(self, request: httpx.Request) -> httpx.Response:
        return _json({"ok": True, "data": [{"symbol": "DUMMYUSDT", "base": "DUMMY", "quote": "USDT", "tick": "0.01"}]})

    def candles(self, request: httpx.Request) -> httpx.Response:
        params = request.url.params
        if params["symbol"] != "DUMMYUSDT":
            return _json({"ok": False, "error": f"unknown symbol {params['symbol']}"}, status=400)
        step = INTERVAL_SECONDS[params["interval"]] * 1000
        first = to_ms(START)
        rows = []
        for index in range(self.steps):
            time = first + index * step
            if int(params["start"]) <= time < int(params["end"]) and len(rows) < PAGE_ROWS:
                price = _price(index)
                rows.append([time, str(price), str(price + 2.0), str(price - 1.0), str(price + 0.5), str(10.0 + index), "4.0"])
        return _json({"ok": True, "data": rows})

    def routes(self) -> dict:
        return {"/v1/instruments": self.instruments, "/v1/candles": self.candles}


def _json(payload, status: int = 200) -> httpx.Response:
    return httpx.Response(status, content=json.dumps(payload).encode(), headers={"Content-Type": "application/json"})
