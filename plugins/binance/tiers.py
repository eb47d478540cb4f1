"""Binance's maintenance-margin brackets from the bundled table (the live endpoint needs an API key)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from liqsite.exchanges import MarginTier

TIERS_FILE = Path(__file__).resolve().parent / "data" / "leverage_tiers.json"


@cache
def _table() -> dict[str, list[list[float]]]:
    return json.loads(TIERS_FILE.read_text())


def bundled_tiers(symbol: str) -> tuple[MarginTier, ...]:
    """The brackets of ``symbol`` as of the snapshot (see data/README.md); empty when unknown."""
    return tuple(
        MarginTier(
            notional_floor=floor, notional_cap=cap, maintenance_margin_rate=rate, max_leverage=leverage, maintenance_amount=cum
        )
        for floor, cap, rate, leverage, cum in _table().get(symbol, ())
    )
