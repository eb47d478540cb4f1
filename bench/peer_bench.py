"""An open-source peer's liquidation heatmap, re-implemented to time liqsite's engine against.

The peer: GitHub ``gptprojectmanager/liquidations`` ("LiquidationHeatmap"),
module ``src/liquidationheatmap/models/time_evolving_heatmap.py`` (read at
commit 40f2aa5f1e58e55ca55d55266c66212879423552, with the liquidation price of
``src/liquidationheatmap/models/position.py`` at 135adcdf8ab5e873685130ea236fda61fc9148a7).
Its README states "MIT License"; no LICENSE file was found in the copy that
was read. MIT allows studying and re-implementing it. This file is written
from a reading of that algorithm, not copied from it: it keeps the peer's
rules, data structures and number type (``decimal.Decimal``), because those
are what the timing compares against.

The peer's algorithm, per candle, in order:

1. Consumption: every active level is checked; a long whose liquidation
   price is >= the candle's low, or a short whose price is <= its high, is
   marked consumed and dropped (price levels left empty are deleted).
2. Opening: if the OI delta (USD) is > 0, the whole delta opens on ONE side,
   guessed from the candle (close > open: long; close < open: short; a doji:
   long), at the close, split over five leverage tiers (5x 15 %, 10x 30 %,
   25x 25 %, 50x 20 %, 100x 10 %). Liquidation price
   ``E × (1 − 1/L + m/L)`` for longs and ``E × (1 + 1/L − m/L)`` for shorts,
   m = 0.004. Levels are kept in a dict keyed by price.
3. Closing: if the delta is < 0, every active level loses the same fraction
   ``min(|delta| / total volume, 1)``; levels under 0.01 USD are dropped.
4. Snapshot: every active level is added into a price bucket
   ``(price // size) × size`` (long and short density per cell), with totals.

It differs from liqsite's model (levels are USD, one side per candle, entry
at the close, no link between crossings and the fall in OI), so the two
produce different maps: the comparison is of speed on the same real candles,
each computing its own full time-evolving map (one snapshot per candle).
"""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import numpy as np

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "liqengine" / "fixtures"
STEP_15M_MS = 900_000
PEER = "gptprojectmanager/liquidations"


@dataclass
class Candle:
    open_time: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal


@dataclass
class Level:
    """One liquidation level of the peer: USD volume at one price, until consumed."""

    entry_price: Decimal
    liq_price: Decimal
    volume: Decimal
    side: str
    leverage: int
    created_at: datetime
    consumed_at: datetime | None = None

    def __post_init__(self):
        # The peer validates every level it creates; the checks are part of its cost.
        if self.leverage not in (5, 10, 25, 50, 100):
            raise ValueError(f"leverage {self.leverage}")
        if self.side not in ("long", "short"):
            raise ValueError(f"side {self.side}")
        if self.volume <= 0:
            raise ValueError(f"volume {self.volume}")


@dataclass
class Cell:
    bucket: Decimal
    long_density: Decimal = Decimal("0")
    short_density: Decimal = Decimal("0")


@dataclass
class Snapshot:
    timestamp: datetime
    cells: dict = field(default_factory=dict)
    total_long: Decimal = Decimal("0")
    total_short: Decimal = Decimal("0")
    created: int = 0
    consumed: int = 0


class Numbers:
    """The peer's constants in one number type: ``Decimal`` as published, ``float`` for the variant."""

    def __init__(self, num=Decimal):
        self.num = num
        self.tiers = [(lev, num(w)) for lev, w in ((5, "0.15"), (10, "0.30"), (25, "0.25"), (50, "0.20"), (100, "0.10"))]
        self.mmr = num("0.004")
        self.dust = num("0.01")
        self.one = num("1.0")
        self.zero = num("0")


def _liq_price(entry, lev: int, side: str, k: Numbers):
    L = k.num(lev)
    if side == "long":
        return entry * (1 - 1 / L + k.mmr / L)
    return entry * (1 + 1 / L - k.mmr / L)


def _step(candle: Candle, delta, active: dict, k: Numbers) -> tuple[int, int]:
    """One candle of the peer's algorithm on ``active`` (price -> list of levels); (consumed, created) counts.

    The peer walks the levels once to mark consumed ones and again to keep
    the rest (and likewise when closing); doing each in one walk here can only
    make this copy faster than the peer, never slower.
    """
    consumed = 0
    for price in list(active):
        kept = []
        for lv in active[price]:
            hit = candle.low <= lv.liq_price if lv.side == "long" else candle.high >= lv.liq_price
            if lv.consumed_at is None and hit:
                lv.consumed_at = candle.open_time
                consumed += 1
            else:
                kept.append(lv)
        if kept:
            active[price] = kept
        else:
            del active[price]
    created = 0
    if delta > 0:
        side = "short" if candle.close < candle.open else "long"
        for lev, weight in k.tiers:
            vol = delta * weight
            if vol <= 0:
                continue
            lv = Level(candle.close, _liq_price(candle.close, lev, side, k), vol, side, lev, candle.open_time)
            active.setdefault(lv.liq_price, []).append(lv)
            created += 1
    elif delta < 0:
        total = sum(sum(lv.volume for lv in levels) for levels in active.values())
        if total != 0:
            ratio = min(-delta / total, k.one)
            for price in list(active):
                for lv in active[price]:
                    lv.volume = lv.volume * (k.one - ratio)
                kept = [lv for lv in active[price] if lv.volume >= k.dust]
                if kept:
                    active[price] = kept
                else:
                    del active[price]
    return consumed, created


def _snapshot(candle: Candle, active: dict, size, counts: tuple[int, int], k: Numbers) -> Snapshot:
    snap = Snapshot(candle.open_time, total_long=k.zero, total_short=k.zero, consumed=counts[0], created=counts[1])
    for price, levels in active.items():
        bucket = (price // size) * size
        cell = snap.cells.get(bucket)
        if cell is None:
            cell = snap.cells[bucket] = Cell(bucket, k.zero, k.zero)
        for lv in levels:
            if lv.side == "long":
                cell.long_density += lv.volume
                snap.total_long += lv.volume
            else:
                cell.short_density += lv.volume
                snap.total_short += lv.volume
    return snap


def peer_heatmap(candles: list[Candle], oi_deltas: list, bucket_size, num=Decimal) -> list[Snapshot]:
    """The peer's time-evolving heatmap: one snapshot per candle, in time order.

    Inputs are in ``num`` (``Decimal``, the peer's type; ``float`` for the
    variant that shows how much of its cost is decimal arithmetic).
    """
    if len(candles) != len(oi_deltas):
        raise ValueError("one OI delta per candle")
    k = Numbers(num)
    active: dict = defaultdict(list)
    out = []
    for candle, delta in sorted(zip(candles, oi_deltas), key=lambda p: p[0].open_time):
        counts = _step(candle, delta, active, k)
        out.append(_snapshot(candle, active, bucket_size, counts, k))
    return out


def _read(name):
    with open(FIXTURES / name, newline="") as fh:
        return list(csv.DictReader(fh))


def okx_sol_15m():
    """Real OKX SOL-USDT-SWAP 15m candles inside the hourly OI's span, with OI at each step's end.

    Returns (ts, open, high, low, close, oi_usd, oi_sol): the hourly OI (USD,
    all SOL contracts) interpolated linearly to the end of every 15m step, so
    it moves at every step, and the same in SOL at each hour's reading price.
    """
    rows = _read("ohlcv_15m.csv")
    ts = np.array([int(r["ts"]) for r in rows], dtype=np.int64)
    o, h, lo, c = (np.array([float(r[k]) for r in rows]) for k in ("open", "high", "low", "close"))
    oi_rows = _read("open_interest.csv")
    oi_t = np.array([int(r["ts"]) for r in oi_rows], dtype=np.int64)
    oi_usd = np.array([float(r["oi"]) for r in oi_rows])
    end = ts + STEP_15M_MS
    keep = (end >= oi_t[0]) & (end <= oi_t[-1])
    at = np.clip(np.searchsorted(ts, oi_t, side="right") - 1, 0, len(ts) - 1)
    usd = np.interp(end, oi_t, oi_usd)
    sol = np.interp(end, oi_t, oi_usd / c[at])
    return ts[keep], o[keep], h[keep], lo[keep], c[keep], usd[keep], sol[keep]


def peer_inputs(ts, o, h, lo, c, oi_usd, bins=400, num=Decimal):
    """The peer's own input types: candle objects of Decimals and Decimal OI deltas (USD).

    Built once, outside the timing, as the peer gets them from its database.
    The bucket size gives as many price cells as the engine's bins over the
    same range (0.5 × lowest low to 1.5 × highest high).
    """

    def dec(x):
        return num(repr(float(x)))

    candles = [
        Candle(datetime.fromtimestamp(int(t) / 1000, tz=UTC), dec(a), dec(b), dec(d), dec(e))
        for t, a, b, d, e in zip(ts, o, h, lo, c)
    ]
    deltas = [num(0)] + [dec(x) for x in np.diff(oi_usd)]
    size = dec((1.5 * h.max() - 0.5 * lo.min()) / bins)
    return candles, deltas, size
