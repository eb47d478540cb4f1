"""The one codec of stored grids: snapshot arrays, snapshot layers, frozen share windows.

A blob is a zip of .npy members (the .npz layout), so each array can be
read on its own and only when needed (:class:`heatmaps.viewing.grid_source.GridSource`),
and every blob ever written loads with the same reader: those written before
this module (``np.savez_compressed``, deflate level 6) and those written now.

Members are compressed with Zstandard at level 1 (zip method 93, written with
the zipfile module of Python 3.14, backported as ``backports.zstd`` here). On
the stored grids (float32, most cells 0, the rest changing slowly down the
rows) it compressed a 5m layer stack's non-zero values 4x faster than deflate
level 1 (1.2 against 4.6 ms per side) into 18 % fewer bytes, and decompressed
them 3x faster (``bench/codec_bench.py``, bench/RESULTS.md). Blobs written
before (deflate: ``np.savez_compressed`` at level 6, then this module at level
1) read as they always did: the reader takes any zip method. Frozen share
windows are still deflated (:func:`pack_meta`). Generic npz readers
(``np.load``) cannot open Zstandard members under Python 3.13 and older, so
read blobs with :func:`open_archive`. A byte shuffle made members larger, and
float16 cannot hold the USD values (up to ~10^8 per cell, float16 stops at 65,504).

A value given as a list of equally shaped arrays is written as one member
stacked on a new first axis, streamed part by part: the stack (tens of MB for
the per-bucket layers of a 5m grid) never exists in memory.

Grids are mostly empty: a price bin holds pending levels only near the
leverage distances from where positions opened (about nine cells in ten are
exactly 0 in the sample's grids). A float array of two or more dimensions and
at least ``SPARSE_MIN_CELLS`` cells is therefore written *sparse*: which cells
are non-zero (one bit each, member ``<name>.nonzero``), their values in order
(``<name>.values``) and the shape (``<name>.shape``). That is exact (the same
float32 values come back) and hands the compressor about a tenth of the bytes, which
is where most of the time of storing a grid went. Readers see one array under
the plain name either way (:class:`Archive`).
"""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Mapping, Sequence

import numpy as np

if sys.version_info >= (3, 14):
    import zipfile
else:  # the 3.14 zipfile, with ZIP_ZSTANDARD
    from backports.zstd import zipfile

__all__ = [
    "ARRAY_NAMES",
    "OPTIONAL_ARRAY_NAMES",
    "LAYER_NAMES",
    "LEVEL",
    "pack",
    "unpack",
    "open_archive",
    "pack_arrays",
    "pack_layers",
    "unpack_arrays",
    "pack_meta",
    "unpack_meta",
]

LEVEL = 1  # Zstandard's fastest level; 0 stores members uncompressed
# Float grids at least this big are written sparse (see the module docstring); smaller ones dense.
SPARSE_MIN_CELLS = 4096
_SPARSE_MEMBERS = ("nonzero", "values", "shape")

# Arrays kept in ``GridSnapshot.arrays`` (one blob):
#   times         int64 (T,)      open_time of each step, ms since the epoch (UTC)
#   bin_edges     float64 (B+1,)  ascending price edges
#   long_grid     float32 (T, B)  USD of pending long levels per bin after each step
#   short_grid    float32 (T, B)
#   realized_long, realized_short, pending_long, pending_short  float32 (T,)
#   open, high, low, close        float64 (T,)   the candles drawn over the grid (for a coin:
#                                                the first market with a step, as the engine picks)
#   open_interest                 float64 (T,)   base units (summed over a coin's markets)
#   layer_market_id int64 (P,), layer_leverage float64 (P,)   index of the parts kept in ``layers``
#   coins only, to show where the latest bands come from without reading ``layers``:
#   layer_last_long, layer_last_short float32 (P, B)   each part's pending USD per bin at the latest step
#   market_ids int64 (M,), market_open_interest float64 (M, T)   each market's own open interest, NaN where it has no step
# and in ``GridSnapshot.layers`` (its own blob, read only by pages that filter):
#   layer_long_grid, layer_short_grid float32 (P, T, B); layer_realized_long, layer_realized_short float32 (P, T)
ARRAY_NAMES = (
    "times",
    "bin_edges",
    "long_grid",
    "short_grid",
    "realized_long",
    "realized_short",
    "pending_long",
    "pending_short",
    "close",
    "open_interest",
)
# Written by the compute task; readers fall back when a snapshot lacks them.
OPTIONAL_ARRAY_NAMES = (
    "open",
    "high",
    "low",
    "layer_market_id",
    "layer_leverage",
    "layer_last_long",
    "layer_last_short",
    "market_ids",
    "market_open_interest",
)
LAYER_NAMES = ("layer_long_grid", "layer_short_grid", "layer_realized_long", "layer_realized_short")
# Stored as float32 whatever they were computed in: the page shows 3 significant digits of USD.
FLOAT32_ARRAY_NAMES = ("long_grid", "short_grid", "realized_long", "realized_short", "pending_long", "pending_short")
_META = "meta"

Value = np.ndarray | Sequence[np.ndarray]


def pack(
    arrays: Mapping[str, Value], *, level: int = LEVEL, cast: Mapping[str, type] | None = None, method: str = "zstd"
) -> bytes:
    """A blob of ``arrays`` (name → array, or → list of parts stacked on a new first axis).

    ``cast`` names arrays stored as another dtype (float32 for grids computed in float64):
    a sparse array converts only its non-zero values, never a full-size copy. ``method``
    is "zstd" or "deflate" (what releases before Zstandard can read).
    """
    cast = cast or {}
    buffer = io.BytesIO()
    methods = {"zstd": zipfile.ZIP_ZSTANDARD, "deflate": zipfile.ZIP_DEFLATED}
    if method not in methods:
        raise ValueError(f"unknown compression {method!r}; expected zstd or deflate")
    compression = methods[method] if level > 0 else zipfile.ZIP_STORED
    with zipfile.ZipFile(buffer, "w", compression=compression, compresslevel=level if level > 0 else None) as archive:
        for name, value in arrays.items():
            stacked = isinstance(value, (list, tuple))
            parts = [np.asarray(part) for part in value] if stacked else [np.asarray(value)]
            if _sparse_worth_it(parts):
                _write_sparse(archive, name, parts, stacked=stacked, dtype=cast.get(name))
                continue
            if name in cast:
                parts = [part.astype(cast[name], copy=False) for part in parts]
            with archive.open(f"{name}.npy", "w", force_zip64=True) as member:
                if stacked:
                    _write_stacked(member, name, parts)
                else:
                    np.lib.format.write_array(member, parts[0], allow_pickle=False)
    return buffer.getvalue()


def _sparse_worth_it(parts: Sequence[np.ndarray]) -> bool:
    first = parts[0] if parts else np.empty(0)
    return first.dtype.kind == "f" and first.ndim >= 2 and first.size * len(parts) >= SPARSE_MIN_CELLS


def _write_sparse(archive: zipfile.ZipFile, name: str, parts: Sequence[np.ndarray], *, stacked: bool, dtype=None) -> None:
    shape, given = parts[0].shape, parts[0].dtype
    if any(p.shape != shape for p in parts) or any(p.dtype != given for p in parts):
        raise ValueError(f"{name}: every part needs the same shape and dtype")
    flat = [np.ravel(part) for part in parts]
    nonzero = [values != 0 for values in flat]
    members = {
        "nonzero": np.packbits(np.concatenate(nonzero)),
        "values": np.concatenate([values[mask] for values, mask in zip(flat, nonzero)]).astype(dtype or given),
        "shape": np.asarray((len(parts), *shape) if stacked else shape, dtype=np.int64),
    }
    for member_name, array in members.items():
        with archive.open(f"{name}.{member_name}.npy", "w", force_zip64=True) as member:
            np.lib.format.write_array(member, array, allow_pickle=False)


def _write_stacked(member, name: str, parts: Sequence[np.ndarray]) -> None:
    if not parts:
        raise ValueError(f"{name}: no parts to stack")
    dtype, shape = np.asarray(parts[0]).dtype, np.shape(parts[0])
    if any(np.shape(p) != shape for p in parts) or any(np.asarray(p).dtype != dtype for p in parts):
        raise ValueError(f"{name}: every part needs the same shape and dtype")
    header = {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False, "shape": (len(parts), *shape)}
    np.lib.format.write_array_header_1_0(member, header)
    for part in parts:
        member.write(memoryview(np.ascontiguousarray(part)).cast("B"))


class Archive:
    """The arrays of a blob by name, each read (and decompressed) when first asked for.

    A sparse array's three members read as one array under its plain name;
    blobs written before sparse members existed read as they always did.
    """

    def __init__(self, blob: bytes):
        self._zip = zipfile.ZipFile(io.BytesIO(bytes(blob)))
        # Members are "<name>.npy", as np.savez writes them; the array's name is without the suffix.
        self._members = {name.removesuffix(".npy"): name for name in self._zip.namelist()}
        members = set(self._members)
        bases = {member.removesuffix(".nonzero") for member in members if member.endswith(".nonzero")}
        self._sparse = {base for base in bases if all(f"{base}.{part}" in members for part in _SPARSE_MEMBERS)}
        hidden = {f"{base}.{part}" for base in self._sparse for part in _SPARSE_MEMBERS}
        self.files = [member for member in self._members if member not in hidden] + sorted(self._sparse)

    def __contains__(self, name: str) -> bool:
        return name in self.files

    def _member(self, name: str) -> np.ndarray:
        with self._zip.open(self._members[name]) as member:
            return np.lib.format.read_array(member, allow_pickle=False)

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self._sparse:
            if name not in self._members:
                raise KeyError(f"{name} is not a member of this blob")
            return self._member(name)
        shape = tuple(int(n) for n in self._member(f"{name}.shape"))
        values = self._member(f"{name}.values")
        cells = int(np.prod(shape))
        nonzero = np.unpackbits(self._member(f"{name}.nonzero"), count=cells).view(bool)
        out = np.zeros(cells, dtype=values.dtype)
        out[nonzero] = values
        return out.reshape(shape)

    def close(self) -> None:
        self._zip.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_archive(blob: bytes) -> Archive:
    """The blob's arrays, each decompressed when first read (close it when done)."""
    return Archive(blob)


def unpack(blob: bytes) -> dict[str, np.ndarray]:
    """Every array of a blob, written by :func:`pack` or by ``np.savez(_compressed)`` before it."""
    with open_archive(blob) as archive:
        return {name: archive[name] for name in archive.files}


def pack_arrays(arrays: Mapping[str, np.ndarray]) -> bytes:
    """``GridSnapshot.arrays``: the names of :data:`ARRAY_NAMES` (all required) and of :data:`OPTIONAL_ARRAY_NAMES`."""
    missing = set(ARRAY_NAMES) - set(arrays)
    if missing:
        raise ValueError(f"grid arrays missing: {', '.join(sorted(missing))}")
    names = [*ARRAY_NAMES, *(name for name in OPTIONAL_ARRAY_NAMES if name in arrays)]
    return pack({name: arrays[name] for name in names}, cast=dict.fromkeys(FLOAT32_ARRAY_NAMES, np.float32))


def pack_layers(layers: Mapping[str, Value]) -> bytes:
    """``GridSnapshot.layers``: the four :data:`LAYER_NAMES`, each (P, ...) or a list of P parts, stored float32."""
    missing = set(LAYER_NAMES) - set(layers)
    if missing:
        raise ValueError(f"grid layers missing: {', '.join(sorted(missing))}")
    return pack({name: layers[name] for name in LAYER_NAMES}, cast=dict.fromkeys(LAYER_NAMES, np.float32))


unpack_arrays = unpack


def pack_meta(meta: dict, arrays: Mapping[str, np.ndarray]) -> bytes:
    """A blob of ``arrays`` plus a JSON ``meta`` member (a frozen share's window).

    Deflated, not Zstandard: a frozen window is written once, when a link is
    shared, and is never recomputed, so it must stay readable by any release a
    deployment rolls back to; it is small, and how fast it compresses does not matter.
    """
    if _META in arrays:
        raise ValueError(f"{_META!r} is reserved for the JSON member")
    return pack({_META: np.array(json.dumps(meta)), **arrays}, method="deflate")


def unpack_meta(blob: bytes) -> tuple[dict, dict[str, np.ndarray]]:
    """``(meta, arrays)`` of a blob written by :func:`pack_meta` (or by ``np.savez_compressed`` the same way)."""
    arrays = unpack(blob)
    return json.loads(str(arrays.pop(_META))), arrays
