"""When an open-interest reading was taken: at the open or at the close of the step it is stamped with.

liqsite stores a reading at the instant the snapshot was taken
(``OpenInterestPoint.time``), and the engine reads open interest at the END
of each step (``grids/inputs.py``). Exchanges stamp their history rows with
a step's open time, and the snapshot behind that stamp is taken either:

- ``"open"``: at the stamp itself, i.e. at the open of the step starting at
  the stamp (which is the close of the step before). Binance
  ``openInterestHist``, Bybit ``/v5/market/open-interest`` and OKX
  ``rubik/stat/contracts/open-interest-history`` all do this: the change of a
  reading stamped T follows the candle that ENDS at T.
- ``"close"``: at the close of the step starting at the stamp (stamp + one
  step). The core then stores the reading one step later than its stamp.

Read one way when the data mean the other, the map would react to every
move one step late (or early) and nothing would look wrong. So each plugin
declares its stamp (``ExchangePlugin.open_interest_stamp``), the CSV importer
is told it (``import_series --oi-stamp``), and ``stamp_shown_by`` reads it
back from real candles and readings so a test can check the declaration.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta

from liqsite.exchanges.types import Candle, OpenInterestPoint

OI_STAMPS = ("open", "close")


def check_stamp(stamp: str) -> str:
    """``stamp`` when it is one of :data:`OI_STAMPS`; ``ValueError`` says what is allowed."""
    if stamp not in OI_STAMPS:
        raise ValueError(f"open-interest stamp {stamp!r} must be 'open' (taken at the stamp) or 'close' (at the step's close)")
    return stamp


def at_reading_time(points: Iterable[OpenInterestPoint], stamp: str, step: timedelta) -> Iterator[OpenInterestPoint]:
    """Readings moved to the instant they were taken: unchanged for ``"open"``, one ``step`` later for ``"close"``."""
    if check_stamp(stamp) == "open":
        yield from points
        return
    for point in points:
        yield replace(point, time=point.time + step)


@dataclass(frozen=True)
class StampEvidence:
    """How strongly open-interest changes follow the candle before vs the candle after their stamp.

    ``before`` is the correlation of |change of OI at T| with |return of the
    candle that ends at T|, ``after`` with the candle that starts at T. Big
    moves open and close positions, so the step the snapshot closes is the one
    whose size its change follows.
    """

    before: float
    after: float
    pairs: int

    @property
    def stamp(self) -> str:
        """``"open"`` when changes follow the candle ending at the stamp, ``"close"`` when the one starting there."""
        return "open" if self.before > self.after else "close"

    @property
    def margin(self) -> float:
        return abs(self.before - self.after)


def stamp_shown_by(candles: Sequence[Candle], points: Sequence[OpenInterestPoint], *, usd: bool = False) -> StampEvidence:
    """What real data say about the stamp of ``points`` (as a plugin returned them, before any shift).

    ``usd`` reads ``open_interest_usd`` instead of base units: use whichever the
    exchange reports natively, since a column derived with the candle's open
    price carries that price's timing in with it.
    """
    by_time = {c.time: c for c in candles}
    spacing = {b.time - a.time for a, b in zip(candles, candles[1:])}
    if len(spacing) != 1:
        spacing = {min(spacing)} if spacing else set()
    if not spacing:
        raise ValueError("need at least two candles")
    step = spacing.pop()
    changes, before, after = [], [], []
    for a, b in zip(points, points[1:]):
        va, vb = (a.open_interest_usd, b.open_interest_usd) if usd else (a.open_interest, b.open_interest)
        ended, started = by_time.get(b.time - step), by_time.get(b.time)
        if b.time - a.time != step or not va or not vb or ended is None or started is None:
            continue
        changes.append(abs(math.log(vb / va)))
        before.append(abs(math.log(ended.close / ended.open)))
        after.append(abs(math.log(started.close / started.open)))
    if len(changes) < 30:
        raise ValueError(f"only {len(changes)} consecutive readings line up with candles; need 30")
    return StampEvidence(_correlation(changes, before), _correlation(changes, after), len(changes))


def _correlation(x: Sequence[float], y: Sequence[float]) -> float:
    n = len(x)
    mx, my = sum(x) / n, sum(y) / n
    sxy = sum((a - mx) * (b - my) for a, b in zip(x, y))
    sxx = sum((a - mx) ** 2 for a in x)
    syy = sum((b - my) ** 2 for b in y)
    return sxy / math.sqrt(sxx * syy) if sxx and syy else 0.0
