"""Reads about real liquidations for pages: coverage gaps and the exchanges' caveats."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
from django.db.models import Q
from django.utils import timezone

from liqsite.exchanges.http import from_ms, to_ms
from liqsite.exchanges.registry import installed_plugins
from markets.models import LiquidationCoverage, Market

# An open connection whose last message is older than this is treated as
# ended at that message (the collector may have died without saying so).
STALE_AFTER = timedelta(minutes=15)


def _covered_until(row: LiquidationCoverage, now: datetime) -> datetime:
    if row.disconnected_at is not None:
        return row.disconnected_at
    last = row.last_message_at or row.connected_at
    return now if now - last <= STALE_AFTER else last


def liquidation_coverage_gaps(
    *, market: Market, start: datetime, end: datetime, now: datetime | None = None
) -> list[tuple[datetime, datetime]]:
    """The parts of ``[start, end)`` when no collector connection to the market's exchange was up.

    Liquidations in a gap are unknown, not absent: pages should shade them.
    """
    now = now or timezone.now()
    end = min(end, now)
    rows = (
        LiquidationCoverage.objects.filter(exchange_id=market.exchange_id, connected_at__lt=end)
        .filter(Q(disconnected_at__isnull=True) | Q(disconnected_at__gt=start))
        .order_by("connected_at")
    )
    gaps, cursor = [], start
    for row in rows:
        covered_from, covered_to = row.connected_at, _covered_until(row, now)
        if covered_from > cursor:
            gaps.append((cursor, min(covered_from, end)))
        cursor = max(cursor, covered_to)
        if cursor >= end:
            break
    if cursor < end:
        gaps.append((cursor, end))
    return [(a, b) for a, b in gaps if b > a]


def covered_mask(*, market: Market, starts: np.ndarray, ends: np.ndarray, now: datetime | None = None) -> np.ndarray:
    """Per span [starts[i], ends[i]) in epoch ms (ascending): True when the collector was
    listening to the market's exchange for the whole span, and the span is over."""
    if len(starts) == 0:
        return np.zeros(0, dtype=bool)
    now = now or timezone.now()
    covered = np.ones(len(starts), dtype=bool)
    for gap_start, gap_end in liquidation_coverage_gaps(market=market, start=from_ms(starts[0]), end=from_ms(ends[-1]), now=now):
        covered &= ~((starts < to_ms(gap_end)) & (ends > to_ms(gap_start)))
    # Coverage is known only up to now: a span still in progress is not fully listened to.
    covered &= ends <= to_ms(now)
    return covered


def liquidation_notice(*, market: Market) -> str:
    """The exchange's caveat about its liquidation feed (e.g. Binance's one per symbol per second), or ""."""
    info = installed_plugins().get(market.exchange.plugin)
    return getattr(info.plugin_class, "liquidation_notice", "") if info and info.plugin_class else ""
