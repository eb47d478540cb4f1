"""What a watchlist row or an alert rule points at: one market, or one coin across exchanges.

A coin is a base asset ("BTC") whose grid is the aggregate across exchanges
(``GridSnapshot`` rows with ``market=None, coin="BTC"``). Exactly one of the two
is set, enforced by a check constraint on each model that uses this mixin.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class Target(models.Model):
    market = models.ForeignKey("heatmaps.Market", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    coin = models.CharField(max_length=16, blank=True, help_text="Base asset, for the aggregate across exchanges.")

    class Meta:
        abstract = True

    @staticmethod
    def market_xor_coin(name: str) -> models.CheckConstraint:
        return models.CheckConstraint(
            condition=(Q(market__isnull=False) & Q(coin="")) | (Q(market__isnull=True) & ~Q(coin="")), name=name,
        )

    @property
    def target_key(self) -> str:
        """The value of the target choice in forms: ``m:<market id>`` or ``c:<COIN>``."""
        return f"m:{self.market_id}" if self.market_id else f"c:{self.coin}"

    @property
    def target_label(self) -> str:
        if self.market_id:
            return f"{self.market.symbol} · {self.market.exchange.label}"
        return f"{self.coin} · all exchanges"
