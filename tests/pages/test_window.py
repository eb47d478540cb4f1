"""Window reduction (pure numpy), the snapshot chooser, and the query's canonical form."""

from __future__ import annotations

import numpy as np
import pytest
from django.http import QueryDict

from grids.codec import unpack
from grids.models import GridSnapshot
from heatmaps.viewing.grid_source import GridSource
from heatmaps.viewing.query import BadQuery, ViewQuery, parse_view_query
from heatmaps.viewing.snapshots import choose_snapshot
from heatmaps.viewing.window import HeatmapWindow, reduce_window

STEP = 900_000


def arrays(steps=10, bins=8, *, long=None, short=None, close=None):
    edges = np.geomspace(50.0, 200.0, bins + 1)
    return {
        "times": np.arange(steps, dtype=np.int64) * STEP,
        "bin_edges": edges,
        "long_grid": np.zeros((steps, bins), np.float32) if long is None else long.astype(np.float32),
        "short_grid": np.zeros((steps, bins), np.float32) if short is None else short.astype(np.float32),
        "realized_long": np.arange(steps, dtype=np.float32),
        "realized_short": np.ones(steps, dtype=np.float32),
        "close": np.full(steps, 100.0) if close is None else close,
        "open_interest": np.arange(steps, dtype=np.float64) + 1000,
    }


def reduce(data, **kwargs):
    options = {"interval": "15m", "step_ms": STEP, "span_ms": STEP * len(data["times"])} | kwargs
    return reduce_window(GridSource.from_arrays(data), **options)


def test_merged_steps_keep_the_max_of_pending_and_the_sum_of_realised():
    long = np.zeros((10, 8))
    long[3, 4] = 5.0  # bin 4 is [100, 118.9), around the close
    long[4, 4] = 7.0
    long[5, 4] = 1.0
    window = reduce(arrays(long=long), max_columns=4)
    assert window.steps_per_column == 3
    # Counted back from the last step: columns are steps [0], [1-3], [4-6], [7-9].
    assert window.times.tolist() == [0, STEP, 4 * STEP, 7 * STEP]
    row = int(np.searchsorted(window.edges, 105.0, side="right") - 1)
    assert window.pending[:, row].tolist() == [0.0, 5.0, 7.0, 0.0]
    assert window.realized_long.tolist() == [0.0, 1 + 2 + 3, 4 + 5 + 6, 7 + 8 + 9]
    assert window.open_interest.tolist() == [1000.0, 1003.0, 1006.0, 1009.0]


def test_window_span_counts_back_from_the_last_step():
    window = reduce(arrays(), span_ms=4 * STEP)
    assert window.columns == 4 and window.times[0] == 6 * STEP


def test_price_rows_are_cropped_around_the_window_and_merged_by_sum():
    steps, bins = 5, 400
    data = arrays(steps, bins, long=np.ones((steps, bins)))
    data["bin_edges"] = np.geomspace(10.0, 1000.0, bins + 1)
    window = reduce(data, max_bins=40)
    assert window.edges[0] <= 100 / 1.12 and window.edges[-1] >= 100 * 1.12
    assert window.edges[0] > 50 and window.edges[-1] < 200  # far bins are cropped away
    assert window.rows <= 40
    assert window.pending.max() == window.bins_per_row  # a merged row holds the sum of its bins


def test_colour_scale_tops_at_the_99th_percentile_of_positive_cells():
    steps, bins = 100, 10
    long = np.ones((steps, bins))
    long[50, 5] = 1e9  # one extreme cell
    window = reduce(arrays(steps, bins, long=long), span_ms=STEP * steps)
    assert window.value_max == pytest.approx(1e9)
    assert window.scale_max == pytest.approx(1.0)


def test_window_survives_a_round_trip_through_bytes():
    window = reduce(arrays(long=np.random.default_rng(1).random((10, 8))))
    again = HeatmapWindow.from_bytes(window.to_bytes())
    assert again.interval == window.interval and again.columns == window.columns
    np.testing.assert_array_equal(again.pending, window.pending)
    np.testing.assert_array_equal(again.measured_long, window.measured_long)


def test_a_window_frozen_by_an_older_version_still_loads():
    import io
    import json

    window = reduce(arrays())
    stored = unpack(window.to_bytes())
    meta = json.loads(str(stored["meta"])) | {"stored_bins": 8, "history_start_ms": 0}  # fields since dropped
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **(stored | {"meta": np.array(json.dumps(meta))}))
    again = HeatmapWindow.from_bytes(buffer.getvalue())
    assert np.array_equal(again.pending, window.pending) and again.scale_max == window.scale_max


def snapshot(interval, method):
    return GridSnapshot(interval=interval, long_share_method=method, params={}, analysis={})


def test_chooser_picks_the_method_and_the_finest_interval_that_fits():
    snapshots = [snapshot(i, m) for i in ("1m", "15m", "1h") for m in ("fixed", "taker")] + [snapshot("4h", "long_short")]
    choice = choose_snapshot(snapshots, ViewQuery())
    assert (choice.snapshot.interval, choice.snapshot.long_share_method) == ("15m", "fixed")  # 7d of 1m > 1000 columns
    assert choice.intervals == ("1m", "15m", "1h") and choice.methods == ("fixed", "taker")
    choice = choose_snapshot(snapshots, ViewQuery(range="12h", method="taker"))
    assert (choice.snapshot.interval, choice.snapshot.long_share_method) == ("1m", "taker")
    assert choose_snapshot(snapshots, ViewQuery(method="long_short")).snapshot.interval == "4h"
    with pytest.raises(BadQuery, match="Stored intervals: 1m, 15m, 1h"):
        choose_snapshot(snapshots, ViewQuery(interval="4h", method="fixed"))


def test_query_round_trips_through_its_canonical_url():
    query = parse_view_query(QueryDict("range=30d&interval=1h&method=taker&bins=200&buckets=10,5x"), coin_page=False)
    assert query.buckets == (5.0, 10.0)
    assert query.querystring() == "?range=30d&interval=1h&method=taker&bins=200&buckets=5,10"
    assert parse_view_query(QueryDict(query.querystring()[1:]), coin_page=False) == query
    with pytest.raises(BadQuery):
        parse_view_query(QueryDict("bins=nan"), coin_page=False)
