"""Crafted grids and OI readings for alert tests: the stored shapes the compute task writes.

``store_grid`` writes a ``GridSnapshot`` with an ``analysis`` in the shape of
``heatmaps/analysis.py`` and tiny arrays, replacing the current one the way a
computation does.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
from django.db import transaction

from grids.codec import pack_arrays
from grids.models import GridSnapshot
from markets.models import Exchange, Market, OpenInterest

T0 = datetime(2026, 6, 26, 0, 0, tzinfo=UTC)


def make_market(symbol="BTCUSDT", base="BTC", plugin="sample") -> Market:
    exchange, _ = Exchange.objects.get_or_create(plugin=plugin)
    return Market.objects.create(exchange=exchange, symbol=symbol, base=base, quote="USDT", intervals=["15m"])


def band(
    *,
    side="above",
    low,
    high,
    usd,
    close,
    since,
    verdict="strong build-up",
    persistence_hours=6.0,
    trend="brightening",
    oi_trend="rising",
):
    price = (low + high) / 2
    return {
        "side": side,
        "low": low,
        "high": high,
        "price": price,
        "usd": usd,
        "distance_pct": round((price - close) / close * 100, 4),
        "trend": trend,
        "change_pct": 14.2,
        "oi_trend": oi_trend,
        "verdict": verdict,
        "persistence_hours": persistence_hours,
        "since": since.isoformat(),
        "spike": persistence_hours < 1,
    }


def _arrays(steps=4, bins=5, close=100.0):
    times = np.array([int((T0 + timedelta(minutes=15 * i)).timestamp() * 1000) for i in range(steps)], dtype=np.int64)
    zeros = np.zeros(steps, dtype=np.float32)
    return {
        "times": times,
        "bin_edges": np.linspace(close * 0.9, close * 1.1, bins + 1),
        "long_grid": np.ones((steps, bins), dtype=np.float32),
        "short_grid": np.ones((steps, bins), dtype=np.float32),
        "realized_long": zeros,
        "realized_short": zeros,
        "pending_long": zeros,
        "pending_short": zeros,
        "close": np.full(steps, close),
        "open_interest": np.full(steps, 1e6),
    }


def store_grid(
    *, market=None, coin="", interval="15m", close=100.0, as_of=None, bands=(), oi=None, method="fixed"
) -> GridSnapshot:
    """Store (or replace) the current grid of a market or coin, as one computation would."""
    as_of = as_of or T0 + timedelta(hours=12)
    analysis = {
        "as_of": as_of.isoformat(),
        "close": close,
        "interval": interval,
        "oi": oi or {"now": 1.2e6, "trend": "rising", "change_pct": 2.4, "hours": 4},
        "thresholds": {"band_min_usd": 1e5},
        "bands": sorted(bands, key=lambda b: -b["usd"]),
        "squeeze": {
            "down": {"1": 1e6, "2": 2e6, "5": 3e6, "10": 4e6},
            "up": {"1": 1e6, "2": 2e6, "5": 3e6, "10": 4e6},
            "heavier": "balanced",
        },
    }
    fields = {
        "computed_at": as_of + timedelta(minutes=1),
        "input_digest": f"{as_of.isoformat()}-{len(bands)}",
        "start": as_of - timedelta(hours=1),
        "end": as_of,
        "steps": 4,
        "bins": 5,
        "params": {},
        "analysis": analysis,
        "arrays": pack_arrays(_arrays(close=close)),
    }
    with transaction.atomic():
        key = (
            {"market": market, "interval": interval, "long_share_method": method}
            if market
            else {"market": None, "coin": coin, "interval": interval, "long_share_method": method}
        )
        snapshot, _ = GridSnapshot.objects.update_or_create(**key, defaults=fields)
    return snapshot


def store_oi(market, values, *, start=T0, step=timedelta(hours=1), interval="1h"):
    """One OpenInterest reading per ``step`` from ``start``."""
    OpenInterest.objects.bulk_create(
        [
            OpenInterest(market=market, interval=interval, time=start + step * i, open_interest=value)
            for i, value in enumerate(values)
        ]
    )
