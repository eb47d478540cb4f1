"""What a grid, a page, a share link, a watchlist row or an alert rule is about.

A *target* is one market, or one coin across exchanges (a base asset such as
"BTC" whose grid aggregates every market of that base on an enabled
exchange). ``Target`` is the value passed between tasks, services and pages;
its key (``m:12``, ``c:BTC``) is what tasks take and forms submit.
``TargetFields`` is the pair of columns a model stores it in, with the one
check constraint that exactly one of the two is set.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import models
from django.db.models import Q

from markets.models import Market

COIN_MAX_LENGTH = 16


class BadTarget(ValueError):
    """A key or name that designates no market or coin; the message is for the user."""


@dataclass(frozen=True)
class Target:
    market_id: int | None = None
    coin: str = ""
    # The loaded market, when the caller has it (titles need its exchange); not part of the identity.
    market: Market | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if (self.market_id is None) == (not self.coin):
            raise ValueError("a target is one market or one coin, exactly one of the two")

    @classmethod
    def of_market(cls, market: Market) -> Target:
        return cls(market_id=market.pk, market=market)

    @classmethod
    def of_coin(cls, coin: str) -> Target:
        return cls(coin=coin)

    @classmethod
    def of_row(cls, row: TargetFields) -> Target:
        """The target a stored row points at (its market is fetched lazily by ``title``)."""
        return cls(market_id=row.market_id) if row.market_id is not None else cls(coin=row.coin)

    @classmethod
    def from_key(cls, key: str) -> Target:
        """``m:<market id>`` or ``c:<COIN>``, as made by ``key``; BadTarget for anything else."""
        kind, _, value = str(key).partition(":")
        if kind == "m" and value.isascii() and value.isdigit():
            return cls(market_id=int(value))
        if kind == "c" and value and len(value) <= COIN_MAX_LENGTH:
            return cls(coin=value)
        raise BadTarget(f"{key!r} is not a market or a coin")

    @property
    def key(self) -> str:
        return f"m:{self.market_id}" if self.market_id is not None else f"c:{self.coin}"

    @property
    def is_coin(self) -> bool:
        return self.market_id is None

    def lookup(self, prefix: str = "") -> dict:
        """Filter arguments selecting the rows of this target in a model with ``TargetFields``."""
        if self.market_id is not None:
            return {f"{prefix}market_id": self.market_id}
        return {f"{prefix}market__isnull": True, f"{prefix}coin": self.coin}

    def loaded(self) -> Target:
        """The same target with its market (and exchange) loaded; Market.DoesNotExist if it is gone."""
        if self.market_id is None or self.market is not None:
            return self
        market = Market.objects.select_related("exchange").get(pk=self.market_id)
        return Target(market_id=self.market_id, market=market)

    @property
    def title(self) -> str:
        if self.market_id is None:
            return f"{self.coin} · all exchanges"
        market = self.loaded().market
        return f"{market.symbol} · {market.exchange.label}"

    def markets(self) -> list[Market]:
        """The markets whose data make this target's grid (a coin: its markets on enabled exchanges)."""
        if self.market_id is not None:
            return [self.loaded().market]
        return coin_markets(self.coin)


def coin_markets(coin: str) -> list[Market]:
    """Markets of one base asset on enabled exchanges, aggregated into the coin's heatmap."""
    return list(Market.objects.filter(base=coin, exchange__enabled=True).select_related("exchange").order_by("pk"))


class TargetFields(models.Model):
    """A market, or a coin across exchanges: exactly one is set (see ``market_xor_coin``)."""

    market = models.ForeignKey("markets.Market", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    coin = models.CharField(max_length=COIN_MAX_LENGTH, blank=True, help_text="Base asset, for the aggregate across exchanges.")

    class Meta:
        abstract = True

    @staticmethod
    def market_xor_coin(name: str) -> models.CheckConstraint:
        return models.CheckConstraint(
            condition=(Q(market__isnull=False) & Q(coin="")) | (Q(market__isnull=True) & ~Q(coin="")),
            name=name,
        )

    @property
    def target(self) -> Target:
        if self.market_id is not None and "market" in self._state.fields_cache:
            return Target(market_id=self.market_id, market=self.market)
        return Target.of_row(self)

    @property
    def target_key(self) -> str:
        """The value of the target choice in forms: ``m:<market id>`` or ``c:<COIN>``."""
        return self.target.key

    @property
    def target_label(self) -> str:
        return self.target.title
