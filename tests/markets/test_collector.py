"""The liquidation collector against a local websocket server replaying recorded messages."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from websockets.asyncio.server import serve

from liqsite.exchanges import LiquidationStream
from markets.collector import store
from markets.collector.connection import Backoff, keep_stream_open
from markets.collector.store import PlannedStream
from markets.liquidation_selectors import liquidation_coverage_gaps, liquidation_notice
from markets.models import Exchange, Liquidation, LiquidationCoverage, Market
from plugins.binance import parse as binance_parse
from plugins.bybit import parse as bybit_parse

FIXTURES = Path(__file__).resolve().parents[1] / "plugins" / "fixtures"


def recorded_messages() -> list[str]:
    """Real Binance forceOrder messages: two BTCUSDT (raw) and one IOTXUSDT (combined-stream wrapper)."""
    forum = json.loads((FIXTURES / "binance" / "ws-force-order.real-binance-forum.json").read_text())
    return [json.dumps(message) for message in forum] + [
        (FIXTURES / "binance" / "ws-force-order.real-tiagosiebler.json").read_text()
    ]


async def run_against_server(planned_for, messages, *, connections: int, received: list):
    """Serve ``messages`` on each connection then drop it; run the collector for ``connections`` connections."""

    async def handler(socket):
        for message in messages:
            await socket.send(message)
        try:
            received.append(await asyncio.wait_for(socket.recv(), timeout=0.2))
        except (TimeoutError, Exception):
            pass
        await socket.close(code=1011, reason="replay over")

    async with serve(handler, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        await keep_stream_open(
            planned_for(f"ws://127.0.0.1:{port}/"), backoff=Backoff(initial=0.01, maximum=0.02), max_connections=connections
        )


@pytest.fixture
def binance_btc():
    exchange = Exchange.objects.create(plugin="binance")
    return Market.objects.create(exchange=exchange, symbol="BTCUSDT", intervals=["1h"])


@pytest.mark.django_db(transaction=True)
def test_collector_stores_each_liquidation_once_reconnects_and_records_coverage(binance_btc):
    def planned_for(url):
        stream = LiquidationStream(
            name="btcusdt@forceOrder", url=url, parse=lambda message: binance_parse.force_order(message, frozenset({"BTCUSDT"}))
        )
        return PlannedStream(binance_btc.exchange_id, "Binance", stream, {"BTCUSDT": binance_btc.pk})

    asyncio.run(run_against_server(planned_for, recorded_messages(), connections=2, received=[]))

    rows = list(Liquidation.objects.filter(market=binance_btc).order_by("time"))
    # Both connections replayed the same two BTCUSDT liquidations: stored once each; IOTXUSDT is not a market here.
    assert [(r.side, r.price, r.quantity) for r in rows] == [("long", 39021.0, 0.288), ("long", 38986.5, 0.004)]
    assert rows[0].time == datetime(2022, 4, 25, 14, 52, 9, 196000, tzinfo=UTC)
    coverage = list(LiquidationCoverage.objects.order_by("connected_at"))
    assert len(coverage) == 2  # it reconnected after the server dropped the first connection
    for row in coverage:
        assert row.stream == "btcusdt@forceOrder" and row.disconnected_at is not None and row.last_message_at is not None
        assert "1011" in row.reason and "replay over" in row.reason
    assert coverage[0].disconnected_at <= coverage[1].connected_at


@pytest.mark.django_db(transaction=True)
def test_subscriptions_and_pings_are_sent(binance_btc):
    received = []

    def planned_for(url):
        stream = LiquidationStream(
            name="allLiquidation.BTCUSDT",
            url=url,
            parse=bybit_parse.all_liquidation,
            subscribe=('{"op":"subscribe","args":["allLiquidation.BTCUSDT"]}',),
            ping_message='{"op":"ping"}',
            ping_interval=0.05,
        )
        return PlannedStream(binance_btc.exchange_id, "Bybit", stream, {"ROSEUSDT": binance_btc.pk})

    message = (FIXTURES / "bybit" / "ws-all-liquidation.docs.json").read_text()
    asyncio.run(run_against_server(planned_for, [message], connections=1, received=received))
    assert received == ['{"op":"subscribe","args":["allLiquidation.BTCUSDT"]}']
    assert Liquidation.objects.get().side == "short"


@pytest.mark.django_db(transaction=True)
def test_a_refused_message_ends_the_connection_with_the_reason(binance_btc):
    def planned_for(url):
        stream = LiquidationStream(name="bad", url=url, parse=lambda message: binance_parse.force_order(message))
        return PlannedStream(binance_btc.exchange_id, "Binance", stream, {"BTCUSDT": binance_btc.pk})

    asyncio.run(run_against_server(planned_for, ["<html>oops</html>"], connections=1, received=[]))
    (row,) = LiquidationCoverage.objects.all()
    assert row.reason.startswith("refused message:") and "not JSON" in row.reason


@pytest.mark.django_db(transaction=True)
def test_nothing_listening_on_the_port_is_a_recorded_failed_connection(binance_btc):
    stream = LiquidationStream(name="nowhere", url="ws://127.0.0.1:9/", parse=binance_parse.force_order)
    planned = PlannedStream(binance_btc.exchange_id, "Binance", stream, {"BTCUSDT": binance_btc.pk})
    asyncio.run(keep_stream_open(planned, backoff=Backoff(initial=0.01, maximum=0.02), max_connections=2))
    rows = list(LiquidationCoverage.objects.all())
    assert len(rows) == 2 and all(row.last_message_at is None and row.reason for row in rows)
    # It never opened: the reason says so, not that a connection "ended".
    assert all(row.reason.startswith("could not connect: ") for row in rows), [row.reason for row in rows]


@pytest.mark.django_db
def test_store_events_ignores_duplicates_and_unknown_symbols(binance_btc):
    events = binance_parse.force_order(recorded_messages()[0]) + binance_parse.force_order(recorded_messages()[2])
    assert store.store_events({"BTCUSDT": binance_btc.pk}, events) == 1
    # Stored once, and counted once: the second delivery is not a new liquidation.
    assert store.store_events({"BTCUSDT": binance_btc.pk}, events) == 0
    assert store.store_events({"BTCUSDT": binance_btc.pk}, events + events) == 0
    assert Liquidation.objects.count() == 1


@pytest.mark.django_db
def test_dangling_coverage_is_closed_at_start(binance_btc):
    LiquidationCoverage.objects.create(exchange=binance_btc.exchange, stream="x", connected_at=datetime(2024, 1, 1, tzinfo=UTC))
    seen = LiquidationCoverage.objects.create(
        exchange=binance_btc.exchange,
        stream="y",
        connected_at=datetime(2024, 1, 2, tzinfo=UTC),
        last_message_at=datetime(2024, 1, 2, 6, tzinfo=UTC),
    )
    assert store.close_dangling_coverage() == 2
    rows = {row.stream: row for row in LiquidationCoverage.objects.all()}
    assert all("without closing" in row.reason for row in rows.values())
    # Closed at the last sign of life, not at the restart: the downtime is a gap.
    assert rows["x"].disconnected_at == datetime(2024, 1, 1, tzinfo=UTC)
    assert rows["y"].disconnected_at == seen.last_message_at


@pytest.mark.django_db
def test_coverage_gaps(binance_btc):
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    hour = timedelta(hours=1)
    make = lambda start, end, last=None: LiquidationCoverage.objects.create(  # noqa: E731
        exchange=binance_btc.exchange, stream="s", connected_at=start, disconnected_at=end, last_message_at=last
    )
    make(t0 + hour, t0 + 2 * hour)
    make(t0 + 3 * hour, t0 + 4 * hour)
    make(t0 + 5 * hour, None, last=t0 + 5 * hour + timedelta(minutes=1))  # open, silent since: stale
    gaps = liquidation_coverage_gaps(market=binance_btc, start=t0, end=t0 + 8 * hour, now=t0 + 8 * hour)
    assert gaps == [
        (t0, t0 + hour),
        (t0 + 2 * hour, t0 + 3 * hour),
        (t0 + 4 * hour, t0 + 5 * hour),
        (t0 + 5 * hour + timedelta(minutes=1), t0 + 8 * hour),
    ]
    # A live connection covers up to now.
    assert (
        liquidation_coverage_gaps(
            market=binance_btc,
            start=t0 + 5 * hour,
            end=t0 + 5 * hour + timedelta(minutes=5),
            now=t0 + 5 * hour + timedelta(minutes=5),
        )
        == []
    )


@pytest.mark.django_db
def test_binance_markets_carry_the_one_per_second_notice(binance_btc):
    assert "one liquidation per symbol per second" in liquidation_notice(market=binance_btc)


@pytest.mark.django_db
def test_planned_streams_cover_active_markets_of_enabled_exchanges(binance_btc):
    Market.objects.create(exchange=binance_btc.exchange, symbol="ETHUSDT", intervals=["1h"], active=False)
    (planned,) = store.planned_streams()
    assert planned.stream.url == "wss://fstream.binance.com/stream?streams=btcusdt@forceOrder"
    assert planned.market_ids == {"BTCUSDT": binance_btc.pk}
    Exchange.objects.update(enabled=False)
    assert store.planned_streams() == []


def test_the_collector_reopens_streams_when_the_active_markets_change(monkeypatch):
    from markets.collector import runner

    def plan(symbols):
        stream = LiquidationStream(name="+".join(symbols), url="ws://unused", parse=lambda message: [])
        return [PlannedStream(1, "Binance", stream, {symbol: i for i, symbol in enumerate(symbols)})]

    plans = iter([plan(["BTCUSDT"]), plan(["BTCUSDT"]), plan(["BTCUSDT", "ETHUSDT"])])
    monkeypatch.setattr(runner.store, "planned_streams", lambda keys, described: next(plans, plan(["BTCUSDT", "ETHUSDT"])))
    monkeypatch.setattr(runner.store, "close_dangling_coverage", lambda: 0)
    events = []

    async def fake_stream(planned, backoff):
        events.append(("open", planned.stream.name))
        try:
            await asyncio.Event().wait()
        finally:
            events.append(("close", planned.stream.name))

    monkeypatch.setattr(runner, "keep_stream_open", fake_stream)

    async def scenario():
        stop = asyncio.Event()
        asyncio.get_running_loop().call_later(0.5, stop.set)
        return await runner.collect(stop=stop, replan_seconds=0.05)

    assert asyncio.run(scenario()) == 1
    # An unchanged plan keeps the stream open; a new market reopens it with both.
    assert events == [("open", "BTCUSDT"), ("close", "BTCUSDT"), ("open", "BTCUSDT+ETHUSDT"), ("close", "BTCUSDT+ETHUSDT")]


@pytest.mark.django_db(transaction=True)
def test_a_quiet_stream_still_counts_as_listening(binance_btc, monkeypatch):
    from markets.collector import connection

    monkeypatch.setattr(connection, "TOUCH_EVERY", 0.05)

    async def quiet(socket):
        await asyncio.sleep(0.4)  # no liquidation at all
        await socket.close(code=1000, reason="bye")

    async def scenario():
        async with serve(quiet, "127.0.0.1", 0) as server:
            port = server.sockets[0].getsockname()[1]
            stream = LiquidationStream(name="btcusdt@forceOrder", url=f"ws://127.0.0.1:{port}/", parse=binance_parse.force_order)
            await keep_stream_open(
                PlannedStream(binance_btc.exchange_id, "Binance", stream, {"BTCUSDT": binance_btc.pk}), max_connections=1
            )

    asyncio.run(scenario())
    (row,) = LiquidationCoverage.objects.all()
    assert row.last_message_at is not None and row.last_message_at > row.connected_at


@pytest.mark.django_db(transaction=True)
def test_a_database_error_ends_the_connection_not_the_stream(binance_btc, monkeypatch):
    from django.db import OperationalError

    def locked(market_ids, events):
        raise OperationalError("database is locked")

    monkeypatch.setattr(store, "store_events", locked)

    def planned_for(url):
        stream = LiquidationStream(
            name="btcusdt@forceOrder", url=url, parse=lambda message: binance_parse.force_order(message, frozenset({"BTCUSDT"}))
        )
        return PlannedStream(binance_btc.exchange_id, "Binance", stream, {"BTCUSDT": binance_btc.pk})

    asyncio.run(run_against_server(planned_for, recorded_messages(), connections=2, received=[]))
    rows = list(LiquidationCoverage.objects.order_by("connected_at"))
    assert len(rows) == 2  # it reconnected
    assert all(row.reason == "database error: database is locked" for row in rows)


def test_a_change_in_one_exchanges_plan_reopens_only_that_exchanges_streams(monkeypatch):
    from markets.collector import runner

    def plan(okx_symbols):
        binance = LiquidationStream(name="btcusdt@forceOrder", url="ws://binance", parse=lambda message: [])
        okx = LiquidationStream(name="liquidation-orders SWAP", url="ws://okx", parse=lambda message: [])
        return [
            PlannedStream(1, "Binance", binance, {"BTCUSDT": 1}),
            PlannedStream(2, "OKX", okx, {symbol: 10 + i for i, symbol in enumerate(okx_symbols)}),
        ]

    plans = iter([plan(["BTC-USDT-SWAP"]), plan(["BTC-USDT-SWAP"])])
    monkeypatch.setattr(
        runner.store, "planned_streams", lambda keys, described: next(plans, plan(["BTC-USDT-SWAP", "ETH-USDT-SWAP"]))
    )
    monkeypatch.setattr(runner.store, "close_dangling_coverage", lambda: 0)
    events = []

    async def fake_stream(planned, backoff):
        events.append(("open", planned.exchange_label, len(planned.market_ids)))
        try:
            await asyncio.Event().wait()
        finally:
            events.append(("close", planned.exchange_label, len(planned.market_ids)))

    monkeypatch.setattr(runner, "keep_stream_open", fake_stream)

    async def scenario():
        stop = asyncio.Event()
        asyncio.get_running_loop().call_later(0.5, stop.set)
        return await runner.collect(stop=stop, replan_seconds=0.05)

    assert asyncio.run(scenario()) == 2
    # OKX gained a market: its stream reopened; Binance's stayed open throughout, closed only at the stop.
    assert events[:4] == [("open", "Binance", 1), ("open", "OKX", 1), ("close", "OKX", 1), ("open", "OKX", 2)]
    assert sorted(events[4:]) == [("close", "Binance", 1), ("close", "OKX", 2)]


@pytest.fixture
def okx_btc(monkeypatch):
    """An OKX market, with the real instrument listing replayed at the HTTP seam."""
    from liqsite.exchanges import http as exchange_http
    from liqsite.exchanges.testing import ReplayTransport, recorded

    transport = ReplayTransport(
        {"/api/v5/public/instruments": recorded(FIXTURES / "okx" / "instruments-swap.real-cryptofeed.json")}
    )
    monkeypatch.setattr(exchange_http, "transport_factory", lambda: transport)
    monkeypatch.setattr(exchange_http, "shared_budget", None)
    exchange = Exchange.objects.create(plugin="okx")
    market = Market.objects.create(exchange=exchange, symbol="IOST-USDT-SWAP", intervals=["1h"])
    return market, transport


@pytest.mark.django_db
def test_replanning_reuses_described_streams_without_asking_the_exchange_again(okx_btc):
    market, transport = okx_btc
    described = {}
    (first,) = store.planned_streams(described=described)
    asked = len(transport.requests)
    assert asked >= 1  # describing OKX's stream reads the instrument over HTTP
    (again,) = store.planned_streams(described=described)
    assert again is first and len(transport.requests) == asked
    # A new market changes the plan: the exchange is asked once more.
    Market.objects.create(exchange=market.exchange, symbol="BTC-USDT-SWAP", intervals=["1h"])
    (changed,) = store.planned_streams(described=described)
    assert changed.market_ids.keys() == {"IOST-USDT-SWAP", "BTC-USDT-SWAP"} and len(transport.requests) > asked


OKX_SUBSCRIBED = (
    # CONSTRUCTED from OKX's documented subscribe acknowledgement (okx.com/docs-v5/en/#overview-websocket-subscribe);
    # the connId is made up.
    '{"event":"subscribe","arg":{"channel":"liquidation-orders","instType":"SWAP"},"connId":"a4d3ae55"}'
)


@pytest.mark.django_db(transaction=True)
def test_okx_replaying_recent_liquidations_after_a_resubscription_counts_each_once(okx_btc):
    market, _ = okx_btc
    (planned,) = store.planned_streams()
    message = (FIXTURES / "okx" / "ws-liquidation-orders.ccxt-comment.json").read_text()
    # Re-serialised with other spacing and key order, as a replay of the same event would be a new message.
    replayed = json.dumps(json.loads(message), indent=None, separators=(",", ":"), sort_keys=True)

    def planned_for(url):
        stream = LiquidationStream(
            name=planned.stream.name, url=url, parse=planned.stream.parse, subscribe=planned.stream.subscribe
        )
        return PlannedStream(planned.exchange_id, "OKX", stream, planned.market_ids)

    # Every connection: the acknowledgement, then OKX replaying the recent liquidation (twice on the same connection too).
    async def scenario():
        stored = []
        from markets.collector import connection

        real_run = connection.run_connection

        async def counting(planned_stream):
            reason, count = await real_run(planned_stream)
            stored.append(count)
            return reason, count

        connection.run_connection = counting
        try:
            await run_against_server(planned_for, [OKX_SUBSCRIBED, message, replayed], connections=3, received=[])
        finally:
            connection.run_connection = real_run
        return stored

    stored = asyncio.run(scenario())
    (row,) = Liquidation.objects.filter(market=market)
    # Counted once over three connections: the first stored it, the replays stored and counted nothing.
    assert stored == [1, 0, 0]
    assert LiquidationCoverage.objects.count() == 3
    # What was stored is exactly what parsing gives (ms time, floats equal to the bit), so a replay matches it.
    (event,) = planned.stream.parse(replayed)
    assert (row.time, row.side, row.price, row.quantity, row.usd) == (
        event.time,
        event.side,
        event.price,
        event.quantity,
        event.usd,
    )
    assert row.time == datetime(2023, 8, 17, 10, 0, 34, 10000, tzinfo=UTC)
