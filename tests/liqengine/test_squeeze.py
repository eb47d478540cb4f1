"""Squeeze summary: USD liquidated by a move of X % each way."""

from __future__ import annotations

import json

import numpy as np
import pytest

from liqengine import squeeze_summary

EDGES = np.arange(90.0, 111.0)  # 20 bins of 1 USD
LONG = np.where(EDGES[:-1] < 100, 100.0, 0.0)  # 100 USD in each bin below 100
SHORT = np.where(EDGES[:-1] >= 100, 50.0, 0.0)  # 50 USD in each bin from 100 up


def test_cumulative_usd_each_way():
    s = squeeze_summary(LONG, SHORT, EDGES, price=100.0)
    got = [(lv.pct, lv.long_usd, lv.short_usd, lv.heavier) for lv in s.levels]
    assert got == [
        (1.0, pytest.approx(100.0), pytest.approx(50.0), "long"),
        (2.0, pytest.approx(200.0), pytest.approx(100.0), "long"),
        (5.0, pytest.approx(500.0), pytest.approx(250.0), "long"),
        (10.0, pytest.approx(1000.0), pytest.approx(500.0), "long"),
    ]
    json.dumps(s.to_dict())


def test_bins_straddling_a_boundary_count_pro_rata():
    # Price 100.5, 1 %: longs in [99.495, 100.5] -> 0.505 of the 99-100 bin; shorts in
    # [100.5, 101.505] -> half of 100-101 and 0.505 of 101-102.
    s = squeeze_summary(LONG, SHORT, EDGES, price=100.5, pcts=[1])
    lv = s.levels[0]
    assert lv.long_usd == pytest.approx(100 * 0.505)
    assert lv.short_usd == pytest.approx(50 * 0.5 + 50 * 0.505)


def test_heavier_side_and_even():
    s = squeeze_summary(SHORT * 0, SHORT, EDGES, price=100.0, pcts=[3])
    assert s.levels[0].heavier == "short"
    s = squeeze_summary(np.zeros(20), np.zeros(20), EDGES, price=100.0, pcts=[3])
    assert s.levels[0].heavier == "even"


def test_argument_checks():
    with pytest.raises(ValueError, match="long_row and short_row need one value per bin"):
        squeeze_summary(LONG[:5], SHORT, EDGES, 100.0)
    with pytest.raises(ValueError, match="long_row and short_row must be finite"):
        squeeze_summary(np.full(20, np.nan), SHORT, EDGES, 100.0)
    with pytest.raises(ValueError, match="price must be finite and > 0"):
        squeeze_summary(LONG, SHORT, EDGES, 0.0)
    with pytest.raises(ValueError, match=r"each percentage must lie in \(0, 100\)"):
        squeeze_summary(LONG, SHORT, EDGES, 100.0, pcts=[0])
