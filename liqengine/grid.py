"""Grid rows from a :class:`~.model.Ledger`, one block of rows at a time.

Row ``r`` of a side's grid is ``Σ value × exp(logc[r] - logc[t])`` over the
levels alive at ``r`` (``t <= r < end``), per bin. Inside a segment (see
:func:`.model._segments`) this is ``scale[r] × Σ weight`` with
``scale[r] = exp(logc[r] - logc[start])`` and ``weight = value × exp(logc[start]
- logc[t])``, so the sum is a difference array (add the weight at the creation
row, remove it at the end row) and a running sum down the rows.

The running sum is carried from block to block, so a caller can produce a
whole grid, or only rows ``[a, b)`` of it (warm-up rows are never materialised),
or reduce blocks as they come (1 year of 5m rows → 1,000 columns) with memory
proportional to one block.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ._segscan import BlockSegments, segmented_cumsum
from ._sorting import argsort_rows
from .model import CARRY_FLOOR, Ledger, LevelSet

__all__ = ["LevelEntries", "SideEntries", "GridStream", "level_entries", "side_entries", "pending_series", "row_scale"]

# Rows per block: 128 rows × 400 bins × 8 bytes = 400 kB, so a block and its
# inputs stay in a 1 MB L2 cache while they are summed, scaled and reduced.
BLOCK_ROWS = 128


# A block is summed on its live bins only when they are at most 1 / COMPACT_SHARE
# of all (GridStream._live_bins): past that, gathering them costs more than it saves.
COMPACT_SHARE = 2

# Rows per group in the running sum (see GridStream._rows): small matrix
# products of this size are the fastest way numpy offers to sum down rows.
GROUP_ROWS = 8
# [lower-triangular ones | ones]: row i sums data rows 0..i of its group plus
# the group's offset row.
_AUG = np.concatenate([np.tril(np.ones((GROUP_ROWS, GROUP_ROWS))), np.ones((GROUP_ROWS, 1))], axis=1)


@lru_cache(maxsize=64)
def _strict_lower_ones(n: int) -> np.ndarray:
    return np.tril(np.ones((n, n)), -1)


class SideEntries:
    """Difference-array entries of one side: (row, bin, ±weight, ±1), sorted by row.

    ``signs`` is +1 where a level enters a bin and -1 where it leaves: their
    running sum is the exact number of levels alive in a bin.
    """

    def __init__(self, rows: np.ndarray, bins: np.ndarray, weights: np.ndarray, signs: np.ndarray):
        order = argsort_rows(rows)
        self.rows = rows[order]
        self.bins = bins[order]
        self.weights = weights[order]
        self.signs = signs[order]


def row_scale(ledger: Ledger) -> np.ndarray:
    """``exp(logc[r] - logc[start of r's segment])`` for every row (within [e**-300, 1])."""
    n = ledger.n
    seg_of_row = np.searchsorted(ledger.segment_starts, np.arange(n), side="right") - 1
    return np.exp(ledger.logc - ledger.logc[ledger.segment_starts[seg_of_row]])


@dataclass
class LevelEntries:
    """One side's levels as difference-array entries, one per (level, segment it lives in).

    ``add`` is the row where the level enters the segment's running sum,
    ``end`` the row where it leaves (-1 when it outlives the segment), ``weight``
    its value in the segment's scale and ``level`` its index in the LevelSet.
    """

    add: np.ndarray
    end: np.ndarray
    weight: np.ndarray
    level: np.ndarray


def level_entries(ledger: Ledger, lv: LevelSet) -> LevelEntries:
    """Entries for every (level, segment) pair of one side."""
    starts = ledger.segment_starts
    n = ledger.n
    logc = ledger.logc
    seg_end = np.append(starts[1:], n)
    # Segment in which each level is created.
    seg = np.searchsorted(starts, lv.t, side="right") - 1
    s0 = starts[seg]
    add_rows = [lv.t]
    weights = [lv.value * np.exp(logc[s0] - logc[lv.t])]
    ends = [np.where(lv.end < seg_end[seg], lv.end, -1)]
    index = [np.arange(len(lv.t))]
    # Levels that outlive a segment restart (not an f = 0 step: there nothing
    # survives) are re-entered at the restart with their weight there.
    zero = set(ledger.zero_rows.tolist())
    for i in range(1, len(starts)):
        s = int(starts[i])
        if s in zero:
            continue
        alive = (lv.t < s) & (lv.end > s)
        frac = logc[s] - logc[lv.t[alive]]
        keep = frac >= CARRY_FLOOR
        idx = np.flatnonzero(alive)[keep]
        if len(idx) == 0:
            continue
        add_rows.append(np.full(len(idx), s, dtype=np.int64))
        weights.append(lv.value[idx] * np.exp(frac[keep]))
        e = seg_end[i]
        ends.append(np.where(lv.end[idx] < e, lv.end[idx], -1))
        index.append(idx)
    return LevelEntries(np.concatenate(add_rows), np.concatenate(ends), np.concatenate(weights), np.concatenate(index))


def _diff_entries(ent: LevelEntries, bins: np.ndarray | None):
    """(rows, bins, ±weights, ±1) of the adds and removes; ``bins`` per level (-1 = out of view) or None."""
    if bins is None:
        b = np.zeros(len(ent.level), dtype=np.int64)
        add, end, w = ent.add, ent.end, ent.weight
    else:
        b = bins[ent.level]
        keep = b >= 0
        add, end, w, b = ent.add[keep], ent.end[keep], ent.weight[keep], b[keep]
    rem = end >= 0
    signs = np.concatenate([np.ones(len(add)), -np.ones(int(rem.sum()))])
    return np.concatenate([add, end[rem]]), np.concatenate([b, b[rem]]), np.concatenate([w, -w[rem]]), signs


def side_entries(ent: LevelEntries, bins: np.ndarray) -> SideEntries:
    """Row-sorted difference-array entries of one side's in-view levels."""
    return SideEntries(*_diff_entries(ent, bins))


def pending_series(ledger: Ledger, ent: LevelEntries, scale: np.ndarray) -> np.ndarray:
    """USD of all pending levels of one side after every step (in view or not)."""
    n = ledger.n
    rows, _, weights, signs = _diff_entries(ent, None)
    diff = np.bincount(rows, weights=weights, minlength=n)[:n].astype(np.float64, copy=False)
    starts = ledger.segment_starts
    out = segmented_cumsum(diff, starts)
    out *= scale
    # Nothing alive means exactly nothing pending (see GridStream._rows). The
    # count restarts with the segments too: a level that dies at an f = 0 step
    # has no removal entry, so a running count across segments would keep it.
    alive = segmented_cumsum(np.bincount(rows, weights=signs, minlength=n)[:n].astype(np.float64, copy=False), starts)
    out[alive < 0.5] = 0.0
    # Removing a level subtracts exactly what adding it added, but the running
    # sum can leave a rounding residue of either sign where nothing is pending.
    np.maximum(out, 0.0, out=out)
    return out


class GridStream:
    """Produces rows of one side's grid in increasing order, block by block."""

    def __init__(
        self,
        ledger: Ledger,
        entries: SideEntries,
        n_bins: int,
        scale: np.ndarray,
        block_rows: int = BLOCK_ROWS,
    ):
        if block_rows % GROUP_ROWS:
            raise ValueError(f"block_rows must be a multiple of {GROUP_ROWS}, got {block_rows}")
        self.block_rows = block_rows
        self.n = ledger.n
        self.nb = n_bins
        self.entries = entries
        self.scale = scale
        self.starts = ledger.segment_starts
        self._start_rows = set(self.starts.tolist())
        # First entry of every row, so a block finds its entries without a search.
        self._row_ptr = np.searchsorted(entries.rows, np.arange(self.n + 1)).tolist()
        self.pos = 0
        self.carry = np.zeros(n_bins)
        self.alive = np.zeros(n_bins)  # levels alive per bin after the last row produced
        self.dirty = None  # bins [lo, hi] that had a removal in this segment so far

    def _segment_start(self, row: int) -> int:
        return int(self.starts[np.searchsorted(self.starts, row, side="right") - 1])

    @staticmethod
    def _bin_range(bins: np.ndarray, old: tuple[int, int] | None) -> tuple[int, int] | None:
        """``old`` widened to cover ``bins`` (None: no bin yet)."""
        if len(bins) == 0:
            return old
        a, b = int(bins.min()), int(bins.max())
        return (a, b) if old is None else (min(a, old[0]), max(b, old[1]))

    def seek(self, row: int) -> None:
        """Position the stream at ``row`` without producing the rows before it."""
        s = self._segment_start(row) if row < self.n else row
        e = self.entries
        lo, hi = self._row_ptr[s], self._row_ptr[row]
        self.carry = np.bincount(e.bins[lo:hi], weights=e.weights[lo:hi], minlength=self.nb).astype(np.float64)
        self.alive = np.bincount(e.bins[lo:hi], weights=e.signs[lo:hi], minlength=self.nb).astype(np.float64)
        self.carry[self.alive < 0.5] = 0.0
        self.dirty = self._bin_range(e.bins[lo:hi][e.weights[lo:hi] < 0], None)
        self.pos = row

    def fill(self, out: np.ndarray) -> None:
        """Write the next ``len(out)`` rows into ``out`` (shape (rows, bins)) and advance."""
        a = self.pos
        b = a + len(out)
        if b > self.n:
            raise ValueError(f"rows {a}..{b} are past the end ({self.n})")
        # Cut at multiples of block_rows (blocks small enough to stay in cache,
        # and aligned so each entry's place in the block is precomputed).
        # Segment restarts inside a block are handled by _rows itself: cutting
        # there too would cost a Python call per segment, which dominates when
        # open interest empties at every other step.
        br = self.block_rows
        cuts = [a, *range((a // br + 1) * br, b, br), b]
        for x, y in zip(cuts[:-1], cuts[1:]):
            if x in self._start_rows:
                self.carry = np.zeros(self.nb)
                self.alive = np.zeros(self.nb)
                self.dirty = None
            self._rows(x, y, out[x - a : y - a])
        self.pos = b

    def _restarts(self, x: int, y: int) -> BlockSegments | None:
        """Segment restarts strictly inside rows [x, y), or None when there is none."""
        i, j = np.searchsorted(self.starts, [x + 1, y])
        if i == j:
            return None
        return BlockSegments(self.starts[i:j] - x, y - x, GROUP_ROWS)

    def _live_bins(self, bins: np.ndarray) -> np.ndarray | None:
        """Bins that can be non-zero in a block with entries in ``bins``: None when most are.

        A bin holds something only while a level is alive in it: it was alive
        at the block's start (the carry is 0 wherever nothing is) or gains an
        entry in the block. Every other bin is exactly 0 on every row. The
        per-bucket layers of a market (5 × 400 bins) have about 7 % of their
        bins live in a block of 5m rows, the total about 20 %: summing only
        those saves most of the work, and writing the zeros is one fill.
        """
        live = self.alive > 0.5
        live[bins] = True
        count = int(np.count_nonzero(live))
        if count * COMPACT_SHARE > self.nb:
            return None
        return np.flatnonzero(live)

    def _rows(self, x: int, y: int, out: np.ndarray) -> None:
        """Rows [x, y): running sum of the entries plus the carry, times the row scale.

        ``np.cumsum(axis=0)`` walks one dependency chain per element (about
        4 ns each on this hardware). Instead, rows are taken in groups of 8 and
        each group is one small matrix product: output row i of a group is
        ``scale_i × (d_0 + ... + d_i + offset)``, where the offset (the carry
        plus the totals of the earlier groups) rides along as a ninth input
        row. Summing, offsetting and scaling then cost one BLAS pass.

        Where segments restart inside the rows, the same products run with
        masked matrices: row i sums only the rows j <= i of its own segment,
        and takes the offset only if its segment is the one carried in. The
        masks are exact zeros, so segments never mix.

        When few bins are live (:meth:`_live_bins`), all of this runs on those
        bins' columns only and they are written into a zeroed ``out``.
        """
        g = GROUP_ROWS
        m = y - x
        groups = -(-m // g)
        e = self.entries
        lo, hi = self._row_ptr[x], self._row_ptr[y]
        w = e.weights[lo:hi]
        bins = e.bins[lo:hi]
        live = self._live_bins(bins)
        if live is None:
            width, columns, carry, target = self.nb, bins, self.carry, out
        else:
            column_of = np.zeros(self.nb, dtype=np.int64)
            column_of[live] = np.arange(len(live))
            width, columns, carry = len(live), column_of[bins], self.carry[live]
            target = np.empty((m, len(live)))
        # Each entry's cell in the block's (group, row-in-group, column) buffer and in its (group, column) totals.
        r = e.rows[lo:hi] - x
        cell = ((r // g) * (g + 1) + r % g) * width + columns
        group_cell = (r // g) * width + columns
        segs = self._restarts(x, y)
        entry_seg = None
        if segs is not None:
            entry_seg = segs.row_seg[r]
            # Only each group's rows in the group's last segment carry on to later groups.
            in_tail = entry_seg == segs.last[r // g]
        if hi > lo:
            d = np.bincount(cell, weights=w, minlength=groups * (g + 1) * width).reshape(groups, g + 1, width)
            if segs is None:
                sums = np.bincount(group_cell, weights=w, minlength=groups * width).reshape(groups, width)
            else:
                sums = np.bincount(group_cell[in_tail], weights=w[in_tail], minlength=groups * width).reshape(groups, width)
        else:
            d = np.zeros((groups, g + 1, width))
            sums = np.zeros((groups, width))
        offsets = d[:, g, :]
        scale = np.zeros(groups * g)
        scale[:m] = self.scale[x:y]
        mat = _AUG[None, :, :] * scale.reshape(groups, g, 1)
        if segs is None:
            offsets[:] = carry
            if groups > 1:
                offsets += _strict_lower_ones(groups) @ sums
            carry = offsets[-1] + sums[-1]
        else:
            offsets[:] = segs.link @ sums
            offsets[segs.before == 0] += carry
            carry = sums[-1] + (offsets[-1] if segs.before[-1] == segs.last[-1] else 0.0)
            mat[:, :, :g] *= segs.data_mask
            mat[:, :, g] *= segs.offset_mask
        if live is None:
            self.carry = carry
        else:
            self.carry = np.zeros(self.nb)
            self.carry[live] = carry

        whole = m // g
        if whole:
            np.matmul(mat[:whole], d[:whole], out=target[: whole * g].reshape(whole, g, width))
        if whole < groups:
            # The last, partial group goes through a small temporary.
            target[whole * g :] = (mat[whole] @ d[whole])[: m - whole * g]
        self._drop_residue(lo, hi, x, target, segs, entry_seg, None if live is None else column_of)
        # Bins whose levels have all left can hold a residue a hair below zero;
        # only bins that have seen a removal in their segment can (sums of
        # positive weights are positive), so only their range is clamped.
        removed = w < 0
        clamp = self._bin_range(bins[removed], self.dirty)
        if segs is None:
            self.dirty = clamp
        else:
            # The clamp above covered every segment of the block (clamping a
            # bin that needed none changes nothing); from here on only the
            # removals of the last segment count.
            self.dirty = self._bin_range(bins[removed & (entry_seg == segs.last_segment)], None)
        if clamp is not None:
            a, b = clamp[0], clamp[1] + 1
            if live is not None:  # the live columns inside the bin range (the others hold 0)
                a, b = np.searchsorted(live, [a, b]).tolist()
            view = target[:, a:b]
            np.maximum(view, 0.0, out=view)
        if live is not None:
            out.fill(0.0)
            out[:, live] = target

    def _drop_residue(
        self,
        lo: int,
        hi: int,
        x: int,
        out: np.ndarray,
        segs: BlockSegments | None,
        entry_seg: np.ndarray | None,
        column_of: np.ndarray | None = None,
    ) -> None:
        """Exactly 0 wherever no level is alive in a bin.

        Adding a level's weight and later removing it leaves a rounding
        residue (~1e-16 of what passed through) in the running sum. The model
        says a bin with no level alive holds nothing, and band thresholds
        (medians of a row's positive bins) must not count residue as
        liquidity. Only bins with a removal in this block can empty here: their
        alive counts are summed down this block's rows (a few columns), and
        their empty cells zeroed. A bin still empty at the end of the block has
        its running sum reset to 0, so no residue reaches later blocks.
        Counts restart with the segments; they are whole numbers, so the
        segmented counts below are exact. ``out`` holds every bin, or only the
        live ones: ``column_of`` maps a bin to its column there.
        """
        e = self.entries
        signs, bins = e.signs[lo:hi], e.bins[lo:hi]
        if hi > lo:
            removes = np.bincount(bins[signs < 0], minlength=self.nb)
            if segs is None:
                # Only a bin with fewer levels alive at the block start than it
                # loses in the block can empty inside it; the others are skipped cheaply.
                touched = np.flatnonzero((removes > 0) & (self.alive - removes < 0.5))
            else:
                touched = np.flatnonzero(removes > 0)
            if len(touched):
                column = np.searchsorted(touched, bins)
                mine = (column < len(touched)) & (touched[np.minimum(column, len(touched) - 1)] == bins)
                m, k = len(out), len(touched)
                changes = np.bincount((e.rows[lo:hi][mine] - x) * k + column[mine], weights=signs[mine], minlength=m * k)
                counted = np.cumsum(changes.reshape(m, k), axis=0)
                if segs is None:
                    alive = self.alive[touched] + counted
                else:
                    # Subtract the count just before each row's segment began
                    # (0 for the first segment, which adds the carried count).
                    before = np.vstack([np.zeros((1, k)), counted])[segs.first_row[segs.row_seg[:m]]]
                    alive = counted - before
                    alive[segs.row_seg[:m] == 0] += self.alive[touched]
                rows, columns = np.nonzero(alive < 0.5)
                out[rows, touched[columns] if column_of is None else column_of[touched[columns]]] = 0.0
        if segs is None:
            if hi == lo:
                return
            self.alive += np.bincount(bins, weights=signs, minlength=self.nb)
        else:
            last = entry_seg == segs.last_segment
            self.alive = np.bincount(bins[last], weights=signs[last], minlength=self.nb).astype(np.float64)
        self.carry[self.alive < 0.5] = 0.0

    def block(self, rows: int) -> np.ndarray:
        """Return the next ``rows`` rows as a new array and advance."""
        out = np.empty((rows, self.nb))
        self.fill(out)
        return out
