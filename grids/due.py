"""Which grids are due: a market's after a refresh changed its series; a coin's once none of its markets is.

A coin's aggregate sums every market of the coin, so computing it after each
market would compute it once per market per cycle (and read markets whose
new data is not in yet). Instead each changed market is marked due in the
database (``Market.grids_due_since``) when its refresh commits, and the
compute that finishes the coin's last due market queues the aggregate. The
marks are rows, not cache entries or a look at what workers are doing, so
every worker and web process sees the same state (the style guide's rule),
and a mark is cleared only by the compute that began after it was set.

A mark whose compute was lost (a worker killed beyond redelivery, a task that
expired) must not hold the coin back for good: marks older than
``DUE_AT_MOST`` no longer count.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from markets.models import Market

__all__ = ["DUE_AT_MOST", "mark_due", "due_since", "clear_due", "coin_waits_for"]

# Longer than any compute of one market takes on a busy worker (a 5m market: seconds).
DUE_AT_MOST = timedelta(minutes=15)


def mark_due(market_id: int) -> None:
    """The market's stored series changed: its grids (and its coin's) are to be computed."""
    Market.objects.filter(pk=market_id).update(grids_due_since=timezone.now())


def due_since(market_id: int) -> datetime | None:
    """When the market was last marked due (None: not due); read before computing."""
    return Market.objects.filter(pk=market_id).values_list("grids_due_since", flat=True).first()


def clear_due(market_id: int, seen: datetime | None) -> None:
    """Clear the mark the compute began with; a refresh that marked it again since keeps it due."""
    if seen is not None:
        Market.objects.filter(pk=market_id, grids_due_since=seen).update(grids_due_since=None)


def coin_waits_for(base: str) -> int:
    """How many markets of the coin are still due (the aggregate is queued when this reaches 0)."""
    cutoff = timezone.now() - DUE_AT_MOST
    return Market.objects.filter(base=base, active=True, exchange__enabled=True, grids_due_since__gt=cutoff).count()
