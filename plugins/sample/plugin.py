"""The bundled sample exchange: real recorded data shipped with liqsite.

It serves two markets from ``data/`` (see ``data/README.md`` for origins and
unit conversions): Binance USDⓈ-M ``BTCUSDT`` in May 2024 and OKX
``SOL-USDT-SWAP`` in June 2026. It needs no network, so a fresh install shows
real heatmaps offline, and it goes through exactly the same ingest path as the
live exchanges.

Two options exist for benchmarks and demos (bench/scale_bench.py uses both):

- *Shifted copies*: the symbol ``SOL-USDT-SWAP+<H>h`` (1 <= H <= 8760) is the
  OKX SOL-USDT-SWAP recording with every time moved H hours later, so many
  distinct markets can be added, each with its own rows. Intervals longer than
  an hour need H to be a multiple of them (steps stay on their boundaries).
- *Replay clock*: the exchange setting ``replay_until`` (ISO 8601 UTC, empty by
  default) serves only what was recorded before that time, on the recording's
  own clock (before any shift, so every copy holds the same amount of data).
  Moving it forward makes new steps "arrive", as on a live exchange.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path

from liqsite.exchanges import (
    INTERVAL_SECONDS,
    Candle,
    ExchangeError,
    ExchangePlugin,
    FundingRatePoint,
    Instrument,
    LongShortPoint,
    MarginTier,
    OpenInterestPoint,
)
from liqsite.exchanges.http import from_ms

DATA_DIR = Path(__file__).resolve().parent / "data"
BINANCE_DIR = DATA_DIR / "binance-btcusdt-2024-05"
OKX_DIR = DATA_DIR / "okx-sol-usdt-swap-2026-06"
BATCH_ROWS = 5000  # rows per yielded batch: one transaction each, like a live page

BTC = Instrument("BTCUSDT", "BTC", "USDT", "linear", 1.0, 0.1, note="Binance USD-M perpetual, recorded 2024-05-09 .. 05-11")
SOL = Instrument(
    "SOL-USDT-SWAP",
    "SOL",
    "USDT",
    "linear",
    1.0,
    0.001,
    note="OKX perpetual swap, recorded 2026-05-31 .. 06-26; open interest covers all SOL contracts",
)
OKX_CANDLE_INTERVALS = ("1m", "5m", "15m", "30m", "1h", "2h", "4h", "1d")
COPY_SYMBOL = re.compile(r"SOL-USDT-SWAP\+(\d{1,4})h")
MAX_COPY_SHIFT_HOURS = 8760


def _utc(ms: str) -> datetime:
    return from_ms(int(ms))


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


@cache
def _binance_candles() -> tuple[Candle, ...]:
    return tuple(
        Candle(
            _utc(r["open_time"]),
            float(r["open"]),
            float(r["high"]),
            float(r["low"]),
            float(r["close"]),
            float(r["volume"]),
            float(r["taker_buy_base"]),
        )
        for r in _rows(BINANCE_DIR / "BTCUSDT-perp-15m-2024-05-09_11.csv")
    )


@cache
def _binance_stats() -> tuple[dict[str, str], ...]:
    return tuple(_rows(BINANCE_DIR / "btc_future_5m_2024-05-09_11.csv"))


@cache
def _okx_taker_buy_share() -> dict[datetime, float]:
    shares = {}
    for r in _rows(OKX_DIR / "taker_volume.csv"):
        buy, sell = float(r["buyVol"]), float(r["sellVol"])
        if buy + sell > 0:
            shares[_utc(r["ts"])] = buy / (buy + sell)
    return shares


@cache
def _okx_candles(interval: str) -> tuple[Candle, ...]:
    taker = _okx_taker_buy_share() if interval == "1h" else {}
    candles = []
    for r in _rows(OKX_DIR / f"ohlcv_{interval}.csv"):
        time, volume = _utc(r["ts"]), float(r["volume"])
        share = taker.get(time)
        candles.append(
            Candle(
                time,
                float(r["open"]),
                float(r["high"]),
                float(r["low"]),
                float(r["close"]),
                volume,
                None if share is None else volume * share,
            )
        )
    return tuple(candles)


def _since(rows: Iterable, since: datetime | None) -> list:
    return [row for row in rows if since is None or row.time >= since]


def _batches(rows: Sequence) -> Iterator[Sequence]:
    for start in range(0, len(rows), BATCH_ROWS):
        yield rows[start : start + BATCH_ROWS]


def _on_boundary(time: datetime, interval: str) -> bool:
    return int(time.timestamp()) % INTERVAL_SECONDS[interval] == 0


class SampleExchange(ExchangePlugin):
    """Recorded Binance BTCUSDT (2024-05) and OKX SOL-USDT-SWAP (2026-06) data, offline."""

    label = "Sample data (offline)"
    description = "Real recorded Binance BTCUSDT and OKX SOL-USDT-SWAP data bundled with liqsite; needs no network."
    intervals = OKX_CANDLE_INTERVALS
    default_settings = {"replay_until": ""}

    def instruments(self) -> Sequence[Instrument]:
        return (BTC, SOL)

    def instrument(self, symbol: str) -> Instrument:
        hours = self._copy_shift_hours(symbol)
        if hours is None:
            return super().instrument(symbol)
        return dataclasses.replace(
            SOL, symbol=symbol, note=f"Copy of the OKX SOL-USDT-SWAP recording, {hours} h later (benchmarks)"
        )

    def _copy_shift_hours(self, symbol: str) -> int | None:
        match = COPY_SYMBOL.fullmatch(symbol)
        if match is None:
            return None
        hours = int(match.group(1))
        if not 1 <= hours <= MAX_COPY_SHIFT_HOURS:
            raise ExchangeError(
                f"{symbol}: a copy is shifted by 1 to {MAX_COPY_SHIFT_HOURS} hours, not {hours}",
                permanent=True,
                exchange=self.label,
            )
        return hours

    def _check(self, symbol: str, interval: str | None = None) -> timedelta:
        """Raise for what is not recorded; the time shift of ``symbol`` (zero but for copies)."""
        self.instrument(symbol)
        allowed = ("15m",) if symbol == BTC.symbol else OKX_CANDLE_INTERVALS
        if interval is not None and interval not in allowed:
            raise ExchangeError(
                f"{symbol} has no recorded {interval} data; recorded intervals: {', '.join(allowed)}",
                permanent=True,
                exchange=self.label,
            )
        shift = timedelta(hours=self._copy_shift_hours(symbol) or 0)
        if interval is not None and shift.total_seconds() % INTERVAL_SECONDS[interval]:
            raise ExchangeError(
                f"{symbol} is shifted by {shift}, which would move its {interval} steps off their boundaries",
                permanent=True,
                exchange=self.label,
            )
        return shift

    def _served(self, rows: Iterable, shift: timedelta, since: datetime | None) -> Iterator[Sequence]:
        """Rows recorded before ``replay_until``, moved by ``shift``, from ``since`` on, in batches."""
        until = self._replay_until()
        if until is not None:
            rows = [row for row in rows if row.time < until]
        if shift:
            rows = [dataclasses.replace(row, time=row.time + shift) for row in rows]
        return _batches(_since(rows, since))

    def _replay_until(self) -> datetime | None:
        value = self.settings.get("replay_until") or ""
        if not value:
            return None
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError:
            moment = None
        if moment is None or moment.tzinfo is None:
            raise ExchangeError(
                f"replay_until must be an ISO 8601 time with a UTC offset (e.g. 2026-06-20T00:00:00+00:00), not {value!r}",
                permanent=True,
                exchange=self.label,
            )
        return moment

    def candles(self, symbol, interval, since):
        shift = self._check(symbol, interval)
        rows = _binance_candles() if symbol == BTC.symbol else _okx_candles(interval)
        return self._served(rows, shift, since)

    def open_interest(self, symbol, interval, since):
        shift = self._check(symbol, interval)
        if symbol == BTC.symbol:
            points = [
                OpenInterestPoint(_utc(r["timestamp"]), float(r["sumOpenInterest"]), float(r["sumOpenInterestValue"]))
                for r in _binance_stats()
            ]
            points = [p for p in points if _on_boundary(p.time, interval)]
        else:
            # Only hourly readings exist; the core aligns them to finer steps as-of.
            price_at = {c.time: c.open for c in _okx_candles("1h")}
            points = [
                OpenInterestPoint(_utc(r["ts"]), float(r["oi_value"]) / price_at[_utc(r["ts"])], float(r["oi_value"]))
                for r in _rows(OKX_DIR / "open_interest.csv")
                if _utc(r["ts"]) in price_at
            ]
        return self._served(points, shift, since)

    def funding_rates(self, symbol, since):
        shift = self._check(symbol)
        if symbol == BTC.symbol:
            rows = _rows(BINANCE_DIR / "BTCUSDT-funding-2024-03-21_2024-09-26.csv")
            points = [FundingRatePoint(_utc(r["funding_time"]), float(r["funding_rate"])) for r in rows]
        else:
            points = [FundingRatePoint(_utc(r["ts"]), float(r["fundingRate"])) for r in _rows(OKX_DIR / "funding_rate.csv")]
        return self._served(points, shift, since)

    def long_short_ratios(self, symbol, interval, since):
        shift = self._check(symbol, interval)
        if symbol == BTC.symbol:
            points = [LongShortPoint(_utc(r["timestamp"]), float(r["globallongAccount"])) for r in _binance_stats()]
            points = [p for p in points if _on_boundary(p.time, interval)]
        else:
            points = [
                LongShortPoint(_utc(r["ts"]), float(r["ratio"]) / (1.0 + float(r["ratio"])))
                for r in _rows(OKX_DIR / "long_short_ratio.csv")
            ]
        return self._served(points, shift, since)

    def margin_tiers(self, symbol):
        self._check(symbol)
        if symbol != BTC.symbol:
            return ()
        tiers = json.loads((DATA_DIR / "binance-leverage-tiers" / "btcusdt_tiers.json").read_text())["BTC/USDT:USDT"]
        return tuple(
            MarginTier(t["minNotional"], t["maxNotional"], t["maintenanceMarginRate"], t["maxLeverage"], float(t["info"]["cum"]))
            for t in tiers
        )
