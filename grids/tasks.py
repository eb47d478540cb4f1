"""Celery tasks of the grids app: compute and store one target's grids."""

from __future__ import annotations

from celery import shared_task
from django.core.cache import cache

from grids.computation import grids_compute
from grids.models import GridSnapshot
from grids.targets import Target
from markets.models import Market

# A coin's aggregate waits this long after the first of its markets asks for it,
# so the markets refreshed in one cycle (queued together) make one aggregate, not one each.
COIN_GATHER_SECONDS = 5
# A request for the aggregate is remembered this long at most (a lost task frees it then).
COIN_PENDING_SECONDS = 600


def _coin_pending_key(coin: str) -> str:
    return f"grids:coin-pending:{coin}"


def queue_coin_aggregate(coin: str) -> bool:
    """Queue the coin's aggregate unless one is already queued and not started; True when queued."""
    if not cache.add(_coin_pending_key(coin), 1, COIN_PENDING_SECONDS):
        return False
    compute_grids.apply_async_on_commit((Target.of_coin(coin).key,), countdown=COIN_GATHER_SECONDS)
    return True


@shared_task
def compute_grids(target_key: str) -> str:
    """Compute and store the grids of a market (then its coin's aggregate) or of a coin."""
    target = Target.from_key(target_key)
    if target.is_coin:
        # Started: a market stored after this point reads into a new aggregate.
        cache.delete(_coin_pending_key(target.coin))
    try:
        outcomes = grids_compute(target)
    except Market.DoesNotExist:
        return f"{target.key} no longer exists"
    stored = sum(outcome.status == "stored" for outcome in outcomes)
    if stored:
        # grids_compute announced the target itself (grids_stored, on commit).
        base = "" if target.is_coin else Market.objects.filter(pk=target.market_id).values_list("base", flat=True).first()
        if base:
            # The coin's aggregate only changes when one of its markets' grids did.
            queue_coin_aggregate(base)
    return f"{stored} snapshot(s) stored, {len(outcomes) - stored} unchanged or skipped"


def compute_after_refresh(sender, *, market_id: int, changed: bool, **kwargs) -> None:
    """A market was refreshed: compute its grids if its inputs moved or it has none yet.

    Most periodic refreshes of a quiet or historical market store nothing new,
    and a computation on unchanged inputs would only find equal digests.
    """
    if changed or not GridSnapshot.objects.filter(market_id=market_id).exists():
        compute_grids.delay_on_commit(Target(market_id=market_id).key)
