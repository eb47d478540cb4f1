"""The engine on real recorded markets, against the reference loop.

OKX SOL-USDT-SWAP (5m candles, hourly OI) and Binance BTCUSDT (15m candles, 5m
OI, including the 2024-05-10 sell-off): see tests/liqengine/fixtures/README.md.
"""

from __future__ import annotations

import numpy as np
import pytest

from liqengine import analyse_map, default_bin_edges, liquidation_grid, squeeze_summary
from tests.liqengine.helpers import assert_matches_reference, binance_btc_15m, okx_sol_5m, run_reference


@pytest.mark.parametrize("start", [0, 3000, 6800])
def test_okx_sol_slices_match_reference(start):
    d = okx_sol_5m()
    sl = slice(start, start + 500)
    h, lo, c, oi = d["high"][sl], d["low"][sl], d["close"][sl], d["open_interest"][sl]
    edges = default_bin_edges(lo, h, 400)
    r = liquidation_grid(h, lo, c, oi, edges)
    assert_matches_reference(r, run_reference(h, lo, c, oi, edges))


def test_okx_sol_long_share_and_taker_options_match_reference():
    d = okx_sol_5m()
    sl = slice(1000, 1400)
    args = [d[k][sl] for k in ("high", "low", "close", "open_interest")]
    edges = default_bin_edges(args[1], args[0], 200)
    r = liquidation_grid(*args, edges, long_share=d["long_share"][sl])
    assert_matches_reference(r, run_reference(*args, edges, long_share=d["long_share"][sl]))
    tb, vol = d["taker_buy_volume"][sl], d["volume"][sl]
    r2 = liquidation_grid(*args, edges, taker_buy_volume=tb, volume=vol)
    assert_matches_reference(r2, run_reference(*args, edges, taker_buy_volume=tb, volume=vol))
    # The ratios differ from 0.5, so the options do change the map.
    base = liquidation_grid(*args, edges)
    assert not np.allclose(base.long_grid, r.long_grid)


def test_binance_btc_sell_off_realises_long_liquidations():
    d = binance_btc_15m()
    h, lo, c, oi = d["high"], d["low"], d["close"], d["open_interest"]
    edges = default_bin_edges(lo, h, 400)
    r = liquidation_grid(h, lo, c, oi, edges, long_share=d["long_share"])
    assert_matches_reference(r, run_reference(h, lo, c, oi, edges, long_share=d["long_share"]))
    # The 2024-05-10 14:00-15:00 UTC fall (about 63.0k -> 60.65k) liquidates longs.
    t = d["open_time"]
    crash = (t >= 1715349600000) & (t < 1715353200000)
    assert r.realized_long[crash].sum() > 0
    assert r.realized_long[crash].sum() > 10 * r.realized_short[crash].sum()
    # Reading and squeeze on the last row run and serialise.
    grid = r.long_grid + r.short_grid
    reading = analyse_map(grid, edges, c, oi, interval_seconds=900, open_time=t)
    assert reading.bands and all(b.side in ("above", "below") for b in reading.bands)
    s = squeeze_summary(r.long_grid[-1], r.short_grid[-1], edges, float(c[-1]))
    assert s.levels[-1].long_usd >= s.levels[0].long_usd
