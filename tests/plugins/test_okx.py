"""OKX v5 swaps: every endpoint, paging, faults, position tiers and the liquidation stream.

No body of any kind exists for ``open-interest-history`` and
``funding-rate-history`` (see fixtures/okx/README.md); their fixtures are
built from OKX's documented field list with real values from sibling
recordings, and are named ``*.structural-docs-fields-real-values.json``.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import httpx
import pytest

from liqsite.exchanges import Candle, ExchangeError, FundingRatePoint, Instrument, LongShortPoint, OpenInterestPoint
from liqsite.exchanges.http import ResponseReader
from liqsite.exchanges.testing import Expected, PluginContractTests, ReplayTransport, fake_clock, json_response, query, recorded
from plugins.okx import parse
from plugins.okx import plugin as okx_plugin
from plugins.okx.plugin import OkxExchange
from tests.plugins.conftest import fixture_json, fixture_path


def utc(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def body(name: str) -> httpx.Response:
    return recorded(fixture_path("okx", name))


CANDLES = fixture_json("okx", "candles-swap-1m.nautilus.json")
BTC_SWAP = Instrument("BTC-USDT-SWAP", "BTC", "USDT", "linear", 0.01, 0.1)
RATIO = 0.9398602814619824


def candles_variant(change) -> httpx.Response:
    """The recorded swap candles with one defect introduced (to test that it is refused)."""
    payload = copy.deepcopy(CANDLES)
    change(payload)
    return json_response(payload)


class TestOkxContract(PluginContractTests):
    plugin_class = OkxExchange
    settings = {"max_backfill_days": 1}
    symbol = "BTC-USDT-SWAP"
    interval = "1m"
    now = datetime(2025, 5, 12, 23, 54, 30, tzinfo=UTC)  # while the second recorded 1m candle is open
    candles_path = "/api/v5/market/history-candles"
    resume_since = datetime(2025, 5, 12, 23, 54, tzinfo=UTC)
    paging_since = datetime(2025, 5, 12, 23, 53, tzinfo=UTC)
    page_size = (okx_plugin, "PAGE_LIMIT", 1)
    expected_instrument = BTC_SWAP
    expected = {
        # volCcy (BTC) is the base volume: 1040.37 contracts × 0.01 BTC = 10.4037 BTC.
        "candles": Expected(
            2,
            Candle(utc(1747093980000), 102806.0, 102820.5, 102783.1, 102806.1, 71.6404),
            Candle(utc(1747094040000), 102806.1, 102820.4, 102806.1, 102820.4, 10.4037),
        ),
        "open_interest": Expected(
            1,
            OpenInterestPoint(utc(1728728314766), 26631.0729999999861, 1676426045.349999124995),
            OpenInterestPoint(utc(1728728314766), 26631.0729999999861, 1676426045.349999124995),
            now=datetime(2024, 10, 12, 10, 20, tzinfo=UTC),
        ),
        "long_short_ratios": Expected(
            3,
            LongShortPoint(utc(1729323000000), RATIO / (1 + RATIO)),
            LongShortPoint(utc(1729323600000), RATIO / (1 + RATIO)),
            now=datetime(2024, 10, 19, 7, 45, tzinfo=UTC),
        ),
        "funding_rates": Expected(
            3,
            FundingRatePoint(utc(1780243200000), 3.80971947042e-05),
            FundingRatePoint(utc(1780300800000), 3.59940809967e-05),
            now=datetime(2026, 6, 1, 9, 0, tzinfo=UTC),
        ),
    }
    # A real 404 body (unknown path; OKX sends "code" as a number here). No 51001 body was found.
    error_response = recorded(fixture_path("okx", "error-not-found.real-nautilus.json"), status=404)
    malformed_candles = {
        "missing field": (candles_variant(lambda p: p["data"][0].__delitem__(slice(5, None))), "(field data[0])"),
        "string for a number": (
            candles_variant(lambda p: p["data"][1].__setitem__(3, "low")),
            "expected a number, got 'low' (field data[1].l)",
        ),
        "NaN": (
            candles_variant(lambda p: p["data"][0].__setitem__(6, "NaN")),
            "expected a finite number, got 'NaN' (field data[0].volCcy)",
        ),
        "out of order": (candles_variant(lambda p: p["data"].reverse()), "times out of order"),
        "wrong envelope": (json_response(CANDLES["data"]), "expected an object, got list (field body)"),
    }

    def routes(self):
        return {
            "/api/v5/public/instruments": body("instruments-swap.real-cryptofeed.json"),
            "/api/v5/market/history-candles": body("candles-swap-1m.nautilus.json"),
            "/api/v5/rubik/stat/contracts/open-interest-history": body(
                "open-interest-history.structural-docs-fields-real-values.json"
            ),
            "/api/v5/rubik/stat/contracts/long-short-account-ratio-contract": body(
                "long-short-account-ratio-contract.ccxt-comment.json"
            ),
            "/api/v5/public/funding-rate-history": body("funding-rate-history.structural-docs-fields-real-values.json"),
        }

    def paging_routes(self):
        return {
            "/api/v5/public/instruments": body("instruments-swap.real-cryptofeed.json"),
            "/api/v5/market/history-candles": [body("candles-swap-1m.nautilus.json"), body("candles-swap-1m.nautilus.json")],
        }

    def requested_start(self, request):
        # ``before`` is exclusive: records newer than it.
        return utc(int(query(request)["before"]) + 1)


def test_candle_requests_use_okx_cursors(monkeypatch):
    fake_clock(monkeypatch, lambda: datetime(2025, 5, 13, 0, 15, tzinfo=UTC))
    transport = ReplayTransport(
        {
            "/api/v5/public/instruments": body("instruments-swap.real-cryptofeed.json"),
            "/api/v5/market/history-candles": body("candles-swap-1m.nautilus.json"),
        }
    )
    with OkxExchange(transport=transport) as plugin:
        list(plugin.candles("BTC-USDT-SWAP", "1d", datetime(2025, 5, 13, tzinfo=UTC)))
    (listing,) = transport.to("/api/v5/public/instruments")
    assert query(listing) == {"instType": "SWAP", "instId": "BTC-USDT-SWAP"}
    (request,) = transport.to("/api/v5/market/history-candles")
    assert request.url.host == "www.okx.com"
    # 1Dutc, not 1D: OKX's 1D bars open at UTC+8 midnight.
    assert query(request)["bar"] == "1Dutc" and query(request)["limit"] == "100"


def test_instruments_from_the_real_listing():
    transport = ReplayTransport({"/api/v5/public/instruments": body("instruments-swap.real-cryptofeed.json")})
    with OkxExchange(transport=transport) as plugin:
        listing = {instrument.symbol: instrument for instrument in plugin.instruments()}
    assert len(listing) > 100
    assert listing["BTC-USD-SWAP"] == Instrument("BTC-USD-SWAP", "BTC", "USD", "inverse", 100.0, 0.1)
    assert listing["SOL-USDT-SWAP"].contract_size == 1.0


def test_position_tiers_convert_sizes_to_notional():
    reader = ResponseReader("OKX", "/api/v5/public/position-tiers")
    # The only recorded body is a MARGIN pair's (sizes in BTC); a swap's sizes are contracts. The
    # conversion factor is what differs: here 1 unit = 1 BTC at a 100,000 USDT price.
    (tier,) = parse.position_tiers(
        parse.unwrap(fixture_json("okx", "position-tiers.nautilus.json"), reader), reader, units_to_notional=100_000.0
    )
    assert (tier.notional_floor, tier.notional_cap, tier.maintenance_margin_rate, tier.max_leverage, tier.maintenance_amount) == (
        0,
        5_000_000,
        0.03,
        10,
        0,
    )


def test_margin_tiers_through_the_plugin_price_the_contracts(monkeypatch):
    transport = ReplayTransport(
        {
            "/api/v5/public/instruments": body("instruments-swap.real-cryptofeed.json"),
            "/api/v5/market/history-candles": body("candles-swap-1m.nautilus.json"),
            "/api/v5/public/position-tiers": body("position-tiers.nautilus.json"),
        }
    )
    with OkxExchange(transport=transport) as plugin:
        (tier,) = plugin.margin_tiers("BTC-USDT-SWAP")
    # maxSz 50 contracts × 0.01 BTC × the latest close 102820.4.
    assert tier.notional_cap == pytest.approx(50 * 0.01 * 102820.4)
    assert query(transport.to("/api/v5/public/position-tiers")[0]) == {
        "instType": "SWAP",
        "tdMode": "cross",
        "instFamily": "BTC-USDT",
    }


def eth_swap_position_tiers() -> dict:
    """A SWAP position-tiers answer, CONSTRUCTED in code (no recorded SWAP body exists, see fixtures/okx/README.md).

    The envelope and field names follow OKX's documented response
    (okx.com/docs-v5/en/#public-data-rest-api-get-position-tiers) and the
    recorded MARGIN body ``position-tiers.nautilus.json``; the three ETH-USDT
    rows (inclusive whole-contract ranges 0..2000, 2001..4000, 4001..8000) are
    the ones issue 13 quotes. Listed newest tier first to check the order is not trusted.
    """
    rows = [("3", "4001", "8000", "0.02", "20"), ("1", "0", "2000", "0.01", "75"), ("2", "2001", "4000", "0.015", "50")]
    return {
        "code": "0",
        "msg": "",
        "data": [
            {
                "instFamily": "ETH-USDT",
                "uly": "ETH-USDT",
                "instId": "",
                "tier": tier,
                "minSz": low,
                "maxSz": high,
                "mmr": mmr,
                "imr": str(round(1 / float(lever), 4)),
                "maxLever": lever,
                "optMgnFactor": "0",
                "baseMaxLoan": "",
                "quoteMaxLoan": "",
            }
            for tier, low, high, mmr, lever in rows
        ],
    }


def test_position_tiers_leave_no_gap_between_inclusive_contract_ranges():
    # ETH-USDT-SWAP's ctVal is 0.1 ETH in the real listing; at 2,000 USDT a contract is 200 USDT.
    with OkxExchange(
        transport=ReplayTransport({"/api/v5/public/instruments": body("instruments-swap.real-cryptofeed.json")})
    ) as plugin:
        assert plugin.instrument("ETH-USDT-SWAP").contract_size == 0.1
    reader = ResponseReader("OKX", "/api/v5/public/position-tiers")
    tiers = parse.position_tiers(parse.unwrap(eth_swap_position_tiers(), reader), reader, units_to_notional=0.1 * 2000)
    # Each floor is the previous cap: [0, 400,000), [400,000, 800,000), [800,000, 1,600,000).
    assert [(t.notional_floor, t.notional_cap, t.maintenance_margin_rate) for t in tiers] == [
        (0.0, 400_000.0, 0.01),
        (400_000.0, 800_000.0, 0.015),
        (800_000.0, 1_600_000.0, 0.02),
    ]
    formulas = pytest.importorskip("liqengine.formulas")
    table = formulas.TierTable(
        tuple(
            formulas.Tier(t.notional_floor, t.notional_cap, t.maintenance_margin_rate, t.maintenance_amount, t.max_leverage)
            for t in tiers
        )
    )
    # 400,100 USDT is 2000.5 contracts: between OKX's "2000" and "2001", inside tier 2, not the last tier.
    assert table.tier_for(400_100).mmr == 0.015
    assert table.tier_for(399_999).mmr == 0.01 and table.tier_for(800_000).mmr == 0.02


def test_an_empty_contract_range_is_refused():
    body_ = eth_swap_position_tiers()
    body_["data"][1]["maxSz"] = "-1"
    reader = ResponseReader("OKX", "/api/v5/public/position-tiers")
    with pytest.raises(ExchangeError, match=r"size range 0.0..-1.0 is empty \(field data\[1\].maxSz\)"):
        parse.position_tiers(parse.unwrap(body_, reader), reader, units_to_notional=200.0)


@pytest.mark.parametrize(
    "name, permanent",
    [
        ("error-invalid-access-key.real-nautilus.json", True),
        ("error-rate-limit.nautilus.json", False),
    ],
)
def test_error_bodies(name, permanent):
    reader = ResponseReader("OKX", "/api/v5/x")
    with pytest.raises(ExchangeError) as caught:
        parse.unwrap(fixture_json("okx", name), reader)
    assert caught.value.permanent is permanent


def test_the_spot_candles_recording_parses_in_shape_only():
    # A real but SPOT body (volCcy is the quote volume there): shape only.
    reader = ResponseReader("OKX", "/api/v5/market/candles")
    candles = parse.candles(parse.unwrap(fixture_json("okx", "candles.real-ccxt.json"), reader), reader)
    assert [c.time for c in candles] == [utc(1706630400000), utc(1706634000000), utc(1706637600000)]


# --- the liquidation-orders stream ---------------------------------------------------------------

IOST = Instrument("IOST-USDT-SWAP", "IOST", "USDT", "linear", 1000.0, 0.000001)


def test_liquidation_orders_convert_contracts():
    message = fixture_path("okx", "ws-liquidation-orders.ccxt-comment.json").read_text()
    (event,) = parse.liquidation_orders(message, {"IOST-USDT-SWAP": IOST})
    # side "buy" closes a short; 13 contracts × 1000 IOST (ctVal assumed 1000 for this test).
    assert (event.side, event.price, event.quantity, event.time) == ("short", 0.007831, 13_000.0, utc(1692266434010))
    assert event.usd == pytest.approx(13_000 * 0.007831)
    assert parse.liquidation_orders(message, {}) == []


def test_inverse_liquidation_sizes_are_usd_contracts():
    message = fixture_path("okx", "ws-liquidation-orders.ccxt-comment.json").read_text()
    inverse = Instrument("IOST-USDT-SWAP", "IOST", "USD", "inverse", 10.0)
    (event,) = parse.liquidation_orders(message, {"IOST-USDT-SWAP": inverse})
    assert event.usd == 130.0 and event.quantity == pytest.approx(130 / 0.007831)


def test_housekeeping_and_errors():
    assert parse.liquidation_orders("pong", {}) == []
    assert (
        parse.liquidation_orders(
            '{"event":"subscribe","arg":{"channel":"liquidation-orders","instType":"SWAP"},"connId":"a"}', {}
        )
        == []
    )
    with pytest.raises(ExchangeError) as caught:
        parse.liquidation_orders('{"event":"error","code":"60012","msg":"Invalid request","connId":"a"}', {})
    assert caught.value.permanent


def test_one_stream_for_all_swaps_with_ping():
    transport = ReplayTransport({"/api/v5/public/instruments": body("instruments-swap.real-cryptofeed.json")})
    with OkxExchange(transport=transport) as plugin:
        (stream,) = plugin.liquidation_streams(["BTC-USDT-SWAP"])
    assert stream.url == "wss://ws.okx.com:8443/ws/v5/public" and stream.ping_message == "ping"
    assert '"channel":"liquidation-orders"' in stream.subscribe[0]
