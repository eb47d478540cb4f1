"""Backtest a coin's aggregate map (its markets summed) against the liquidations of those markets together.

Issue 17's question: does summing the exchanges make the map truer? Each
market is replayed on its own rows with its own formula and tiers
(:mod:`.service` loads them), the maps are summed on the steps every market
has, and scored per side against the markets' liquidations added together,
beside each market alone against the same liquidations. Printed by
``manage.py backtest --coin``; not stored (reports are per market).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np

from grids.targets import coin_markets
from liqsite.exchanges import INTERVAL_SECONDS
from markets.models import Market

from .backtest import BacktestResult, Observed, observed_sides, run_aggregate_backtest
from .service import FIT_SHARE, MS, BacktestUnavailable, backtest_input

MIN_STEPS = 20


@dataclass(frozen=True)
class CoinBacktestRun:
    coin: str
    interval: str
    markets: list[Market]
    result: BacktestResult  # the markets summed
    singles: dict[str, BacktestResult]  # each market alone, against the same liquidations


def coin_backtest(
    coin: str,
    *,
    interval: str = "1h",
    start: datetime | None = None,
    end: datetime | None = None,
    fit_share: float = FIT_SHARE,
) -> CoinBacktestRun:
    """Score the coin's aggregate map (its markets summed) against the liquidations of those markets together.

    The steps scored are those every market has, with real liquidations known
    per side on every market (imported totals or covered records); the split
    is by time over them. Each market alone is scored against the same
    liquidations, as the coin page's exchange filter would show it. Nothing is
    stored: reports are per market.
    """
    markets = coin_markets(coin)
    if not markets:
        raise BacktestUnavailable(f"no market of {coin} on an enabled exchange")
    inputs = [backtest_input(m, interval, start=start, end=end, fit_share=fit_share) for m in markets]
    common = inputs[0].open_time
    for inp in inputs[1:]:
        common = np.intersect1d(common, inp.open_time)
    long_usd, short_usd = np.zeros(len(common)), np.zeros(len(common))
    for inp in inputs:
        seen = observed_sides(inp)
        at = np.searchsorted(inp.open_time, common)
        long_usd += seen.long[at]  # NaN (unknown on one market) stays NaN in the sum
        short_usd += seen.short[at]
    known = np.isfinite(long_usd) & np.isfinite(short_usd)
    if known.sum() < MIN_STEPS:
        raise BacktestUnavailable(
            f"{coin}: {int(known.sum())} {interval} step(s) have real liquidations known on every market; "
            f"{MIN_STEPS} or more are needed"
        )
    common, long_usd, short_usd = common[known], long_usd[known], short_usd[known]
    observed = Observed(long_usd + short_usd, long_usd, short_usd, np.ones(len(common), np.int8))
    step_ms = INTERVAL_SECONDS[interval] * MS
    split = int(common[0]) + int(round(fit_share * (int(common[-1]) + step_ms - int(common[0]))))
    singles = {
        f"{m.exchange.plugin}:{m.symbol}": run_aggregate_backtest([inp], observed, common, split)
        for m, inp in zip(markets, inputs)
    }
    return CoinBacktestRun(coin, interval, markets, run_aggregate_backtest(inputs, observed, common, split), singles)
