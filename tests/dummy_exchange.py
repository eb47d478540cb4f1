"""A third-party exchange plugin that lives outside liqsite, for discovery tests.

It is registered the way a pip package would register it (an entry point in
the ``liqsite.exchanges`` group, see ``conftest.dummy_plugin_installed``), and
its behaviour is chosen through its settings so tests can make it fail in
each way a real exchange fails.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from liqsite.exchanges import (
    INTERVAL_SECONDS,
    Candle,
    ExchangeError,
    ExchangePlugin,
    Instrument,
    OpenInterestPoint,
)

START = datetime(2024, 1, 1, tzinfo=UTC)
STEPS = 48


class DummyExchange(ExchangePlugin):
    label = "Dummy exchange (tests)"
    description = "A deterministic exchange used by liqsite's tests."
    intervals = ("15m", "1h")
    default_settings = {"mode": "ok", "steps": STEPS}

    def instruments(self):
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
        self.instrument(symbol)
        self._fail_if_asked("/candles")
        rows = []
        for t in self._times(interval, since):
            index = int((t - START).total_seconds() // INTERVAL_SECONDS[interval])
            price = 100.0 + (index % 7)
            high = price + 2.0 if self.settings["mode"] != "malformed" or index != 5 else price - 5.0
            rows.append(Candle(t, price, high, price - 1.0, price + 0.5, 10.0 + index, 4.0))
        # Two pages, like a paging exchange.
        middle = len(rows) // 2
        return [page for page in (rows[:middle], rows[middle:]) if page]

    def open_interest(self, symbol, interval, since):
        self._fail_if_asked("/open-interest")
        return [[OpenInterestPoint(t, 1000.0 + i, None) for i, t in enumerate(self._times(interval, since))]]
