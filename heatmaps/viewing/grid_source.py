"""Lazy access to a snapshot's stored arrays, and its optional per-layer grids.

``GridSnapshot.load_arrays()`` decompresses every array in the blob. A page
needs only some of them (per-layer grids only when a filter asks for them),
and an .npz member is decompressed only when read, so pages go through
:class:`GridSource` instead.

Per-layer grids (written by the compute task) split the total grid into parts
that add up to it, so a page can show a subset of leverage buckets or
exchanges by adding stored parts, never recomputing. The index of the layers
is in the snapshot's ``arrays``; the layer grids themselves are in its
separate ``layers`` field, fetched from the database only when a filter reads
them::

    layer_market_id      int64   (P,)       market of each layer             (arrays)
    layer_leverage       float64 (P,)       leverage bucket of each layer; 0 = all buckets together   (arrays)
    layer_long_grid      float32 (P, T, B)                                     (layers)
    layer_short_grid     float32 (P, T, B)
    layer_realized_long  float32 (P, T)
    layer_realized_short float32 (P, T)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from grids.codec import LAYER_NAMES, open_archive, pack

LAYER_ARRAYS = LAYER_NAMES


class GridSource:
    """The arrays of one stored snapshot, each decompressed on first use.

    ``layers`` fetches the separate blob of layer grids (a zero-argument
    callable returning bytes); it is called only when a layer grid is read.
    """

    def __init__(self, blob: bytes, layers: Callable[[], bytes] | None = None):
        self._archive = open_archive(blob)
        self._fetch_layers = layers
        self._layer_archive = None
        self._loaded: dict[str, np.ndarray] = {}

    def _archive_of(self, name: str):
        if name in self._archive.files:
            return self._archive
        if name in LAYER_ARRAYS and self._fetch_layers is not None and "layer_market_id" in self._archive.files:
            if self._layer_archive is None:
                blob = self._fetch_layers()
                if not blob:
                    return None
                self._layer_archive = open_archive(blob)
            return self._layer_archive if name in self._layer_archive.files else None
        return None

    def __contains__(self, name: str) -> bool:
        if name in self._archive.files:
            return True
        # Layer grids count as present when the index says the snapshot has them.
        return name in LAYER_ARRAYS and self._fetch_layers is not None and "layer_market_id" in self._archive.files

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self._loaded:
            archive = self._archive_of(name)
            if archive is None:
                raise KeyError(name)
            self._loaded[name] = archive[name]
        return self._loaded[name]

    def close(self) -> None:
        self._archive.close()
        if self._layer_archive is not None:
            self._layer_archive.close()

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> GridSource:
        """A source over arrays already in memory (tests, benchmarks)."""
        return cls(pack(arrays, level=0))


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
