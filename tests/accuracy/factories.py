"""A market stored in the database from the real SOL fixture: 1h and 5m candles, hourly OI, long/short."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from markets.models import Candle, Exchange, Liquidation, LiquidationCoverage, LongShortRatio, Market, OpenInterest
from tests.accuracy.helpers import HOUR, sol_hourly


def utc(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def stored_market(hours: int = 96, *, symbol: str = "SOL-USDT-SWAP", plugin: str = "sample") -> Market:
    """A market with ``hours`` 1h candles (and their 5m candles), OI read at each hour's end, and long shares."""
    inp = sol_hourly(hours)
    exchange, _ = Exchange.objects.get_or_create(plugin=plugin)
    market = Market.objects.create(exchange=exchange, symbol=symbol, base="SOL", quote="USDT", intervals=["5m", "1h"])
    Candle.objects.bulk_create(
        Candle(market=market, interval="1h", time=utc(int(t)), open=o, high=h, low=lo, close=c, volume=v, taker_buy_volume=tb)
        for t, o, h, lo, c, v, tb in zip(inp.open_time, inp.open, inp.high, inp.low, inp.close, inp.volume, inp.taker_buy_volume)
    )
    f = inp.fine
    Candle.objects.bulk_create(
        Candle(market=market, interval="5m", time=utc(int(t)), open=o, high=h, low=lo, close=c, volume=1.0)
        for t, o, h, lo, c in zip(f.open_time, f.open, f.high, f.low, f.close)
    )
    OpenInterest.objects.bulk_create(
        OpenInterest(market=market, interval="1h", time=utc(int(t) + HOUR), open_interest=oi)
        for t, oi in zip(inp.open_time, inp.open_interest)
    )
    LongShortRatio.objects.bulk_create(
        LongShortRatio(market=market, interval="1h", time=utc(int(t) + HOUR), long_share=ls)
        for t, ls in zip(inp.open_time, inp.long_share)
    )
    return market


def listen(market: Market, start: datetime, end: datetime) -> LiquidationCoverage:
    return LiquidationCoverage.objects.create(
        exchange=market.exchange,
        stream="test",
        connected_at=start,
        last_message_at=end,
        disconnected_at=end,
    )


def liquidation(market: Market, time: datetime, price: float, usd: float, side: str = "long") -> Liquidation:
    return Liquidation.objects.create(market=market, time=time, side=side, price=price, quantity=usd / price, usd=usd)


__all__ = ["stored_market", "listen", "liquidation", "utc", "timedelta"]
