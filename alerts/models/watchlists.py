"""One watchlist per user: an ordered list of markets and coins."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from grids.targets import TargetFields


class WatchlistItem(TargetFields):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="watchlist_items")
    position = models.PositiveIntegerField(default=0, help_text="Order on the page, smallest first.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["user", "position", "pk"]
        constraints = [
            TargetFields.market_xor_coin("watchlist_market_xor_coin"),
            models.UniqueConstraint(fields=["user", "market"], condition=Q(market__isnull=False), name="watchlist_unique_market"),
            models.UniqueConstraint(fields=["user", "coin"], condition=Q(market__isnull=True), name="watchlist_unique_coin"),
        ]

    def __str__(self) -> str:
        return f"{self.user} watches {self.market or self.coin}"
