"""Price maps for the third score: where the map pointed in the hour before each liquidation.

Bins come from one fixed lattice of log-spaced edges, ``exp(k × δ)`` for whole
numbers ``k`` (``δ = ln 1.0025``: 0.25 % per bin), so a bin's edges never depend
on prices that came later. A liquidation at time τ in step ``s`` is read
against the map of the hour before the step: the per-bin maximum over the rows
of the steps that ended in ``(open_s − 1 h, open_s]`` (the way the pages merge
steps into a column). Only bins within ``÷/× 1.25`` of the last close count,
and the map's "top decile" is the ``ceil(10 %)`` of those bins with the highest
positive value (ties share their places, see :func:`.scores.top_k_credit`):
the same budget of price space for every map.

Pure numpy, no Django.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from liqengine import MarketRun

from .scores import TOP_FRACTION, top_k_credit

__all__ = [
    "LATTICE_RATIO",
    "WINDOW_RATIO",
    "HOUR_MS",
    "lattice_edges",
    "hour_rows",
    "record_credits",
    "MapPlan",
    "map_plan",
    "model_rows",
    "map_credits",
]

LATTICE_RATIO = 1.0025
WINDOW_RATIO = 1.25
HOUR_MS = 3_600_000
_DELTA = math.log(LATTICE_RATIO)


def lattice_edges(low_min: float, high_max: float) -> np.ndarray:
    """The lattice edges covering [0.5 × low_min, 1.5 × high_max] (whole lattice steps)."""
    k0 = math.floor(math.log(0.5 * low_min) / _DELTA)
    k1 = math.ceil(math.log(1.5 * high_max) / _DELTA)
    return np.exp(np.arange(k0, k1 + 1, dtype=np.float64) * _DELTA)


def hour_rows(open_time: np.ndarray, step_ms: int, steps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each step ``s``: rows ``[a, b)`` of the steps that ended in ``(open_s − 1 h, open_s]``."""
    ot = np.asarray(open_time, dtype=np.int64)
    start = ot[steps]
    ends = ot + int(step_ms)
    a = np.searchsorted(ends, start - HOUR_MS, side="right")
    b = np.searchsorted(ends, start, side="right")
    return a, b


def record_credits(map_row: np.ndarray, edges: np.ndarray, centre: float, prices: np.ndarray) -> np.ndarray:
    """Each price's credit (0..1) for lying in the map's top-decile bins around ``centre``."""
    lo_bin = int(np.searchsorted(edges, centre / WINDOW_RATIO, side="left"))
    hi_bin = int(np.searchsorted(edges, centre * WINDOW_RATIO, side="right")) - 1  # exclusive bin index
    lo_bin = max(lo_bin, 0)
    hi_bin = min(hi_bin, len(edges) - 1)
    out = np.zeros(len(prices))
    if hi_bin <= lo_bin:
        return out
    window = map_row[lo_bin:hi_bin]
    credit = top_k_credit(window, math.ceil(TOP_FRACTION * len(window) - 1e-9), positive_only=True)
    b = np.searchsorted(edges, prices, side="right") - 1
    inside = (b >= lo_bin) & (b < hi_bin)
    out[inside] = credit[b[inside] - lo_bin]
    return out


@dataclass
class MapPlan:
    """The liquidation records the map score reads, and the map rows it needs."""

    record_index: np.ndarray  # the scored records (indices into the records given)
    record_step: np.ndarray  # the step each lies in
    steps: np.ndarray  # distinct steps with scored records
    first_row: np.ndarray  # per distinct step: rows [first_row, last_row) are its hour before
    last_row: np.ndarray
    rows: np.ndarray  # every row needed, ascending
    edges: np.ndarray
    unscorable: int  # records on scored steps with no map row in the hour before


def map_plan(
    open_time: np.ndarray, step_ms: int, record_time: np.ndarray, scored_steps: np.ndarray, edges: np.ndarray
) -> MapPlan | None:
    """Which records are scored (those in ``scored_steps``, a bool per step) and which rows their maps need."""
    if len(record_time) == 0:
        return None
    step = np.searchsorted(open_time, record_time, side="right") - 1
    valid = (step >= 0) & (record_time < open_time[np.maximum(step, 0)] + step_ms)
    step = np.where(valid, step, 0)
    use = valid & scored_steps[step]
    if not use.any():
        return None
    steps = np.unique(step[use])
    a, b = hour_rows(open_time, step_ms, steps)
    has_map = b > a
    scored = use & np.isin(step, steps[has_map])
    steps, a, b = steps[has_map], a[has_map], b[has_map]
    rows = np.unique(np.concatenate([np.arange(x, y) for x, y in zip(a, b)])) if len(steps) else np.zeros(0, np.int64)
    return MapPlan(np.flatnonzero(scored), step[scored], steps, a, b, rows, edges, int(use.sum() - scored.sum()))


def model_rows(run: MarketRun, rows: np.ndarray, block: int = 256) -> np.ndarray:
    """Long + short grid rows ``rows`` (ascending) of a run, streamed block by block (others skipped)."""
    nb = run.nb
    out = np.empty((len(rows), nb))
    streams = [run.stream("long", block_rows=block), run.stream("short", block_rows=block)]
    buffers = [np.empty((block, nb)), np.empty((block, nb))]
    for a in np.unique((rows // block) * block).tolist():
        b = min(a + block, run.n)
        for stream, buffer in zip(streams, buffers):
            if stream.pos != a:
                stream.seek(a)
            stream.fill(buffer[: b - a])
        lo, hi = np.searchsorted(rows, [a, b])
        out[lo:hi] = buffers[0][rows[lo:hi] - a] + buffers[1][rows[lo:hi] - a]
    return out


def map_credits(plan: MapPlan, close: np.ndarray, record_price: np.ndarray, row_values: np.ndarray) -> np.ndarray:
    """Each scored record's credit (0..1): in the top-decile bins of its step's hour-before map?"""
    position = {int(r): i for i, r in enumerate(plan.rows.tolist())}
    credits = np.zeros(len(plan.record_index))
    for s, a, b in zip(plan.steps.tolist(), plan.first_row.tolist(), plan.last_row.tolist()):
        hour_map = row_values[[position[r] for r in range(a, b)]].max(axis=0)
        mine = np.flatnonzero(plan.record_step == s)
        credits[mine] = record_credits(hour_map, plan.edges, float(close[b - 1]), record_price[plan.record_index[mine]])
    return credits
