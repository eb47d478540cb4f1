"""Offline stand-ins for Binance, Bybit and OKX: BTC and SOL over the same hours, recorded.

Each class serves one exchange's BTC and SOL perpetuals from
``data/multi-exchange-btc-sol-1h-2026-01_03/`` (MIT, see the folder README):
hourly candles and hourly open interest recorded from the exchanges' public
APIs in January–March 2026. They are separate plugins (one ``Exchange`` each),
so a coin page sums three markets, each with its exchange's liquidation
formula and, where recorded, its tiers, and the exchange filter can take one
out. Like the ``sample`` plugin they need no network and go through the same
ingest path as the live plugins.

Open interest is served as recorded: a row at T is the snapshot taken at T,
the open of the candle starting at T (``open_interest_stamp = "open"``;
tests/plugins/test_sample_recorded.py reads that back from the data).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import ClassVar

from liqsite.exchanges import Candle, ExchangeError, ExchangePlugin, Instrument, MarginTier, OpenInterestPoint
from liqsite.exchanges.http import from_ms

DATA_DIR = Path(__file__).resolve().parent / "data"
RECORDED_DIR = DATA_DIR / "multi-exchange-btc-sol-1h-2026-01_03"
TIERS_DIR = DATA_DIR / "binance-leverage-tiers"
INTERVAL = "1h"
BATCH_ROWS = 5000  # rows per yielded batch: one transaction each, like a live page
RECORDED = "recorded 2026-01 .. 03 (sample)"


@dataclass(frozen=True)
class RecordedMarket:
    """One recorded market: its instrument, its folder, and its tier file (if any)."""

    instrument: Instrument
    folder: str
    tiers: tuple[str, str] | None = None  # (file in TIERS_DIR, key in it): freqtrade's layout


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


@cache
def recorded_candles(folder: str) -> tuple[Candle, ...]:
    """The folder's hourly candles (volume in base units; no taker split was recorded)."""
    return tuple(
        Candle(
            from_ms(int(r["time_ms"])), float(r["open"]), float(r["high"]), float(r["low"]), float(r["close"]), float(r["volume"])
        )
        for r in _rows(RECORDED_DIR / folder / "candles.csv")
    )


@cache
def recorded_open_interest(folder: str) -> tuple[OpenInterestPoint, ...]:
    """The folder's hourly readings, stamped as recorded (the snapshot at that instant)."""
    return tuple(
        OpenInterestPoint(from_ms(int(r["time_ms"])), float(r["oi_base"]), float(r["oi_usd"]))
        for r in _rows(RECORDED_DIR / folder / "open_interest.csv")
    )


def _batches(rows: Sequence, since: datetime | None) -> Iterator[Sequence]:
    rows = [row for row in rows if since is None or row.time >= since]
    for start in range(0, len(rows), BATCH_ROWS):
        yield rows[start : start + BATCH_ROWS]


class RecordedExchange(ExchangePlugin):
    """One exchange of the recorded three-exchange sample; subclasses list its markets."""

    intervals = (INTERVAL,)
    open_interest_stamp = "open"
    markets: ClassVar[Mapping[str, RecordedMarket]] = {}

    def instruments(self) -> Sequence[Instrument]:
        return tuple(market.instrument for market in self.markets.values())

    def _market(self, symbol: str, interval: str | None = None) -> RecordedMarket:
        self.instrument(symbol)  # unknown symbol: a permanent error
        if interval is not None and interval != INTERVAL:
            raise ExchangeError(
                f"{symbol} has no recorded {interval} data; recorded interval: {INTERVAL}", permanent=True, exchange=self.label
            )
        return self.markets[symbol]

    def candles(self, symbol, interval, since):
        return _batches(recorded_candles(self._market(symbol, interval).folder), since)

    def open_interest(self, symbol, interval, since):
        return _batches(recorded_open_interest(self._market(symbol, interval).folder), since)

    def margin_tiers(self, symbol):
        market = self._market(symbol)
        if market.tiers is None:
            return ()
        name, key = market.tiers
        return tuple(
            MarginTier(t["minNotional"], t["maxNotional"], t["maintenanceMarginRate"], t["maxLeverage"], float(t["info"]["cum"]))
            for t in json.loads((TIERS_DIR / name).read_text())[key]
        )


def _linear(symbol: str, base: str, contract_size: float, tick: float, exchange: str, oi_note: str) -> Instrument:
    return Instrument(symbol, base, "USDT", "linear", contract_size, tick, note=f"{exchange} perpetual, {RECORDED}; {oi_note}")


class SampleBinance(RecordedExchange):
    """Binance USDⓈ-M BTCUSDT and SOLUSDT, 2026-02-13 .. 03-05 (Binance keeps 30 days of OI history)."""

    label = "Binance (sample)"
    description = "Recorded Binance USDS-M BTCUSDT and SOLUSDT, hourly, Feb–Mar 2026 (MIT); needs no network."
    # Binance's formula (margin on the value at liquidation) with its published brackets.
    maintenance_basis = {"linear": "liquidation", "inverse": "liquidation"}
    markets = {
        "BTCUSDT": RecordedMarket(
            _linear("BTCUSDT", "BTC", 1.0, 0.1, "Binance USDS-M", "OI from 2026-02-13"),
            "binance-BTCUSDT",
            ("btcusdt_tiers.json", "BTC/USDT:USDT"),
        ),
        "SOLUSDT": RecordedMarket(
            _linear("SOLUSDT", "SOL", 1.0, 0.01, "Binance USDS-M", "OI from 2026-02-13"),
            "binance-SOLUSDT",
            ("solusdt_tiers.json", "SOL/USDT:USDT"),
        ),
    }


class SampleBybit(RecordedExchange):
    """Bybit linear BTCUSDT and SOLUSDT, 2026-01-05 .. 03-06."""

    label = "Bybit (sample)"
    description = "Recorded Bybit linear BTCUSDT and SOLUSDT, hourly, Jan–Mar 2026 (MIT); needs no network."
    # Bybit's classic USDT-contract formula charges maintenance margin on the entry value.
    maintenance_basis = {"linear": "entry", "inverse": "liquidation"}
    markets = {
        "BTCUSDT": RecordedMarket(
            _linear("BTCUSDT", "BTC", 1.0, 0.1, "Bybit linear", "no risk-limit table recorded"), "bybit-BTCUSDT"
        ),
        "SOLUSDT": RecordedMarket(
            _linear("SOLUSDT", "SOL", 1.0, 0.01, "Bybit linear", "no risk-limit table recorded"), "bybit-SOLUSDT"
        ),
    }


class SampleOkx(RecordedExchange):
    """OKX BTC-USDT-SWAP and SOL-USDT-SWAP, 2026-01-05 .. 03-05 (OKX keeps 60 days of OI history)."""

    label = "OKX (sample)"
    description = "Recorded OKX BTC-USDT-SWAP and SOL-USDT-SWAP, hourly, Jan–Mar 2026 (MIT); needs no network."
    maintenance_basis = {"linear": "liquidation", "inverse": "liquidation"}
    markets = {
        # Contract sizes as OKX lists them; the recording is already in base units (contracts × ctVal).
        "BTC-USDT-SWAP": RecordedMarket(
            _linear("BTC-USDT-SWAP", "BTC", 0.01, 0.1, "OKX swap", "no position-tier table recorded"), "okx-BTC-USDT-SWAP"
        ),
        "SOL-USDT-SWAP": RecordedMarket(
            _linear("SOL-USDT-SWAP", "SOL", 1.0, 0.01, "OKX swap", "no position-tier table recorded"), "okx-SOL-USDT-SWAP"
        ),
    }
