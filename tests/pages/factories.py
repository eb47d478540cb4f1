"""Stored grids for page tests and the pages benchmark, shaped like the compute task's.

``synthetic_arrays`` runs a toy version of the liquidation model (levels
opened when open interest rises, removed when price crosses them, slowly
closed otherwise) on a random walk, so the grids have the bands, gaps and
sparsity of real ones and their JSON compresses like real page data would.
It is not the engine and is not checked against it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache

import numpy as np
from django.utils import timezone

from grids.codec import pack_arrays, unpack
from grids.models import GridSnapshot

LEVERAGE = (5.0, 10.0, 25.0, 50.0, 100.0)
WEIGHTS = (0.10, 0.25, 0.30, 0.20, 0.15)
START = datetime(2026, 6, 1, tzinfo=UTC)


def synthetic_arrays(
    *,
    steps: int = 672,
    bins: int = 400,
    step_ms: int = 900_000,
    price: float = 60_000.0,
    seed: int = 1,
    start: datetime = START,
    layer_market_ids: tuple[int, ...] = (),
    by_bucket: bool = False,
    ohlc: bool = True,
) -> dict[str, np.ndarray]:
    """Arrays for ``pack_arrays``, plus per-layer grids when ``layer_market_ids`` is given.

    Layers: one per market id (split evenly), and per leverage bucket too with
    ``by_bucket`` (else their leverage is 0 = all buckets).
    """
    times, edges, (open_, high, low, close, oi), long_grid, short_grid, realized_long, realized_short = _simulate(
        steps, bins, step_ms, price, seed, int(start.timestamp() * 1000)
    )
    arrays = {
        "times": times,
        "bin_edges": edges,
        "long_grid": long_grid.sum(axis=0).astype(np.float32),
        "short_grid": short_grid.sum(axis=0).astype(np.float32),
        "realized_long": realized_long.sum(axis=0).astype(np.float32),
        "realized_short": realized_short.sum(axis=0).astype(np.float32),
        "pending_long": long_grid.sum(axis=(0, 2)).astype(np.float32),
        "pending_short": short_grid.sum(axis=(0, 2)).astype(np.float32),
        "close": close,
        "open_interest": oi,
    }
    if ohlc:
        arrays |= {"open": open_, "high": high, "low": low}
    if layer_market_ids:
        arrays |= _layers(layer_market_ids, by_bucket, long_grid, short_grid, realized_long, realized_short)
    return arrays


@lru_cache(maxsize=16)
def _simulate(steps: int, bins: int, step_ms: int, price: float, seed: int, start_ms: int):
    """The toy model's run, per bucket; cached because tests ask for the same grids again and again."""
    rng = np.random.default_rng(seed)
    close = price * np.exp(np.cumsum(rng.normal(0, 0.0025, steps)))
    open_ = np.concatenate([[close[0]], close[:-1]])
    high = np.maximum(open_, close) * (1 + np.abs(rng.normal(0, 0.0015, steps)))
    low = np.minimum(open_, close) * (1 - np.abs(rng.normal(0, 0.0015, steps)))
    oi = 1e4 * np.exp(np.cumsum(rng.normal(0.0003, 0.004, steps)))
    edges = np.geomspace(0.5 * low.min(), 1.5 * high.max(), bins + 1)
    times = start_ms + step_ms * np.arange(steps, dtype=np.int64)

    k = len(LEVERAGE)
    long_grid = np.zeros((k, steps, bins), dtype=np.float64)
    short_grid = np.zeros_like(long_grid)
    realized_long = np.zeros((k, steps))
    realized_short = np.zeros((k, steps))
    decay = 0.9995 ** np.arange(steps)  # voluntary closing, slow and steady
    entry = (high + low + close) / 3
    for t in np.flatnonzero(np.diff(oi, prepend=oi[0]) > 0):
        added = oi[t] - oi[t - 1]
        for b, (lev, weight) in enumerate(zip(LEVERAGE, WEIGHTS)):
            for side, level in (("long", entry[t] * (1 - 1 / lev) / 0.996), ("short", entry[t] * (1 + 1 / lev) / 1.004)):
                later = low[t + 1 :] <= level if side == "long" else high[t + 1 :] >= level
                end = t + 1 + int(np.argmax(later)) if later.any() else steps
                usd = added * 0.5 * weight * level
                row = int(np.searchsorted(edges, level, side="right") - 1)
                grid, realized = (long_grid, realized_long) if side == "long" else (short_grid, realized_short)
                if 0 <= row < bins:
                    grid[b, t:end, row] += usd * decay[: end - t]
                if end < steps:
                    realized[b, end] += usd * decay[end - t]
    for array in (long_grid, short_grid, realized_long, realized_short):
        array.setflags(write=False)
    return times, edges, (open_, high, low, close, oi), long_grid, short_grid, realized_long, realized_short


def _layers(market_ids, by_bucket, long_grid, short_grid, realized_long, realized_short) -> dict[str, np.ndarray]:
    share = 1.0 / len(market_ids)
    if by_bucket:
        parts = [(m, b) for m in market_ids for b in range(len(LEVERAGE))]
        pick = lambda a, b: a[b] * share  # noqa: E731
    else:
        parts = [(m, None) for m in market_ids]
        pick = lambda a, b: a.sum(axis=0) * share  # noqa: E731
    return {
        "layer_market_id": np.array([m for m, _ in parts], dtype=np.int64),
        "layer_leverage": np.array([LEVERAGE[b] if b is not None else 0.0 for _, b in parts]),
        "layer_long_grid": np.stack([pick(long_grid, b) for _, b in parts]).astype(np.float32),
        "layer_short_grid": np.stack([pick(short_grid, b) for _, b in parts]).astype(np.float32),
        "layer_realized_long": np.stack([pick(realized_long, b) for _, b in parts]).astype(np.float32),
        "layer_realized_short": np.stack([pick(realized_short, b) for _, b in parts]).astype(np.float32),
    }


def pack_with_extras(arrays: dict[str, np.ndarray]) -> bytes:
    """``pack_arrays`` keeps only its own names; the optional ones (ohlc, layers) are added back."""
    import io

    base = unpack(pack_arrays(arrays))
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **(base | arrays))
    return buffer.getvalue()


def sample_analysis(arrays: dict[str, np.ndarray], interval: str = "15m") -> dict:
    """An analysis JSON in the documented shape, with numbers taken from the arrays."""
    close = float(arrays["close"][-1])
    edges = arrays["bin_edges"]
    as_of = datetime.fromtimestamp(int(arrays["times"][-1]) / 1000, tz=UTC).isoformat()
    return {
        "as_of": as_of,
        "close": close,
        "interval": interval,
        "oi": {"now": float(arrays["open_interest"][-1]), "trend": "rising", "change_pct": 2.4, "hours": 4},
        "thresholds": {
            "band_factor": 3.0,
            "lookback_hours": 4.0,
            "brightening_pct": 10.0,
            "oi_trend_pct": 1.0,
            "spike_hours": 1.0,
            "band_threshold_usd": 2.5e5,
        },
        "bands": [
            {
                "side": "above",
                "low": float(edges[205]),
                "high": float(edges[207]),
                "price": float(edges[206]),
                "usd": 3.1e6,
                "distance_pct": 2.66,
                "trend": "brightening",
                "change_pct": 14.2,
                "oi_trend": "rising",
                "verdict": "strong build-up",
                "persistence_hours": 6.5,
                "since": as_of,
                "spike": False,
            },
            {
                "side": "below",
                "low": float(edges[190]),
                "high": float(edges[191]),
                "price": float(edges[190]),
                "usd": 1.2e6,
                "distance_pct": -4.1,
                "trend": "steady",
                "change_pct": 3.0,
                "oi_trend": "flat",
                "verdict": "build-up, not accelerating",
                "persistence_hours": 0.5,
                "since": as_of,
                "spike": True,
            },
        ],
        "squeeze": {
            "down": {"1": 2.0e5, "2": 9.0e5, "5": 4.2e6, "10": 1.1e7},
            "up": {"1": 1.0e5, "2": 6.0e5, "5": 5.5e6, "10": 1.4e7},
            "heavier": "short",
        },
    }


def make_snapshot(
    *, market=None, coin: str = "", interval: str = "15m", method: str = "fixed", arrays=None, **kwargs
) -> GridSnapshot:
    arrays = arrays if arrays is not None else synthetic_arrays(**kwargs)
    times = arrays["times"]
    return GridSnapshot.objects.create(
        market=market,
        coin=coin,
        interval=interval,
        long_share_method=method,
        computed_at=timezone.now(),
        input_digest=f"test-{method}-{interval}-{len(times)}",
        start=datetime.fromtimestamp(int(times[0]) / 1000, tz=UTC),
        end=datetime.fromtimestamp(int(times[-1]) / 1000, tz=UTC),
        steps=len(times),
        bins=len(arrays["bin_edges"]) - 1,
        params={"leverage": list(LEVERAGE), "weights": list(WEIGHTS), "mmr": 0.004, "long_share_method": method},
        analysis=sample_analysis(arrays, interval),
        arrays=pack_with_extras(arrays),
    )


def utc_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def window_end(arrays) -> datetime:
    return datetime.fromtimestamp(int(arrays["times"][-1]) / 1000, tz=UTC) + timedelta(minutes=15)
