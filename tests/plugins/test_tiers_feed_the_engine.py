"""Each plugin's MarginTiers become the engine's TierTable field for field (checked when the engine is present)."""

from __future__ import annotations

import pytest

from liqsite.exchanges.http import ResponseReader
from plugins.binance.plugin import BinanceExchange
from plugins.bybit import parse as bybit_parse
from plugins.okx import parse as okx_parse
from tests.plugins.conftest import fixture_json

formulas = pytest.importorskip("liqengine.formulas")


def table(tiers):
    """The mapping the engine needs: MarginTier → Tier(floor, cap, mmr, cum, max_leverage)."""
    return formulas.TierTable(
        tuple(
            formulas.Tier(t.notional_floor, t.notional_cap, t.maintenance_margin_rate, t.maintenance_amount, t.max_leverage)
            for t in tiers
        )
    )


def test_binance_tiers_match_the_engines_own_reading_of_the_same_brackets():
    import json
    from pathlib import Path

    ours = table(BinanceExchange().margin_tiers("BTCUSDT"))
    sample = Path(__file__).resolve().parents[2] / "plugins/sample/data/binance-leverage-tiers/btcusdt_tiers.json"
    theirs = formulas.TierTable.from_binance_brackets(json.loads(sample.read_text())["BTC/USDT:USDT"])
    assert ours == theirs
    assert ours.tier_for(1_000_000).mmr == 0.0065 and ours.tier_for(1_000_000).cum == 950


def test_bybit_and_okx_tiers_are_valid_tables():
    reader = ResponseReader("Bybit", "/v5/market/risk-limit")
    tiers, _ = bybit_parse.risk_limits(
        bybit_parse.unwrap(fixture_json("bybit", "risk-limit.docs.json"), reader), reader, "BTCUSD"
    )
    assert table(tiers).tier_for(10).mmr == 0.005
    reader = ResponseReader("OKX", "/api/v5/public/position-tiers")
    tiers = okx_parse.position_tiers(
        okx_parse.unwrap(fixture_json("okx", "position-tiers.nautilus.json"), reader), reader, units_to_notional=1.0
    )
    assert table(tiers).tier_for(10).mmr == 0.03
