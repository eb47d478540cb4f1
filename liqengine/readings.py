"""The four readings traders are taught to take from a liquidation map, as numbers.

Pure numpy, no Django. Every function reads rows of the model's pending
levels (``long_grid``/``short_grid``: USD per bin after each step) at each
row's close, so a reading at row ``t`` uses only what was known at the end of
step ``t``. The same functions serve the stored analysis (the last row) and
the backtest (every row), so the page states exactly what was measured.

1. **Fakeout risk** (:func:`thin_distances`): how far price can move up or
   down before it meets a *dense* bin (one at or above the band threshold,
   ``band_factor`` × the row's median non-empty bin). A side is *thin* when no
   dense bin lies within ``thin_pct`` of the close: a breakout that way has
   little fuel.
2. **Volatility ahead** (:func:`near_sums`, :func:`trailing_rank`): the USD of
   pending levels (both sides) within ± ``pressure_pct`` of the close, ranked
   against the same figure over the trailing ``history_days``; the top decile
   is "high pressure".
3. **Sentiment / squeeze lean** (:func:`near_sums`): long fuel within
   ``lean_pct`` below the close against short fuel within ``lean_pct`` above;
   a ratio of at least ``lean_ratio`` one way is a lean toward that side.
4. **Magnet** (:func:`magnet_band`): the nearest *big* band within
   ``magnet_pct`` of the close, a band being big when it holds at least
   ``big_share`` of the largest band's USD in that window.

Sums over a price range count a bin by the fraction of its width inside the
range (levels are taken as spread evenly across a bin), as the squeeze summary
does.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .bands import detect_bands, row_thresholds
from .validate import check_bin_edges

__all__ = [
    "ReadingSettings",
    "MapReadings",
    "near_sums",
    "thin_distances",
    "trailing_rank",
    "run_start",
    "magnet_band",
    "reading_series",
    "read_map",
]

DAY_MS = 86_400_000


@dataclass(frozen=True)
class ReadingSettings:
    """Thresholds of the four readings. Fixed a priori (never tuned on data), so the backtest scores them as stated."""

    band_factor: float = 3.0  # dense bin: >= this × the row's median non-empty bin (the band threshold)
    thin_pct: float = 2.0  # a side with no dense bin within this % of price is thin
    pressure_pct: float = 2.0  # pressure: pending USD within ± this % of price
    pressure_pcts: tuple[float, ...] = (1.0, 2.0, 3.0, 5.0)  # widths stored (alert rules pick one)
    top_share: float = 0.10  # "high pressure": the top tenth of the trailing history
    history_days: float = 30.0  # the trailing history pressure is ranked against
    min_history_rows: int = 48  # fewer rows in the history: no rank
    lean_pct: float = 2.0  # lean: long fuel within this % below vs short fuel within this % above
    lean_ratio: float = 1.5  # one side at least this × the other is a lean
    magnet_pct: float = 5.0  # magnet: bands within this % of price
    big_share: float = 0.5  # a band is big with at least this share of the window's largest band

    def __post_init__(self):
        for name in (
            "band_factor",
            "thin_pct",
            "pressure_pct",
            "top_share",
            "history_days",
            "lean_pct",
            "lean_ratio",
            "magnet_pct",
            "big_share",
        ):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and np.isfinite(v) and v > 0):
                raise ValueError(f"{name} must be a finite number > 0, got {v!r}")
        if not 0 < self.top_share < 1:
            raise ValueError(f"top_share must lie in (0, 1), got {self.top_share!r}")
        if self.lean_ratio < 1:
            raise ValueError(f"lean_ratio must be >= 1, got {self.lean_ratio!r}")
        for pct in (*self.pressure_pcts, self.thin_pct, self.pressure_pct, self.lean_pct, self.magnet_pct):
            if not 0 < pct < 100:
                raise ValueError(f"each percentage must lie in (0, 100), got {pct!r}")
        if self.pressure_pct not in self.pressure_pcts:
            raise ValueError(f"pressure_pct {self.pressure_pct!r} must be one of pressure_pcts {self.pressure_pcts!r}")

    def to_dict(self) -> dict:
        """JSON-ready dict of the thresholds."""
        d = asdict(self)
        d["pressure_pcts"] = list(self.pressure_pcts)
        return d


def _zero_nan(x) -> np.ndarray:
    """A float64 copy with NaN (a gap column) read as 0; faster than ``np.nan_to_num`` on big grids."""
    out = np.array(x, dtype=np.float64)
    out[np.isnan(out)] = 0.0
    return out


def _check(rows, edges, close) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    e = check_bin_edges(edges)
    g = np.asarray(rows, dtype=np.float64)
    if g.ndim == 1:
        g = g[None, :]
    if g.ndim != 2 or g.shape[1] != len(e) - 1:
        raise ValueError(f"rows must be rows × {len(e) - 1} bins, got shape {np.shape(rows)}")
    c = np.atleast_1d(np.asarray(close, dtype=np.float64))
    if len(c) != len(g):
        raise ValueError(f"close needs one value per row (got {len(c)}, rows {len(g)})")
    if not (np.isfinite(c) & (c > 0)).all():
        raise ValueError("close must be finite and > 0")
    return (_zero_nan(g) if np.isnan(g).any() else g), e, c


def _cumulative_at(cum: np.ndarray, rows: np.ndarray, edges: np.ndarray, price: np.ndarray) -> np.ndarray:
    """Per row, the sum of bins below ``price`` (the bin holding it counted by the fraction below)."""
    nb = len(edges) - 1
    p = np.clip(price, edges[0], edges[-1])
    b = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, nb - 1)
    frac = np.clip((p - edges[b]) / (edges[b + 1] - edges[b]), 0.0, 1.0)
    at = np.arange(len(rows))
    return cum[at, b] + frac * rows[at, b]


def _cumulative(g: np.ndarray) -> np.ndarray:
    """Per row, the sum of the bins before each bin (column 0 is 0)."""
    cum = np.empty_like(g)
    cum[:, 0] = 0.0
    np.cumsum(g[:, :-1], axis=1, out=cum[:, 1:])
    return cum


def _near(cum: np.ndarray, g: np.ndarray, e: np.ndarray, c: np.ndarray, pct: float) -> tuple[np.ndarray, np.ndarray]:
    mid = _cumulative_at(cum, g, e, c)
    below = mid - _cumulative_at(cum, g, e, c * (1 - pct / 100))
    above = _cumulative_at(cum, g, e, c * (1 + pct / 100)) - mid
    return np.maximum(below, 0.0), np.maximum(above, 0.0)


def near_sums(rows, edges, close, pct: float) -> tuple[np.ndarray, np.ndarray]:
    """Per row: USD within ``pct`` % below the close and within ``pct`` % above it.

    ``rows`` is rows × bins (one grid side, or both summed). Returns
    ``(below, above)``, each one value per row.
    """
    g, e, c = _check(rows, edges, close)
    return _near(_cumulative(g), g, e, c, pct)


def thin_distances(rows, edges, close, band_factor: float = 3.0) -> tuple[np.ndarray, np.ndarray]:
    """Per row: how far (in % of the close) price can rise, and fall, before it meets a dense bin.

    A dense bin holds at least ``band_factor`` × the row's median non-empty bin
    (the band threshold). Up: to the lower edge of the first dense bin wholly
    above the close; down: to the upper edge of the last dense bin wholly below
    it. ``inf`` when there is none that way (or the row is empty); 0 when the
    close sits in a dense bin.
    """
    g, e, c = _check(rows, edges, close)
    thr = row_thresholds(g, band_factor)
    dense = (g >= thr[:, None]) & (thr[:, None] > 0)
    nb = g.shape[1]
    b = np.searchsorted(e, c, side="right") - 1  # bin of the close (-1 / nb: outside)
    idx = np.arange(nb)[None, :]
    inside = (b >= 0) & (b < nb)
    at_close = np.zeros(len(g), dtype=bool)
    at_close[inside] = dense[np.flatnonzero(inside), b[inside]]
    above = dense & (idx > b[:, None])
    below = dense & (idx < b[:, None])
    up = np.full(len(g), np.inf)
    down = np.full(len(g), np.inf)
    has_up = above.any(axis=1)
    first_up = np.argmax(above, axis=1)
    up[has_up] = (e[first_up[has_up]] - c[has_up]) / c[has_up] * 100
    has_down = below.any(axis=1)
    last_down = nb - 1 - np.argmax(below[:, ::-1], axis=1)
    down[has_down] = (c[has_down] - e[last_down[has_down] + 1]) / c[has_down] * 100
    up[at_close] = 0.0
    down[at_close] = 0.0
    return np.maximum(up, 0.0), np.maximum(down, 0.0)


def trailing_rank(values, open_time, window_ms: int, min_rows: int = 1, rows=None) -> np.ndarray:
    """Per row, the share of rows in ``(t − window, t]`` whose value is below the row's (ties count half).

    Uses only the row and those before it. NaN when fewer than ``min_rows``
    rows with a value lie in the window. ``rows`` (indices) limits the work to
    those rows; the others stay NaN.
    """
    v = np.asarray(values, dtype=np.float64)
    t = np.asarray(open_time, dtype=np.int64)
    if len(v) != len(t):
        raise ValueError(f"values and open_time need the same length (got {len(v)}, {len(t)})")
    if len(t) > 1 and (np.diff(t) <= 0).any():
        raise ValueError("open_time must be strictly increasing")
    start = np.searchsorted(t, t - int(window_ms), side="right")
    out = np.full(len(v), np.nan)
    for i in range(len(v)) if rows is None else np.asarray(rows, dtype=np.int64).tolist():
        out[i] = _rank_at(v, int(start[i]), i, min_rows)
    return out


def _rank_at(v: np.ndarray, a: int, i: int, min_rows: int) -> float:
    if np.isnan(v[i]):
        return np.nan
    w = v[a : i + 1]
    w = w[~np.isnan(w)]
    if len(w) < min_rows:
        return np.nan
    return (np.count_nonzero(w < v[i]) + 0.5 * (np.count_nonzero(w == v[i]) - 1)) / max(len(w) - 1, 1)


def run_start(flags) -> int | None:
    """Index of the first row of the run of True that ends at the last row (None when the last row is False)."""
    f = np.asarray(flags, dtype=bool)
    if len(f) == 0 or not f[-1]:
        return None
    off = np.flatnonzero(~f)
    return int(off[-1]) + 1 if len(off) else 0


def magnet_band(row, edges, close: float, pct: float = 5.0, big_share: float = 0.5, band_factor: float = 3.0) -> dict | None:
    """The nearest big band within ``pct`` % of ``close`` in one row (long + short), or None.

    Bands are :func:`~.bands.detect_bands`'s; those whose price lies within the
    window are candidates, and a candidate is big with at least ``big_share``
    of the largest candidate's USD. Returns the band's dict plus
    ``distance_pct`` (signed, of its value-weighted price).
    """
    g, e, c = _check(row, edges, close)
    close = float(c[0])
    near = []
    for band in detect_bands(g[0], e, close, band_factor):
        distance = (band["price"] - close) / close * 100
        if abs(distance) <= pct:
            near.append(band | {"distance_pct": distance})
    if not near:
        return None
    largest = max(band["value"] for band in near)
    big = [band for band in near if band["value"] >= big_share * largest]
    return min(big, key=lambda band: (abs(band["distance_pct"]), -band["value"]))


@dataclass(frozen=True)
class ReadingSeries:
    """The per-row numbers behind the readings (one value per row)."""

    thin_up_pct: np.ndarray
    thin_down_pct: np.ndarray
    pressure: dict[float, np.ndarray]  # width % → USD within ± width
    pressure_rank: dict[float, np.ndarray]  # width % → trailing rank (NaN: too little history)
    long_below: np.ndarray  # long fuel within lean_pct below
    short_above: np.ndarray  # short fuel within lean_pct above


def reading_series(
    long_grid, short_grid, edges, close, open_time, settings: ReadingSettings | None = None, *, rank_rows=None
) -> ReadingSeries:
    """The readings' numbers for every row of a grid (rows × bins per side).

    ``rank_rows`` (indices) limits the pressure ranks to those rows (the others NaN).
    """
    s = settings or ReadingSettings()
    lg = _zero_nan(np.asarray(long_grid, dtype=np.float64))
    sg = _zero_nan(np.asarray(short_grid, dtype=np.float64))
    if lg.shape != sg.shape:
        raise ValueError(f"long_grid and short_grid must have the same shape (got {lg.shape}, {sg.shape})")
    total = lg + sg
    _, e, c = _check(total, edges, close)
    up, down = thin_distances(total, e, c, s.band_factor)
    cum = _cumulative(total)
    pressure, rank = {}, {}
    for pct in s.pressure_pcts:
        below, above = _near(cum, total, e, c, pct)
        pressure[pct] = below + above
        rank[pct] = trailing_rank(pressure[pct], open_time, int(s.history_days * DAY_MS), s.min_history_rows, rank_rows)
    long_below, _ = _near(_cumulative(lg), lg, e, c, s.lean_pct)
    _, short_above = _near(_cumulative(sg), sg, e, c, s.lean_pct)
    return ReadingSeries(up, down, pressure, rank, long_below, short_above)


@dataclass(frozen=True)
class MapReadings:
    """The four readings at the last row of a grid."""

    close: float
    thin_up_pct: float  # inf: no dense bin above within the map
    thin_down_pct: float
    pressure: dict  # width % → {"usd", "rank", "top", "since_row", "history_rows", "history_hours"}
    long_below: float
    short_above: float
    lean: str  # "long" (long fuel below heavier: leans down), "short" (leans up) or "none"
    lean_ratio: float | None  # heavier / lighter (None when both are 0; inf when only one has fuel)
    magnet: dict | None
    settings: ReadingSettings


def read_map(long_grid, short_grid, edges, close, open_time, settings: ReadingSettings | None = None) -> MapReadings:
    """The four readings at the last row, with pressure ranked against the rows before it.

    ``close`` and ``open_time`` (int64 ms) have one value per row; NaN rows
    (gap columns) must be left out by the caller.
    """
    s = settings or ReadingSettings()
    lg = np.asarray(long_grid, dtype=np.float64)
    sg = np.asarray(short_grid, dtype=np.float64)
    if lg.ndim != 2 or len(lg) == 0:
        raise ValueError("the grid has no rows")
    c = np.asarray(close, dtype=np.float64)
    t = np.asarray(open_time, dtype=np.int64)
    # The last row's rank needs one history window; the rows of its top-decile run need theirs (a run
    # longer than a whole history is cut there).
    window = int(np.searchsorted(t, int(t[-1]) - 2 * int(s.history_days * DAY_MS), side="right"))
    tw = t[window:]
    cw = c[window:]
    # Pressure is needed on every row of the window (for the ranks); the rest on the last row only.
    total = _zero_nan(lg[window:]) + _zero_nan(sg[window:])
    _, e, cw = _check(total, edges, cw)
    cum = _cumulative(total)
    top = 1 - s.top_share
    starts = np.searchsorted(tw, tw - int(s.history_days * DAY_MS), side="right")
    last = len(tw) - 1
    pressure = {}
    for pct in s.pressure_pcts:
        below, above = _near(cum, total, e, cw, pct)
        values = below + above
        rank = _rank_at(values, int(starts[last]), last, s.min_history_rows)
        # Only the run of top-decile rows ending at the last one matters ("since"): rank back until it ends.
        start, i = None, last
        while i >= 0 and _rank_at(values, int(starts[i]), i, s.min_history_rows) >= top:
            start, i = i, i - 1
        pressure[pct] = {
            "usd": float(values[last]),
            "rank": None if np.isnan(rank) else float(rank),
            "top": start is not None,
            "since_row": None if start is None else window + start,
            "history_rows": int(len(tw) - starts[last]),
            "history_hours": float((tw[last] - tw[starts[last]]) / 3_600_000),
        }
    up, down = thin_distances(total[last:], e, cw[last:], s.band_factor)
    lb = float(near_sums(_zero_nan(lg[-1:]), e, cw[last:], s.lean_pct)[0][0])
    sa = float(near_sums(_zero_nan(sg[-1:]), e, cw[last:], s.lean_pct)[1][0])
    heavy, light = max(lb, sa), min(lb, sa)
    ratio = None if heavy == 0 else (float("inf") if light == 0 else heavy / light)
    lean = "none"
    if ratio is not None and ratio >= s.lean_ratio:
        lean = "long" if lb > sa else "short"
    total_last = _zero_nan(lg[-1] + sg[-1])
    magnet = magnet_band(total_last, edges, float(c[-1]), s.magnet_pct, s.big_share, s.band_factor)
    return MapReadings(
        close=float(c[-1]),
        thin_up_pct=float(up[0]),
        thin_down_pct=float(down[0]),
        pressure=pressure,
        long_below=lb,
        short_above=sa,
        lean=lean,
        lean_ratio=ratio,
        magnet=magnet,
        settings=s,
    )
