"""Celery tasks of the grids app: compute and store one target's grids."""

from __future__ import annotations

from celery import shared_task

from grids.computation import grids_compute
from grids.due import clear_due, coin_waits_for, due_since, mark_due
from grids.models import GridSnapshot
from grids.targets import Target
from markets.models import Market


@shared_task
def compute_grids(target_key: str) -> str:
    """Compute and store the grids of a market (then, once its coin has no market left due, the coin's) or of a coin."""
    target = Target.from_key(target_key)
    if target.is_coin:
        outcomes = grids_compute(target)
        return _summary(outcomes)
    seen = due_since(target.market_id)
    try:
        outcomes = grids_compute(target)
    except Market.DoesNotExist:
        return f"{target.key} no longer exists"
    finally:
        # Cleared even when the compute failed: a failing market must not hold its coin back
        # (a retry recomputes it; the coin then reads whatever is stored).
        clear_due(target.market_id, seen)
    summary = _summary(outcomes)
    base = Market.objects.filter(pk=target.market_id).values_list("base", flat=True).first()
    if not base:
        return summary
    waiting = coin_waits_for(base)
    if waiting:
        return f"{summary}; {base} aggregate waits for {waiting} market(s)"
    # The coin's last due market: its aggregate reads every market's new series now.
    compute_grids.delay_on_commit(Target.of_coin(base).key)
    return f"{summary}; {base} aggregate queued"


def _summary(outcomes) -> str:
    stored = sum(outcome.status == "stored" for outcome in outcomes)
    return f"{stored} snapshot(s) stored, {len(outcomes) - stored} unchanged or skipped"


def compute_after_refresh(sender, *, market_id: int, changed: bool, **kwargs) -> None:
    """A market was refreshed: compute its grids if its inputs moved or it has none yet.

    Most periodic refreshes of a quiet or historical market store nothing new,
    and a computation on unchanged inputs would only find equal digests.
    """
    if changed or not GridSnapshot.objects.filter(market_id=market_id).exists():
        mark_due(market_id)
        compute_grids.delay_on_commit(Target(market_id=market_id).key)
