"""Lazy access to a snapshot's stored arrays, and its optional per-layer grids.

``GridSnapshot.load_arrays()`` decompresses every array in the blob. A page
needs only some of them (per-layer grids only when a filter asks for them),
and an .npz member is decompressed only when read, so pages go through
:class:`GridSource` instead.

Per-layer grids (optional, written by the compute task when it can) split the
total grid into parts that add up to it, so a page can show a subset of
leverage buckets or exchanges by adding stored parts, never recomputing::

    layer_market_id      int64   (P,)       market of each layer
    layer_leverage       float64 (P,)       leverage bucket of each layer; 0 = all buckets together
    layer_long_grid      float32 (P, T, B)
    layer_short_grid     float32 (P, T, B)
    layer_realized_long  float32 (P, T)
    layer_realized_short float32 (P, T)
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np

LAYER_ARRAYS = ("layer_long_grid", "layer_short_grid", "layer_realized_long", "layer_realized_short")


class GridSource:
    """The arrays of one stored snapshot, each decompressed on first use."""

    def __init__(self, blob: bytes):
        self._archive = np.load(io.BytesIO(bytes(blob)), allow_pickle=False)
        self._loaded: dict[str, np.ndarray] = {}

    def __contains__(self, name: str) -> bool:
        return name in self._archive.files

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self._loaded:
            self._loaded[name] = self._archive[name]
        return self._loaded[name]

    def get(self, name: str) -> np.ndarray | None:
        return self[name] if name in self else None

    def close(self) -> None:
        self._archive.close()

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> GridSource:
        """A source over arrays already in memory (tests, benchmarks)."""
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        return cls(buffer.getvalue())


@dataclass(frozen=True)
class Layers:
    """What the stored layers allow a page to filter."""

    market_ids: tuple[int, ...]  # markets with their own layers
    buckets: tuple[float, ...]  # leverage buckets with their own layers; () = no split by bucket

    @property
    def by_bucket(self) -> bool:
        return bool(self.buckets)


def stored_layers(source: GridSource) -> Layers | None:
    """The layers of a snapshot, or None when it stores only the total grid."""
    if not all(name in source for name in ("layer_market_id", "layer_leverage", *LAYER_ARRAYS)):
        return None
    market_ids = source["layer_market_id"].astype(np.int64)
    leverage = source["layer_leverage"].astype(np.float64)
    if len(market_ids) == 0 or len(market_ids) != len(leverage):
        return None
    buckets = () if np.any(leverage <= 0) else tuple(float(v) for v in np.unique(leverage))
    return Layers(tuple(int(v) for v in np.unique(market_ids)), buckets)


def layer_mask(source: GridSource, *, market_ids: set[int] | None, buckets: tuple[float, ...]) -> np.ndarray:
    """Which layers a filter keeps: in one of ``market_ids`` (None = all) and one of ``buckets`` (() = all)."""
    keep = np.ones(len(source["layer_market_id"]), dtype=bool)
    if market_ids is not None:
        keep &= np.isin(source["layer_market_id"].astype(np.int64), sorted(market_ids))
    if buckets:
        keep &= np.isin(np.round(source["layer_leverage"].astype(np.float64), 6), np.round(buckets, 6))
    return keep
