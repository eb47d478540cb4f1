"""Reading the map: bands, brightening/fading, OI trend and confirmation, persistence.

Definitions follow the model page's "Reading the map" section; every
threshold is a field of :class:`AnalysisSettings` so a page can show the
numbers that shaped its table. Choices the page leaves open (documented in
docs/engine.md too):

* A bin's price is its arithmetic midpoint; a band's price is the
  value-weighted mean of its bins' midpoints.
* A band is "above" when its price is above the row's close, else "below".
* "H hours earlier" is the last row at or before ``time - H`` (so gaps never
  invent a row), skipping empty (NaN) columns of a reduced grid; with no such
  row the comparison is "unknown" and the verdict "unconfirmed".
* A change from 0 (nothing there H hours ago) is brightening, with
  ``change_pct`` None (JSON has no infinity).
* Persistence counts rows (columns, on a reduced grid), converted to seconds
  with the row interval.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .validate import as_series, check_bin_edges

__all__ = [
    "AnalysisSettings",
    "Band",
    "MapAnalysis",
    "detect_bands",
    "analyse_map",
    "VERDICT_LABELS",
]

VERDICT_LABELS = {
    "strong_build_up": "strong build-up",
    "build_up_not_accelerating": "build-up, not accelerating",
    "cool_down": "cool-down",
    "unconfirmed": "unconfirmed (mixed signals)",
}


@dataclass(frozen=True)
class AnalysisSettings:
    """Thresholds that shape the analysis (the model page's defaults)."""

    band_factor: float = 3.0  # band: bins >= band_factor × median of the row's positive bins
    lookback_hours: float = 4.0  # H: compare with the map and OI this many hours earlier
    brightening_pct: float = 10.0  # >= +x % brightening, <= -x % fading
    oi_trend_pct: float = 1.0  # >= +x % rising, <= -x % falling
    spike_hours: float = 1.0  # a band younger than this is a spike, not a build-up

    def __post_init__(self):
        for name in ("band_factor", "lookback_hours", "brightening_pct", "oi_trend_pct", "spike_hours"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and np.isfinite(v) and v >= 0):
                raise ValueError(f"{name} must be a finite number >= 0, got {v!r}")
        if self.band_factor <= 0:
            raise ValueError(f"band_factor must be > 0, got {self.band_factor!r}")

    def to_dict(self) -> dict:
        """JSON-ready dict of the thresholds."""
        return asdict(self)


@dataclass(frozen=True)
class Band:
    """One band of one row, with its reading against H hours earlier."""

    first_bin: int
    last_bin: int
    price_low: float  # lower edge of the first bin
    price_high: float  # upper edge of the last bin
    price: float  # value-weighted mean of the bins' midpoints
    value: float  # USD, sum of the band's bins
    side: str  # "above" or "below" the row's close
    value_before: float | None  # same price range H hours earlier (None: no row that early)
    change_pct: float | None  # None when unknown or when value_before is 0
    brightness: str  # "brightening", "steady", "fading" or "unknown"
    oi_trend: str  # "rising", "flat", "falling" or "unknown"
    verdict: str  # a key of VERDICT_LABELS
    persistence_rows: int  # consecutive rows (this one included) in which a band overlapped this range
    persistence_seconds: float
    is_spike: bool  # younger than spike_hours

    @property
    def verdict_label(self) -> str:
        """The verdict in words, as the model page writes it."""
        return VERDICT_LABELS[self.verdict]

    def to_dict(self) -> dict:
        """JSON-ready dict (plain floats, ints, strings, None)."""
        d = asdict(self)
        d["verdict_label"] = self.verdict_label
        return d


@dataclass(frozen=True)
class MapAnalysis:
    """All bands of one row and the row's OI trend."""

    row: int
    close: float
    open_interest: float
    open_interest_before: float | None
    oi_change_pct: float | None
    oi_trend: str
    threshold: float  # USD a bin needed to be part of a band (0 when the row is empty)
    bands: tuple[Band, ...]
    settings: AnalysisSettings

    def to_dict(self) -> dict:
        """JSON-ready dict, bands included."""
        return {
            "row": self.row,
            "close": self.close,
            "open_interest": self.open_interest,
            "open_interest_before": self.open_interest_before,
            "oi_change_pct": self.oi_change_pct,
            "oi_trend": self.oi_trend,
            "threshold": self.threshold,
            "bands": [b.to_dict() for b in self.bands],
            "settings": self.settings.to_dict(),
        }


def row_threshold(values: np.ndarray, factor: float) -> float:
    """``factor`` × the median of the row's positive bins (0 when the row has none)."""
    return float(row_thresholds(np.asarray(values)[None, :], factor)[0])


def row_thresholds(rows: np.ndarray, factor: float) -> np.ndarray:
    """:func:`row_threshold` of every row of a rows × bins block at once.

    Each row is sorted with its non-positive (and NaN) bins pushed to the end,
    so its median is read at the middle of its positive bins: the same two
    values ``np.median`` would average, averaged the same way.
    """
    rows = np.asarray(rows, dtype=np.float64)
    if rows.shape[1] == 0:
        return np.zeros(len(rows))
    positive = rows > 0
    count = positive.sum(axis=1)
    ordered = np.sort(np.where(positive, rows, np.inf), axis=1)
    at = np.arange(len(rows))
    low = ordered[at, np.maximum(count - 1, 0) // 2]
    high = ordered[at, count // 2]
    out = factor * ((low + high) / 2)
    return np.where(count > 0, out, 0.0)


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(first, last) index of each run of True."""
    padded = np.concatenate([[False], mask, [False]])
    change = np.flatnonzero(padded[1:] != padded[:-1])
    return [(int(a), int(b) - 1) for a, b in zip(change[::2], change[1::2])]


def detect_bands(values, bin_edges, close: float, factor: float = 3.0) -> list[dict]:
    """Bands of one row: runs of adjacent bins with value >= factor × median of the positive bins.

    Returns one dict per band (first_bin, last_bin, price_low, price_high,
    price, value, side), lowest price first.
    """
    v = as_series("values", values)
    edges = check_bin_edges(bin_edges)
    if len(v) != len(edges) - 1:
        raise ValueError(f"values need one entry per bin (got {len(v)}, expected {len(edges) - 1})")
    thr = row_threshold(v, factor)
    if thr <= 0:
        return []
    mids = (edges[:-1] + edges[1:]) / 2
    out = []
    for a, b in _runs(v >= thr):
        val = float(v[a : b + 1].sum())
        price = float(np.dot(v[a : b + 1], mids[a : b + 1]) / val)
        out.append(
            {
                "first_bin": a,
                "last_bin": b,
                "price_low": float(edges[a]),
                "price_high": float(edges[b + 1]),
                "price": price,
                "value": val,
                "side": "above" if price > close else "below",
            }
        )
    return out


def _classify(change: float | None, pct: float, up: str, flat: str, down: str) -> str:
    if change is None:
        return "unknown"
    if change >= pct:
        return up
    if change <= -pct:
        return down
    return flat


def _pct_change(now: float, before: float) -> float | None:
    """Percent change; +inf when rising from 0, 0 when both are 0.

    Multiplying by 100 before dividing keeps round cases exact (22 vs 20 is
    10.0 %, not 10.000000000000002 %), so a change right on a threshold
    classifies the way the page's wording says ("≥ +10 %").
    """
    if before == 0:
        return float("inf") if now > 0 else 0.0
    return (now - before) * 100.0 / before


def _verdict(oi_trend: str, brightness: str) -> str:
    if oi_trend == "rising" and brightness == "brightening":
        return "strong_build_up"
    if oi_trend == "flat" and brightness == "steady":
        return "build_up_not_accelerating"
    if oi_trend == "falling" and brightness == "fading":
        return "cool_down"
    return "unconfirmed"


def analyse_map(
    grid,
    bin_edges,
    close,
    open_interest,
    *,
    interval_seconds: float,
    row: int = -1,
    open_time=None,
    settings: AnalysisSettings | None = None,
) -> MapAnalysis:
    """Read one row of a heatmap (``long_grid + short_grid``, T × bins) as the model page defines.

    ``close`` and ``open_interest`` have one value per row; ``interval_seconds``
    is the row length (a step, or a column of a reduced grid). With
    ``open_time`` (int64 ms per row), "H hours earlier" is found by time, which
    is right across gaps; without it, by ``H / interval`` rows.
    """
    settings = settings or AnalysisSettings()
    g = np.asarray(grid, dtype=np.float64)
    edges = check_bin_edges(bin_edges)
    if g.ndim != 2 or g.shape[1] != len(edges) - 1:
        raise ValueError(f"grid must be rows × {len(edges) - 1} bins, got shape {g.shape}")
    n = g.shape[0]
    cl = as_series("close", close)
    oi = as_series("open_interest", open_interest)
    if len(cl) != n or len(oi) != n:
        raise ValueError(f"close and open_interest need one value per row (got {len(cl)}, {len(oi)}, rows {n})")
    if not (interval_seconds > 0):
        raise ValueError(f"interval_seconds must be > 0, got {interval_seconds!r}")
    if n == 0:
        raise ValueError("the grid has no rows")
    r = row + n if row < 0 else row
    if not 0 <= r < n:
        raise ValueError(f"row {row} is outside the grid's {n} rows")

    # Row H hours earlier.
    if open_time is not None:
        ot = np.asarray(open_time, dtype=np.int64)
        if len(ot) != n:
            raise ValueError(f"open_time needs one value per row (got {len(ot)}, rows {n})")
        target = int(ot[r]) - int(round(settings.lookback_hours * 3600 * 1000))
        j = int(np.searchsorted(ot, target, side="right")) - 1
        earlier = j if j >= 0 and j < r else None
    else:
        h_rows = max(1, int(round(settings.lookback_hours * 3600 / interval_seconds)))
        earlier = r - h_rows if r - h_rows >= 0 else None
    # A gap column of a reduced grid (NaN) is no reading: use the last row before it that has one.
    while earlier is not None and (np.isnan(oi[earlier]) or np.isnan(g[earlier]).all()):
        earlier = earlier - 1 if earlier > 0 else None

    oi_before = None if earlier is None else float(oi[earlier])
    oi_change = None if earlier is None else _pct_change(float(oi[r]), oi_before)
    oi_trend = _classify(oi_change, settings.oi_trend_pct, "rising", "flat", "falling")

    thresholds = _Thresholds(g, settings.band_factor)
    thr = float(thresholds.block(r, r + 1)[0])
    bands = []
    for b in detect_bands(g[r], edges, float(cl[r]), settings.band_factor):
        a, z = b["first_bin"], b["last_bin"]
        before = None if earlier is None else float(g[earlier, a : z + 1].sum())
        change = None if before is None else _pct_change(b["value"], before)
        brightness = _classify(change, settings.brightening_pct, "brightening", "steady", "fading")
        rows = _persistence(g, r, a, z, thresholds)
        seconds = rows * float(interval_seconds)
        bands.append(
            Band(
                **b,
                value_before=before,
                change_pct=None if change is None or np.isinf(change) else float(change),
                brightness=brightness,
                oi_trend=oi_trend,
                verdict=_verdict(oi_trend, brightness),
                persistence_rows=rows,
                persistence_seconds=seconds,
                is_spike=seconds < settings.spike_hours * 3600,
            )
        )
    return MapAnalysis(
        row=r,
        close=float(cl[r]),
        open_interest=float(oi[r]),
        open_interest_before=oi_before,
        oi_change_pct=None if oi_change is None or np.isinf(oi_change) else float(oi_change),
        oi_trend=oi_trend,
        threshold=thr,
        bands=tuple(bands),
        settings=settings,
    )


class _Thresholds:
    """Band thresholds of a grid's rows, computed a block of rows at a time as the persistence walk needs them."""

    BLOCK = 256

    def __init__(self, g: np.ndarray, factor: float):
        self.g = g
        self.factor = factor
        self.values = np.full(g.shape[0], np.nan)

    def block(self, lo: int, hi: int) -> np.ndarray:
        """Thresholds of rows [lo, hi)."""
        todo = np.flatnonzero(np.isnan(self.values[lo:hi]))
        if len(todo):
            a, b = lo + int(todo[0]), lo + int(todo[-1]) + 1
            self.values[a:b] = row_thresholds(self.g[a:b], self.factor)
        return self.values[lo:hi]


def _persistence(g: np.ndarray, r: int, a: int, z: int, thresholds: _Thresholds) -> int:
    """Consecutive rows r, r-1, ... in which some band overlapped bins [a, z].

    A band overlaps the range exactly when one of its bins lies in it, i.e. when
    some bin of the range reaches that row's band threshold. Rows are tested a
    block at a time, newest first.
    """
    count = 0
    hi = r + 1
    while hi > 0:
        lo = max(0, hi - _Thresholds.BLOCK)
        thr = thresholds.block(lo, hi)
        hit = (thr > 0) & (g[lo:hi, a : z + 1] >= thr[:, None]).any(axis=1)
        misses = np.flatnonzero(~hit)
        if len(misses):
            return count + (hi - lo - 1 - int(misses[-1]))
        count += hi - lo
        hi = lo
    return count
