"""Reads of the grids app: the target a URL or a form names, checked against what is stored."""

from __future__ import annotations

from grids.models import GridSnapshot
from grids.targets import COIN_MAX_LENGTH, BadTarget, Target
from liqsite.exchanges import INTERVAL_SECONDS
from markets.models import Market


def known_coin(coin: str) -> Target:
    """The coin target for a name typed into a URL or a form; BadTarget when no market has that base."""
    coin = coin.strip().upper()
    if not coin or len(coin) > COIN_MAX_LENGTH or "\x00" in coin:
        raise BadTarget(f"There is no coin {coin!r} among the markets. Pick one from the market list.")
    known = GridSnapshot.objects.filter(market=None, coin=coin).exists() or Market.objects.filter(base__iexact=coin).exists()
    if not known:
        raise BadTarget(f"There is no coin {coin!r} among the markets. Pick one from the market list.")
    return Target(coin=coin)


def known_market(market_id: int) -> Target:
    """The market target for an id from a URL or a form, loaded; BadTarget when there is no such market."""
    market = Market.objects.select_related("exchange").filter(pk=market_id).first()
    if market is None:
        raise BadTarget(f"There is no market with id {market_id}. Pick one from the market list.")
    return Target.of_market(market)


def grid_intervals(target: Target) -> list[str]:
    """The intervals a grid is stored at for a market or a coin, finest first."""
    found = set(GridSnapshot.objects.filter(**target.lookup()).values_list("interval", flat=True).distinct())
    return sorted(found, key=lambda interval: INTERVAL_SECONDS.get(interval, 1 << 40))
