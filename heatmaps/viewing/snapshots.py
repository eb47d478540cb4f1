"""Which stored grid a page shows: the target (market or coin) and its snapshot.

A stored grid is never recomputed on request. The compute task keeps, per
target and interval, one snapshot per long-share method; this module only
picks the one matching the query and says which choices exist, so the page can
offer exactly those.
"""

from __future__ import annotations

from dataclasses import dataclass

from grids.models import GridSnapshot
from grids.selectors import known_coin, known_market
from grids.targets import BadTarget, Target
from heatmaps.viewing.query import DEFAULT_METHOD, METHODS, RANGES, BadQuery, UnknownTarget, ViewQuery
from liqsite.exchanges import INTERVAL_SECONDS

# A window is drawn with at most this many time columns; more steps are merged.
MAX_COLUMNS = 1000


def market_target(market_id: int) -> Target:
    try:
        return known_market(market_id)
    except BadTarget as error:
        raise UnknownTarget(str(error)) from error


def coin_target(coin: str) -> Target:
    try:
        return known_coin(coin)
    except BadTarget as error:
        raise UnknownTarget(str(error)) from error


def snapshot_method(snapshot: GridSnapshot) -> str:
    return snapshot.long_share_method if snapshot.long_share_method in METHODS else DEFAULT_METHOD


def target_snapshots(target: Target) -> list[GridSnapshot]:
    """Every stored snapshot of the target, without the (large) arrays."""
    rows = GridSnapshot.objects.filter(**target.lookup())
    return list(rows.defer("arrays", "layers"))


@dataclass(frozen=True)
class Choice:
    """The snapshot a query resolved to, and what else could have been chosen."""

    snapshot: GridSnapshot
    query: ViewQuery  # with interval and method filled in
    intervals: tuple[str, ...]  # stored for the chosen method, finest first
    methods: tuple[str, ...]  # stored for the chosen interval


def choose_snapshot(snapshots: list[GridSnapshot], query: ViewQuery) -> Choice:
    """Pick the snapshot for ``query`` among a target's snapshots (which must not be empty).

    The method defaults to the fixed share when stored. The interval defaults
    to the finest stored one whose window fits in :data:`MAX_COLUMNS` columns
    unmerged (7 days of 15m, not 7 days of 1m), else the coarsest stored.
    """
    by_method: dict[str, dict[str, GridSnapshot]] = {}
    for snapshot in snapshots:
        by_method.setdefault(snapshot_method(snapshot), {})[snapshot.interval] = snapshot
    method = query.method or (DEFAULT_METHOD if DEFAULT_METHOD in by_method else sorted(by_method)[0])
    if method not in by_method:
        raise BadQuery(f"No grid is stored for the long-share method {method!r} here. Stored: {', '.join(sorted(by_method))}.")
    stored = by_method[method]
    intervals = tuple(sorted(stored, key=INTERVAL_SECONDS.__getitem__))
    interval = query.interval or _default_interval(intervals, query.range)
    if interval not in stored:
        raise BadQuery(f"No grid is stored at the {interval} interval for this view. Stored intervals: {', '.join(intervals)}.")
    methods = tuple(m for m in METHODS if interval in by_method.get(m, {}))
    return Choice(stored[interval], query.with_(interval=interval, method=method), intervals, methods)


def _default_interval(intervals: tuple[str, ...], range_: str) -> str:
    span = RANGES[range_].total_seconds()
    for interval in intervals:
        if span / INTERVAL_SECONDS[interval] <= MAX_COLUMNS:
            return interval
    return intervals[-1]
