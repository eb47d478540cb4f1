"""The one stored-grid codec: blobs written by earlier versions still load, and pages read them the same way."""

from __future__ import annotations

import io
import json
from unittest import mock

import numpy as np
import pytest

from grids import codec
from grids.codec import LAYER_NAMES, open_archive, pack, pack_arrays, pack_layers, pack_meta, unpack, unpack_meta
from heatmaps.viewing.grid_source import GridSource, layer_mask
from heatmaps.viewing.window import HeatmapWindow, reduce_window
from tests.pages.factories import synthetic_arrays

zipfile = codec.zipfile  # the zipfile that knows ZIP_ZSTANDARD (the stdlib's from Python 3.14)
STEP = 900_000
LAYERS = ("layer_market_id", "layer_leverage", *LAYER_NAMES)


def _old_savez(arrays: dict) -> bytes:
    """A blob as today's main wrote them (np.savez_compressed, deflate level 6)."""
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()


def _split(arrays: dict) -> tuple[dict, dict]:
    main = {k: v for k, v in arrays.items() if k not in LAYER_NAMES}
    return main, {k: v for k, v in arrays.items() if k in LAYER_NAMES}


@pytest.fixture(scope="module")
def stored():
    return synthetic_arrays(steps=300, bins=120, layer_market_ids=(7, 9), by_bucket=True)


def test_old_snapshot_blobs_load_and_draw_the_same_window_as_new_ones(stored):
    main, layers = _split(stored)
    old = GridSource(_old_savez(main), layers=lambda: _old_savez(layers))
    new = GridSource(pack_arrays(main), layers=lambda: pack_layers(layers))
    for name in stored:
        np.testing.assert_array_equal(old[name], new[name])
        assert old[name].dtype == new[name].dtype
    options = {"interval": "15m", "step_ms": STEP, "span_ms": STEP * 200, "max_columns": 70, "max_bins": 50}
    for keep in (None, layer_mask(new, market_ids={9}, buckets=(25.0, 50.0))):
        a, b = reduce_window(old, layer_keep=keep, **options), reduce_window(new, layer_keep=keep, **options)
        for field in ("times", "edges", "pending", "profile_long", "high", "close", "realized_long"):
            np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
        assert (a.scale_max, a.value_max) == (b.scale_max, b.value_max)


def test_layers_given_as_parts_are_stored_as_one_stacked_float32_array(stored):
    _, layers = _split(stored)
    parts = {name: [np.asarray(p, dtype=np.float64) for p in value] for name, value in layers.items()}
    out = unpack(pack_layers(parts))
    for name in LAYER_NAMES:
        assert out[name].dtype == np.float32
        np.testing.assert_array_equal(out[name], np.asarray(layers[name], dtype=np.float32))
    with pytest.raises(ValueError, match="same shape"):
        pack({"x": [np.zeros(3), np.zeros(4)]})
    with pytest.raises(ValueError, match="layers missing"):
        pack_layers({"layer_long_grid": layers["layer_long_grid"]})


def test_new_blobs_are_zip_archives_of_zstd_npy_members_and_sparse_grids_that_read_back_exactly(stored):
    main, _ = _split(stored)
    blob = pack_arrays(main)
    with zipfile.ZipFile(io.BytesIO(blob)) as archive:  # a zip of .npy members; grids are three members each
        names = set(archive.namelist())
        assert {"long_grid.nonzero.npy", "long_grid.values.npy", "long_grid.shape.npy"} <= names
        assert "long_grid.npy" not in names and "times.npy" in names
        assert {info.compress_type for info in archive.infolist()} == {zipfile.ZIP_ZSTANDARD}
    with open_archive(blob) as archive:
        assert set(archive.files) == set(main)
        for name, value in main.items():
            np.testing.assert_array_equal(archive[name], value, err_msg=name)
            assert archive[name].dtype == np.asarray(value).dtype
        with pytest.raises(KeyError, match="not a member"):
            archive["no_such_array"]
    assert len(blob) < sum(np.asarray(v).nbytes for v in main.values()) / 2


def test_blobs_written_with_deflate_by_this_codec_before_zstd_still_read(stored):
    main, _ = _split(stored)
    with mock.patch.object(codec.zipfile, "ZIP_ZSTANDARD", codec.zipfile.ZIP_DEFLATED):
        blob = pack_arrays(main)
    with zipfile.ZipFile(io.BytesIO(blob)) as archive:
        assert {info.compress_type for info in archive.infolist()} == {zipfile.ZIP_DEFLATED}
    with open_archive(blob) as archive:
        for name, value in main.items():
            np.testing.assert_array_equal(archive[name], value, err_msg=name)


def test_sparse_layers_keep_every_value_and_their_stacked_shape():
    rng = np.random.default_rng(7)
    parts = [np.where(rng.random((30, 40)) < 0.1, rng.random((30, 40)), 0).astype(np.float32) for _ in range(3)]
    parts[1][:] = 0  # an empty part
    parts[2][0, 0] = -0.0  # a negative zero is empty too
    with open_archive(pack({"layer": parts, "one": parts[0], "ints": np.arange(5000).reshape(50, 100)})) as archive:
        np.testing.assert_array_equal(archive["layer"], np.stack(parts))
        np.testing.assert_array_equal(archive["one"], parts[0])
        assert archive["ints"].dtype.kind == "i" and archive["ints"].shape == (50, 100)  # only floats go sparse


def test_frozen_share_windows_written_by_the_old_to_bytes_still_load(stored):
    main, _ = _split(stored)
    window = reduce_window(GridSource.from_arrays(main), interval="15m", step_ms=STEP, span_ms=STEP * 300)
    array_fields = (
        "times",
        "edges",
        "pending",
        "profile_long",
        "profile_short",
        "open",
        "high",
        "low",
        "close",
        "open_interest",
        "realized_long",
        "realized_short",
        "measured_long",
        "measured_short",
    )
    meta = {k: getattr(window, k) for k in ("interval", "step_ms", "steps_per_column", "scale_max", "value_max", "bins_per_row")}
    # Exactly the old HeatmapWindow.to_bytes.
    old = _old_savez({"meta": np.array(json.dumps(meta)), **{name: getattr(window, name) for name in array_fields}})
    for blob in (old, window.to_bytes()):
        again = HeatmapWindow.from_bytes(blob)
        for name in array_fields:
            np.testing.assert_array_equal(getattr(again, name), getattr(window, name))
        assert (again.scale_max, again.steps_per_column) == (window.scale_max, window.steps_per_column)


def test_meta_member_is_reserved():
    with pytest.raises(ValueError, match="reserved"):
        pack_meta({}, {"meta": np.zeros(1)})
    meta, arrays = unpack_meta(pack_meta({"a": 1}, {"x": np.arange(3)}))
    assert meta == {"a": 1} and list(arrays) == ["x"]


def test_frozen_share_windows_are_deflated_so_every_release_and_any_npz_reader_opens_them():
    blob = pack_meta({"a": 1}, {"grid": np.arange(6000, dtype=np.float64).reshape(60, 100)})
    with zipfile.ZipFile(io.BytesIO(blob)) as archive:
        assert {info.compress_type for info in archive.infolist()} == {zipfile.ZIP_DEFLATED}
    with np.load(io.BytesIO(blob)) as archive:  # the stdlib zipfile of Python 3.11 reads deflate
        assert "meta" in archive.files
    with pytest.raises(ValueError, match="unknown compression"):
        pack({"x": np.zeros(3)}, method="brotli")
