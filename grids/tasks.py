"""Celery tasks of the grids app: compute and store one target's grids."""

from __future__ import annotations

from celery import shared_task

from grids.computation import grids_compute
from grids.due import market_due_mark, market_due_read, market_grids_done
from grids.models import GridSnapshot
from grids.targets import Target
from markets.models import Market


@shared_task
def compute_grids(target_key: str) -> str:
    """Compute and store the grids of a market (then, once its coin has no market left due, the coin's) or of a coin."""
    target = Target.from_key(target_key)
    if target.is_coin:
        return _summary(grids_compute(target))
    seen = market_due_read(market_id=target.market_id)
    try:
        outcomes = grids_compute(target)
    except Market.DoesNotExist:
        return f"{target.key} no longer exists"
    finally:
        # Also when the compute failed: the coin must still be aggregated once its markets are done.
        coin, waiting = market_grids_done(market_id=target.market_id, seen=seen)
        if coin and not waiting:
            compute_grids.delay_on_commit(Target.of_coin(coin).key)
    summary = _summary(outcomes)
    if not coin:
        return summary
    return f"{summary}; {coin} aggregate waits for {waiting} market(s)" if waiting else f"{summary}; {coin} aggregate queued"


def _summary(outcomes) -> str:
    stored = sum(outcome.status == "stored" for outcome in outcomes)
    return f"{stored} snapshot(s) stored, {len(outcomes) - stored} unchanged or skipped"


def compute_after_refresh(sender, *, market_id: int, changed: bool, **kwargs) -> None:
    """A market was refreshed: compute its grids if its inputs moved or it has none yet.

    Most periodic refreshes of a quiet or historical market store nothing new,
    and a computation on unchanged inputs would only find equal digests.
    """
    if changed or not GridSnapshot.objects.filter(market_id=market_id).exists():
        market_due_mark(market_id=market_id)
        compute_grids.delay_on_commit(Target(market_id=market_id).key)
