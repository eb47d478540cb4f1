"""Open-interest change and surges, read from the stored ``OpenInterest`` rows.

A change over H hours compares the newest reading with the newest one at or
before H hours earlier; that earlier reading must exist and lie within a
tolerance (one step, or a tenth of H if larger), otherwise there is no change
to report rather than a misleading one across a gap.

An OI-surge *episode* is the run of consecutive readings, ending at the newest,
at each of which the change over H hours met the threshold in the same
direction; it is named by the time of its first reading. Re-evaluating while
the surge lasts finds the same start, so the alert fires once per episode; the
surge dropping below the threshold and rising again starts a new episode. The
search looks back at most ``EPISODE_LOOKBACK`` for the start.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import datetime, timedelta

from grids.targets import Target
from liqsite.exchanges import INTERVAL_SECONDS
from markets.models import Market, OpenInterest

EPISODE_LOOKBACK = timedelta(days=14)


@dataclass(frozen=True)
class Series:
    interval: str
    times: list[datetime]
    values: list[float]

    def __bool__(self) -> bool:
        return bool(self.times)


@dataclass(frozen=True)
class Change:
    start: datetime  # time of the earlier reading
    end: datetime
    before: float
    after: float

    @property
    def pct(self) -> float:
        return (self.after - self.before) / self.before * 100.0

    @property
    def hours(self) -> float:
        return (self.end - self.start).total_seconds() / 3600.0


@dataclass(frozen=True)
class Surge:
    change: Change
    direction: str  # "up" or "down"
    since: datetime  # first reading of the episode


def _finest(intervals) -> str | None:
    return min(intervals, key=lambda name: INTERVAL_SECONDS.get(name, 1 << 40), default=None)


def oi_series(target: Target, *, interval: str = "", span: timedelta) -> Series:
    """Readings of one market, or summed over a coin's markets, over ``span`` up to the newest.

    ``interval`` empty means the finest interval that has readings. For a coin,
    only times at which every market in the window reported are summed, so a
    market that lags does not show up as a drop.
    """
    if target.is_coin:
        market_ids = list(Market.objects.filter(base__iexact=target.coin).values_list("pk", flat=True))
    else:
        market_ids = [target.market_id]
    if not market_ids:
        return Series(interval or "", [], [])
    rows = OpenInterest.objects.filter(market_id__in=market_ids)
    if not interval:
        interval = _finest(rows.values_list("interval", flat=True).distinct()) or ""
        if not interval:
            return Series("", [], [])
    rows = rows.filter(interval=interval)
    newest = rows.order_by("-time").values_list("time", flat=True).first()
    if newest is None:
        return Series(interval, [], [])
    readings = rows.filter(time__gte=newest - span).order_by("time").values_list("market_id", "time", "open_interest")
    if len(market_ids) == 1:
        pairs = [(time, value) for _, time, value in readings]
    else:
        totals: dict[datetime, list[float]] = {}
        seen = set()
        for market, time, value in readings:
            seen.add(market)
            totals.setdefault(time, []).append(value)
        pairs = sorted((time, sum(values)) for time, values in totals.items() if len(values) == len(seen))
    return Series(interval, [time for time, _ in pairs], [value for _, value in pairs])


def change_at(series: Series, index: int, hours: float) -> Change | None:
    """The change over ``hours`` ending at reading ``index``, or None without a reading to compare with."""
    end = series.times[index]
    window = timedelta(hours=hours)
    tolerance = max(timedelta(seconds=INTERVAL_SECONDS.get(series.interval, 0)), window / 10)
    earlier = bisect.bisect_right(series.times, end - window, 0, index) - 1
    if earlier < 0 or series.times[earlier] < end - window - tolerance:
        return None
    before = series.values[earlier]
    if before <= 0:
        return None
    return Change(series.times[earlier], end, before, series.values[index])


def latest_change(series: Series, hours: float) -> Change | None:
    return change_at(series, len(series.times) - 1, hours) if series else None


def current_surge(series: Series, *, hours: float, threshold_pct: float, direction: str) -> Surge | None:
    """The surge going on at the newest reading (``direction`` up, down or either), with its episode start."""
    change = latest_change(series, hours)
    if change is None:
        return None
    moved = "up" if change.pct > 0 else "down"
    if abs(change.pct) < threshold_pct or direction not in ("either", moved):
        return None

    def holds(index: int) -> bool:
        earlier = change_at(series, index, hours)
        if earlier is None:
            return False
        return abs(earlier.pct) >= threshold_pct and (earlier.pct > 0) == (moved == "up")

    start = len(series.times) - 1
    while start > 0 and holds(start - 1):
        start -= 1
    return Surge(change, moved, series.times[start])
