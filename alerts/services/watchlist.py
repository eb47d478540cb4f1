"""Adding, removing and reordering watchlist rows."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max

from alerts.models import WatchlistItem
from markets.models import Market


def _lock_watchlist(user_id: int) -> None:
    """Serialise changes to one user's list (two tabs, two quick clicks) by locking the user row."""
    list(get_user_model().objects.select_for_update().filter(pk=user_id).values_list("pk", flat=True))


def watchlist_item_add(*, user, market: Market | None = None, coin: str = "") -> WatchlistItem:
    """Append a market or coin to the user's watchlist; adding one twice is refused."""
    try:
        with transaction.atomic():
            _lock_watchlist(user.pk)
            last = WatchlistItem.objects.filter(user=user).aggregate(last=Max("position"))["last"]
            return WatchlistItem.objects.create(
                user=user,
                market=market,
                coin="" if market else coin.upper(),
                position=0 if last is None else last + 1,
            )
    except IntegrityError:
        raise ValidationError("This is already on your watchlist.", code="duplicate") from None


def watchlist_item_remove(*, item: WatchlistItem) -> None:
    item.delete()


def watchlist_item_move(*, item: WatchlistItem, direction: str) -> None:
    """Move a row one place up or down, renumbering the list so positions stay 0..n-1."""
    with transaction.atomic():
        _lock_watchlist(item.user_id)
        items = list(WatchlistItem.objects.filter(user_id=item.user_id).order_by("position", "pk"))
        index = next(i for i, row in enumerate(items) if row.pk == item.pk)
        target = index - 1 if direction == "up" else index + 1
        if 0 <= target < len(items):
            items[index], items[target] = items[target], items[index]
        changed = []
        for position, row in enumerate(items):
            if row.position != position:
                row.position = position
                changed.append(row)
        WatchlistItem.objects.bulk_update(changed, ["position"])
