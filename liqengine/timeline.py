"""Several markets on one time index, streamed block by block.

The aggregate heatmap runs the model on each market separately, then sums the
grids on one set of bin edges and one time index: the union of the markets'
``open_time`` values. A market with no row at a step adds nothing to it (not
even its pending levels: that step simply lacks that market, as a gap would).

:func:`stream_union` hands summed blocks of union rows to a *sink*; the sink
either keeps them (a full grid) or reduces them (a window at N columns).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from .compute import MarketRun
from .grid import BLOCK_ROWS

__all__ = ["UnionRows", "stream_union"]


class UnionRows:
    """The union time index of several markets, restricted to ``[start, end)``.

    ``open_time`` holds the union rows; ``positions[i]`` maps market i's rows
    ``first[i] : first[i] + len(positions[i])`` to union rows.
    """

    def __init__(self, market_times: Sequence[np.ndarray], start: int | None = None, end: int | None = None):
        if len(market_times) == 1:
            allt = np.asarray(market_times[0], dtype=np.int64)  # already strictly increasing
        else:
            allt = np.sort(np.concatenate([np.asarray(t, dtype=np.int64) for t in market_times]))
            allt = allt[np.r_[True, allt[1:] != allt[:-1]]]
        lo = 0 if start is None else int(np.searchsorted(allt, start, side="left"))
        hi = len(allt) if end is None else int(np.searchsorted(allt, end, side="left"))
        self.open_time = allt[lo:hi]
        self.first: list[int] = []
        self.positions: list[np.ndarray] = []
        for t in market_times:
            t = np.asarray(t, dtype=np.int64)
            a = 0 if start is None else int(np.searchsorted(t, start, side="left"))
            b = len(t) if end is None else int(np.searchsorted(t, end, side="left"))
            self.first.append(a)
            self.positions.append(np.searchsorted(self.open_time, t[a:b]))

    def __len__(self) -> int:
        return len(self.open_time)

    def gather(self, per_market: Sequence[np.ndarray], how: str = "sum") -> np.ndarray:
        """One value per union row from per-market row arrays (aligned with each market's rows).

        ``how="sum"`` adds the markets that have a row (0 where none does);
        ``how="first"`` takes the first market, in the given order, that has a
        row (NaN where none does).
        """
        if how == "sum":
            out = np.zeros(len(self))
            for a, pos, vals in zip(self.first, self.positions, per_market):
                out[pos] += vals[a : a + len(pos)]
            return out
        out = np.full(len(self), np.nan)
        # Reverse order so that earlier markets overwrite later ones.
        for a, pos, vals in reversed(list(zip(self.first, self.positions, per_market))):
            out[pos] = vals[a : a + len(pos)]
        return out


Buffers = Callable[[int, int], tuple[np.ndarray, np.ndarray]]
Sink = Callable[[int, int, np.ndarray, np.ndarray], None]


def stream_union(
    runs: Sequence[MarketRun],
    union: UnionRows,
    buffers: Buffers,
    sink: Sink | None = None,
    block_rows: int = BLOCK_ROWS,
    bounds: Sequence[int] | None = None,
) -> None:
    """Sum the markets' grids over union rows, one block [a, b) at a time.

    ``buffers(a, b)`` returns two writable (b - a, bins) arrays (long, short)
    to fill: slices of a full grid, or scratch space reused by a reducer;
    ``sink(a, b, long, short)`` is then called with them. Each market's stream
    is positioned at its first union row without producing the rows before it
    (warm-up rows are never materialised). The first market that has every
    row of a block writes straight into the buffers; the others are added.
    ``bounds`` (ascending union rows from 0 to len(union)) replaces the fixed
    ``block_rows`` blocks, so a reducer can make blocks follow its columns.
    """
    n = len(union)
    streams = []
    for run, a in zip(runs, union.first):
        st = {side: run.stream(side) for side in ("long", "short")}
        for s in st.values():
            s.seek(a)
        streams.append(st)
    cursor = [0] * len(runs)
    if bounds is None:
        bounds = list(range(0, n, block_rows)) + [n]
    for start, stop in zip(bounds[:-1], bounds[1:]):
        m = stop - start
        if m <= 0:
            continue
        out = dict(zip(("long", "short"), buffers(start, stop)))
        written = False
        for i, pos in enumerate(union.positions):
            lo = cursor[i]
            hi = lo + int(np.searchsorted(pos[lo:], stop, side="left"))
            if hi == lo:
                continue
            cursor[i] = hi
            dest = pos[lo:hi] - start
            covers = hi - lo == m  # positions are increasing, so this is every row
            for side in ("long", "short"):
                if covers and not written:
                    streams[i][side].fill(out[side])
                    continue
                if not written:
                    out[side].fill(0.0)
                rows = streams[i][side].block(hi - lo)
                if dest[-1] - dest[0] == hi - lo - 1:
                    out[side][dest[0] : dest[-1] + 1] += rows
                else:
                    out[side][dest] += rows
            written = True
        if not written:
            for side in out:
                out[side].fill(0.0)
        if sink is not None:
            sink(start, stop, out["long"], out["short"])
