"""The dummy third-party plugin passes the same contract as the bundled ones, over its own tiny API."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx

from liqsite.exchanges import Candle, Instrument
from liqsite.exchanges.testing import Expected, PluginContractTests, json_response, query
from tests import dummy_exchange
from tests.dummy_exchange import START, DummyExchange, DummyServer

HOUR = timedelta(hours=1)


def page_variant(change) -> httpx.Response:
    """A page the dummy server answers, with one defect introduced."""
    request = httpx.Request(
        "GET", "https://api.dummy.invalid/v1/candles", params={"symbol": "DUMMYUSDT", "interval": "1h", "start": 0, "end": 2**45}
    )
    payload = json.loads(DummyServer().candles(request).content)
    change(payload["data"])
    return json_response(payload)


class TestDummyContract(PluginContractTests):
    plugin_class = DummyExchange
    settings = {"source": "http"}
    symbol = "DUMMYUSDT"
    interval = "1h"
    now = START + 47 * HOUR
    candles_path = "/v1/candles"
    resume_since = START + 30 * HOUR
    paging_since = None
    paging_pages = 2
    expected_instrument = Instrument("DUMMYUSDT", "DUMMY", "USDT", "linear", 1.0, 0.01)
    expected = {
        "candles": Expected(
            48,
            Candle(START, 100.0, 102.0, 99.0, 100.5, 10.0, 4.0),
            Candle(START + 47 * HOUR, 105.0, 107.0, 104.0, 105.5, 57.0, 4.0),
        ),
    }
    error_response = json_response({"ok": False, "error": "unknown symbol DUMMYUSDT"}, status=400)
    malformed_candles = {
        "missing field": (page_variant(lambda rows: rows[1].pop()), "(field data[1])"),
        "string for a number": (
            page_variant(lambda rows: rows[0].__setitem__(1, "x")),
            "expected a number, got 'x' (field data[0].open)",
        ),
        "NaN": (page_variant(lambda rows: rows[0].__setitem__(5, "NaN")), "(field data[0].volume)"),
        "out of order": (page_variant(lambda rows: rows.reverse()), "times out of order"),
    }

    def routes(self):
        return DummyServer().routes()

    def paging_routes(self):
        return DummyServer().routes()

    def requested_start(self, request):
        return datetime.fromtimestamp(int(query(request)["start"]) / 1000, tz=UTC)


def test_the_generated_mode_is_unchanged():
    batches = DummyExchange().candles("DUMMYUSDT", "15m", None)
    assert [len(batch) for batch in batches] == [24, 24]
    assert dummy_exchange.PAGE_ROWS == 24
