"""Reading the map: bands, brightening/fading, OI trend, confirmation verdicts, persistence."""

from __future__ import annotations

import json

import numpy as np
import pytest

from liqengine import AnalysisSettings, analyse_map, detect_bands

EDGES = np.arange(100.0, 111.0)  # 10 bins of 1 USD: midpoints 100.5 ... 109.5
ROW = np.array([0, 1, 1, 10, 12, 1, 0, 1, 9, 1], dtype=float)  # positive-bin median 1 -> threshold 3


def test_detect_bands_runs_value_price_side():
    bands = detect_bands(ROW, EDGES, close=105.0)
    assert [(b["first_bin"], b["last_bin"]) for b in bands] == [(3, 4), (8, 8)]
    low, high = bands
    assert low["value"] == 22.0 and high["value"] == 9.0
    assert low["price"] == pytest.approx((10 * 103.5 + 12 * 104.5) / 22)
    assert (low["price_low"], low["price_high"]) == (103.0, 105.0)
    assert low["side"] == "below" and high["side"] == "above"


def test_threshold_factor_and_empty_rows():
    assert detect_bands(np.zeros(10), EDGES, 105.0) == []
    # Factor 10: only bins >= 10 x median (1) count.
    assert [(b["first_bin"], b["last_bin"]) for b in detect_bands(ROW, EDGES, 105.0, factor=10)] == [(3, 4)]
    # Every bin equal: every bin >= 3 x median fails, no band.
    assert detect_bands(np.ones(10), EDGES, 105.0) == []


def grid_with_history(rows_before, now, hours_per_row=1.0):
    g = np.vstack(rows_before + [now])
    return g, hours_per_row * 3600


@pytest.mark.parametrize(
    "before_value, oi_before, oi_now, brightness, oi_trend, verdict",
    [
        (20.0, 1000.0, 1010.0, "brightening", "rising", "strong_build_up"),  # +10 % exactly, +1 % exactly
        (22.0, 1000.0, 1005.0, "steady", "flat", "build_up_not_accelerating"),
        (30.0, 1000.0, 980.0, "fading", "falling", "cool_down"),  # -26.7 %, -2 %
        (20.0, 1000.0, 990.0, "brightening", "falling", "unconfirmed"),
        (0.0, 1000.0, 1100.0, "brightening", "rising", "strong_build_up"),  # from nothing
    ],
)
def test_brightness_oi_trend_and_verdict(before_value, oi_before, oi_now, brightness, oi_trend, verdict):
    earlier = np.zeros(10)
    earlier[3:5] = before_value / 2
    earlier[[0, 1, 2, 5, 7, 9]] = 1.0
    rows = [earlier, ROW, ROW, ROW]  # 4 rows of 1 h: row 0 is exactly H = 4 h before row 4
    g, interval = grid_with_history(rows, ROW)
    oi = [oi_before, 1000, 1000, 1000, oi_now]
    reading = analyse_map(g, EDGES, close=[105.0] * 5, open_interest=oi, interval_seconds=interval)
    band = reading.bands[0]
    assert band.value_before == pytest.approx(before_value)
    assert (band.brightness, band.oi_trend, band.verdict) == (brightness, oi_trend, verdict)
    assert reading.oi_trend == oi_trend
    if before_value == 0:
        assert band.change_pct is None  # JSON has no infinity
    json.dumps(reading.to_dict())  # JSON-ready


def test_not_enough_history_is_unknown_and_unconfirmed():
    g = np.vstack([ROW, ROW])
    reading = analyse_map(g, EDGES, close=[105, 105], open_interest=[1, 1], interval_seconds=3600)
    assert reading.oi_trend == "unknown"
    assert all(b.brightness == "unknown" and b.verdict == "unconfirmed" for b in reading.bands)
    assert reading.bands[0].verdict_label == "unconfirmed (mixed signals)"


def test_lookback_by_open_time_across_a_gap():
    # Rows at 0 h, 1 h, 5 h, 6 h (a gap between 1 h and 5 h). From 6 h, "4 h earlier" is
    # 2 h: the last row at or before it is the 1 h row.
    hour = 3_600_000
    ot = np.array([0, 1, 5, 6]) * hour
    before = ROW.copy()
    before[3:5] = [5, 5]
    g = np.vstack([ROW, before, ROW, ROW])
    r = analyse_map(g, EDGES, close=[105] * 4, open_interest=[1, 1, 1, 1], interval_seconds=3600, open_time=ot)
    assert r.bands[0].value_before == 10.0 and r.bands[0].brightness == "brightening"
    # By rows instead (no open_time): 4 rows back is out of range.
    r2 = analyse_map(g, EDGES, close=[105] * 4, open_interest=[1, 1, 1, 1], interval_seconds=3600)
    assert r2.bands[0].brightness == "unknown"


def test_persistence_counts_consecutive_overlapping_rows_and_spikes():
    quiet = np.ones(10)
    shifted = ROW.copy()
    shifted[3:5] = [1, 1]
    shifted[4:6] = [12, 10]  # a band at bins 4-5: overlaps the 3-4 range
    g = np.vstack([ROW, quiet, ROW, shifted, ROW])  # 5-minute rows
    reading = analyse_map(g, EDGES, close=[105] * 5, open_interest=[1] * 5, interval_seconds=300)
    low, high = reading.bands
    assert low.persistence_rows == 3  # rows 2, 3, 4 (row 1 breaks the run)
    assert low.persistence_seconds == 900 and low.is_spike
    assert high.persistence_rows == 3
    long_lived = np.vstack([ROW] * 13)
    r = analyse_map(long_lived, EDGES, close=[105] * 13, open_interest=[1] * 13, interval_seconds=300)
    assert r.bands[0].persistence_rows == 13 and not r.bands[0].is_spike  # 65 min >= 1 h


def test_settings_are_parameters_and_serialisable():
    s = AnalysisSettings(band_factor=10, lookback_hours=1, brightening_pct=50, oi_trend_pct=5, spike_hours=0.5)
    assert s.to_dict() == {"band_factor": 10, "lookback_hours": 1, "brightening_pct": 50, "oi_trend_pct": 5, "spike_hours": 0.5}
    with pytest.raises(ValueError, match="band_factor must be > 0"):
        AnalysisSettings(band_factor=0)
    with pytest.raises(ValueError, match="lookback_hours must be a finite number >= 0"):
        AnalysisSettings(lookback_hours=float("nan"))
    g = np.vstack([ROW] * 3)
    r = analyse_map(g, EDGES, close=[105] * 3, open_interest=[1] * 3, interval_seconds=3600, settings=s)
    assert [(b.first_bin, b.last_bin) for b in r.bands] == [(3, 4)]
    assert r.to_dict()["settings"]["band_factor"] == 10


def test_read_map_argument_checks():
    g = np.vstack([ROW] * 3)
    with pytest.raises(ValueError, match="grid must be rows × 10 bins"):
        analyse_map(g[:, :5], EDGES, close=[1] * 3, open_interest=[1] * 3, interval_seconds=60)
    with pytest.raises(ValueError, match="close and open_interest need one value per row"):
        analyse_map(g, EDGES, close=[1] * 2, open_interest=[1] * 3, interval_seconds=60)
    with pytest.raises(ValueError, match="row 5 is outside the grid's 3 rows"):
        analyse_map(g, EDGES, close=[1] * 3, open_interest=[1] * 3, interval_seconds=60, row=5)
    with pytest.raises(ValueError, match="interval_seconds must be > 0"):
        analyse_map(g, EDGES, close=[1] * 3, open_interest=[1] * 3, interval_seconds=0)


def test_gap_columns_are_skipped_when_looking_back():
    gap = np.full(10, np.nan)
    before = ROW.copy()
    before[3:5] = [5, 5]
    # Rows of 1 h: row 4 looks back to row 0, a gap; the last row with data before it is none,
    # so the reading is unknown rather than a NaN comparison.
    g = np.vstack([gap, before, ROW, ROW, ROW])
    r = analyse_map(g, EDGES, close=[np.nan, 105, 105, 105, 105], open_interest=[np.nan, 1, 1, 1, 1], interval_seconds=3600)
    assert r.bands[0].brightness == "unknown" and r.oi_trend == "unknown"
    g2 = np.vstack([before, gap, ROW, ROW, ROW, ROW])
    r2 = analyse_map(g2, EDGES, close=[105] * 6, open_interest=[1, np.nan, 1, 1, 1, 1.5], interval_seconds=3600)
    # Row 5 looks back to row 1 (a gap), so row 0 is used.
    assert r2.bands[0].value_before == 10.0 and r2.bands[0].brightness == "brightening"
    assert r2.oi_trend == "rising"
    assert r2.bands[0].persistence_rows == 4  # the gap ends the run
