"""Markets with stored grids for the page tests (crafted with pack_arrays, not computed)."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from markets.models import Exchange, Market
from tests.pages.factories import make_snapshot, synthetic_arrays


@pytest.fixture(autouse=True)
def clear_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def exchange(db):
    return Exchange.objects.create(plugin="sample")


@pytest.fixture
def market(exchange):
    return Market.objects.create(exchange=exchange, symbol="BTCUSDT", base="BTC", quote="USDT", intervals=["15m", "1h"])


@pytest.fixture
def grids(market):
    """BTCUSDT with 15m (fixed and taker, per-bucket layers) and 1h (fixed) grids."""
    layered = synthetic_arrays(steps=900, layer_market_ids=(market.pk,), by_bucket=True)
    return {
        "15m": make_snapshot(market=market, arrays=layered),
        "15m-taker": make_snapshot(market=market, method="taker", arrays=synthetic_arrays(steps=900, seed=2)),
        "1h": make_snapshot(market=market, interval="1h", arrays=synthetic_arrays(steps=300, step_ms=3_600_000, seed=3)),
    }


@pytest.fixture
def coin_markets(db):
    """SOL on two exchanges with a coin aggregate that keeps one layer per market."""
    okx = Exchange.objects.create(plugin="okx")
    bybit = Exchange.objects.create(plugin="bybit")
    markets = [
        Market.objects.create(exchange=okx, symbol="SOL-USDT-SWAP", base="SOL", quote="USDT", intervals=["15m"]),
        Market.objects.create(exchange=bybit, symbol="SOLUSDT", base="SOL", quote="USDT", intervals=["15m"]),
    ]
    arrays = synthetic_arrays(steps=700, price=140.0, layer_market_ids=tuple(m.pk for m in markets), seed=5)
    make_snapshot(coin="SOL", arrays=arrays)
    return markets
