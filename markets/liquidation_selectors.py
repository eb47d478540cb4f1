"""Reads about real liquidations: coverage gaps, imported per-step totals and the exchanges' caveats.

Liquidations of a market are known where the collector listened to its
exchange (``LiquidationCoverage``) or an imported file of single liquidations
covers it (``LiquidationImport``); everywhere else they are unknown, never
zero. Imported per-step totals (``LiquidationTotal``) are known for the steps
they have a row for.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
from django.db.models import Q
from django.utils import timezone

from liqsite.exchanges.http import from_ms, to_ms
from liqsite.exchanges.registry import installed_plugins
from markets.models import LiquidationCoverage, LiquidationImport, LiquidationTotal, Market

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
    """The parts of ``[start, end)`` when no collector connection to the market's exchange was up
    and no imported file of the market's liquidations covers it.

    Liquidations in a gap are unknown, not absent: pages should shade them.
    """
    now = now or timezone.now()
    end = min(end, now)
    rows = (
        LiquidationCoverage.objects.filter(exchange_id=market.exchange_id, connected_at__lt=end)
        .filter(Q(disconnected_at__isnull=True) | Q(disconnected_at__gt=start))
        .order_by("connected_at")
    )
    spans = [(row.connected_at, _covered_until(row, now)) for row in rows]
    spans += list(
        LiquidationImport.objects.filter(market=market, start__lt=end, end__gt=start).values_list("start", "end").order_by()
    )
    spans.sort()
    gaps, cursor = [], start
    for covered_from, covered_to in spans:
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
    listening to the market's exchange, or an imported file covers the market, for the
    whole span, and the span is over."""
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


def liquidation_totals(*, market: Market, interval: str, open_time: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Imported USD liquidated per side at each step starting at ``open_time`` (epoch ms); NaN where none."""
    long_usd = np.full(len(open_time), np.nan)
    short_usd = np.full(len(open_time), np.nan)
    if len(open_time) == 0:
        return long_usd, short_usd
    rows = list(
        LiquidationTotal.objects.filter(
            market=market, interval=interval, time__gte=from_ms(open_time[0]), time__lte=from_ms(open_time[-1])
        ).values_list("time", "long_usd", "short_usd")
    )
    if not rows:
        return long_usd, short_usd
    times = np.array([to_ms(time) for time, _, _ in rows], dtype=np.int64)
    at = np.minimum(np.searchsorted(open_time, times), len(open_time) - 1)
    same = open_time[at] == times  # a total stamped between steps belongs to none of them
    long_usd[at[same]] = np.array([row[1] for row in rows])[same]
    short_usd[at[same]] = np.array([row[2] for row in rows])[same]
    return long_usd, short_usd
