"""Running sums that restart at segment starts, without a Python step per segment.

A series whose open interest empties often has a grid-scale restart (an
f = 0 step) at nearly every row. Looping over segments then costs far more
than the arithmetic, so the helpers here handle every segment at once.
Segments are never mixed: a sum only ever adds values of one segment (weights
of different segments live in different scales, up to e**300 apart, so
subtracting one segment's total from a running sum over several would leave
a residue far larger than the next segment's values).
"""

from __future__ import annotations

import numpy as np

__all__ = ["segmented_cumsum", "BlockSegments"]

# Segments up to this long are summed together in one padded 2-D array; longer
# ones one by one (there are at most n / SHORT of them, so the loop stays short
# and the padded array stays within SHORT × n values).
SHORT = 16


def segmented_cumsum(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Running sum of ``values`` that restarts at every row in ``starts`` (ascending, starting with 0).

    Each segment's sum is the same sequence of additions as ``np.cumsum`` of
    its slice, so the result is bit-for-bit what a loop over segments gives.
    """
    n = len(values)
    out = np.empty(n)
    if n == 0:
        return out
    bounds = np.append(starts, n)
    lengths = np.diff(bounds)
    short = lengths <= SHORT
    for a, b in zip(bounds[:-1][~short].tolist(), bounds[1:][~short].tolist()):
        np.cumsum(values[a:b], out=out[a:b])
    if short.any():
        seg = np.repeat(np.arange(len(lengths)), lengths)
        rows = np.flatnonzero(short[seg])
        rank = (np.cumsum(short) - 1)[seg[rows]]
        pos = rows - starts[seg[rows]]
        buf = np.zeros((int(short.sum()), int(lengths[short].max())))
        buf[rank, pos] = values[rows]
        np.cumsum(buf, axis=1, out=buf)
        out[rows] = buf[rank, pos]
    return out


class BlockSegments:
    """Where segments restart inside one block of rows, in the shapes the grid's running sum needs.

    ``restarts`` are the block-relative rows (> 0) where a segment starts.
    Rows are numbered by segment within the block: 0 for the segment the
    block starts in (the one the carried running sum belongs to), 1 after the
    first restart, and so on. Rows past the block's end (padding of the last
    group) count as the last segment.
    """

    def __init__(self, restarts: np.ndarray, m: int, group: int):
        groups = -(-m // group)
        self.m = m
        self.first_row = np.concatenate([[0], restarts])  # block-relative first row of each segment
        self.row_seg = np.searchsorted(restarts, np.arange(groups * group), side="right")
        by_group = self.row_seg.reshape(groups, group)
        self.last = by_group[:, -1]  # segment of each group's last row
        # Segment of the row just before each group: the running sum that the
        # group's offset row carries in.
        self.before = np.concatenate([[0], self.last[:-1]])
        # Row i of a group sums data row j (j <= i) only within its own
        # segment, and the offset only if it continues the offset's segment.
        self.data_mask = by_group[:, :, None] == by_group[:, None, :]
        self.offset_mask = by_group == self.before[:, None]
        # Group j's tail (its rows in its last segment) adds to group k's
        # offset when j < k and that segment is the one continuing into k.
        ks = np.arange(groups)
        self.link = ((ks[None, :] < ks[:, None]) & (self.last[None, :] == self.before[:, None])).astype(np.float64)

    @property
    def last_segment(self) -> int:
        return int(self.row_seg[self.m - 1])
