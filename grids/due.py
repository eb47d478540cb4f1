"""Which grids are due: a market's after a refresh changed its series; a coin's once none of its markets is.

A coin's aggregate sums every market of the coin, so computing it after each
market would compute it once per market per cycle. Instead each changed
market is marked due in the database (``Market.grids_due_since``) when its
refresh commits, and the compute that finishes the coin's last due market
queues the aggregate. The marks are rows, not cache entries or a look at
what workers are doing, so every worker and web process sees the same state
(the style guide's rule), and a mark is cleared only by the compute that
began after it was set.

What this guarantees: every change reaches the aggregate (the last compute
of a coin's markets, failed or not, queues it, and it reads every market's
stored series). What it does not: exactly one aggregate per cycle. A market
whose refresh ends after a sibling's compute (several workers, a refresh
retrying) is marked only then, so the sibling may queue an aggregate that a
second one follows; two last markets finishing together both queue one.
Either costs a repeated aggregate, never a stale one.

A mark whose compute never ran (a task lost beyond redelivery) must not hold
the coin back for good: marks older than ``due_at_most()`` no longer count.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from markets.models import Market

__all__ = ["due_at_most", "market_due_mark", "market_due_read", "market_due_clear", "coin_due_count", "market_grids_done"]


def due_at_most() -> timedelta:
    """How long a mark counts: three refresh cycles, 15 minutes at least.

    A mark ages from its refresh, so its compute's time in the queue counts:
    a busy worker may take a cycle or two to reach it, and a mark that expired
    while its compute waits would let every sibling queue its own aggregate.
    """
    return max(timedelta(minutes=15), 3 * timedelta(seconds=settings.LIQSITE_REFRESH_SECONDS))


def market_due_mark(*, market_id: int) -> None:
    """The market's stored series changed: its grids (and its coin's) are to be computed."""
    Market.objects.filter(pk=market_id).update(grids_due_since=timezone.now())


def market_due_read(*, market_id: int) -> datetime | None:
    """When the market was last marked due (None: not due); read before computing."""
    return Market.objects.filter(pk=market_id).values_list("grids_due_since", flat=True).first()


def market_due_clear(*, market_id: int, seen: datetime | None) -> None:
    """Clear the mark the compute began with; a refresh that marked it again since keeps it due."""
    if seen is not None:
        Market.objects.filter(pk=market_id, grids_due_since=seen).update(grids_due_since=None)


def coin_due_count(*, coin: str) -> int:
    """How many markets of the coin (those its aggregate sums: ``grids.targets.coin_markets``) are still due."""
    cutoff = timezone.now() - due_at_most()
    return Market.objects.filter(base=coin, exchange__enabled=True, grids_due_since__gt=cutoff).count()


def market_grids_done(*, market_id: int, seen: datetime | None) -> tuple[str, int]:
    """A market's compute ended (stored, unchanged or failed): clear its mark; (its coin, markets still due).

    The caller queues the coin's aggregate when none is still due, after a
    failed compute too: the aggregate reads the stored series, not the market's
    grids, and nothing else would queue it. The coin is "" for a market without a base asset.
    """
    market_due_clear(market_id=market_id, seen=seen)
    coin = Market.objects.filter(pk=market_id).values_list("base", flat=True).first() or ""
    return coin, coin_due_count(coin=coin) if coin else 0
