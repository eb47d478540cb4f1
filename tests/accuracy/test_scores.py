"""The scores against hand-computed cases, published values and direct formulas."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accuracy.scores import (
    average_ranks,
    effective_count,
    spearman,
    spearman_interval,
    top_decile_share,
    top_k_credit,
    weighted_hit_share,
    wilson_interval,
)


def direct_spearman(x, y):
    """Spearman's rho by the textbook rank formula with the tie correction (plain loops).

    rho = (Sx + Sy − Σd²) / (2 √(Sx Sy)), Sx = (n³ − n)/12 − Σ(t³ − t)/12 over
    groups of t tied values; with no ties it is 1 − 6Σd² / (n(n² − 1)).
    """
    n = len(x)

    def ranks(v):
        out = []
        for a in v:
            below = sum(1 for b in v if b < a)
            same = sum(1 for b in v if b == a)
            out.append(below + (same + 1) / 2)
        return out

    def s(v):
        ties = sum(t**3 - t for t in (v.count(a) for a in set(v)))
        return (n**3 - n) / 12 - ties / 12

    rx, ry = ranks(list(x)), ranks(list(y))
    d2 = sum((a - b) ** 2 for a, b in zip(rx, ry))
    sx, sy = s(list(x)), s(list(y))
    return (sx + sy - d2) / (2 * math.sqrt(sx * sy))


def test_spearman_without_ties_is_the_textbook_formula():
    x = [3.0, 1.0, 4.0, 1.5, 5.0, 9.0, 2.0]
    y = [2.0, 7.0, 1.0, 8.0, 2.5, 8.5, 0.5]
    rx, ry = average_ranks(x), average_ranks(y)
    d2 = float(((rx - ry) ** 2).sum())
    n = len(x)
    assert spearman(x, y) == pytest.approx(1 - 6 * d2 / (n * (n * n - 1)), abs=1e-12)


def test_spearman_with_ties_by_hand():
    # Ranks x: 1, 2.5, 2.5, 4, 5; ranks y: 2, 1, 3.5, 3.5, 5.
    # Centred: (-2, -.5, -.5, 1, 2) · (-1, -2, .5, .5, 2) = 7.25; both squared sums 9.5; rho = 29/38.
    x = [1, 2, 2, 3, 4]
    y = [2, 1, 3, 3, 5]
    assert average_ranks(x).tolist() == [1, 2.5, 2.5, 4, 5]
    assert spearman(x, y) == pytest.approx(29 / 38, abs=1e-12)
    assert direct_spearman(x, y) == pytest.approx(29 / 38, abs=1e-12)
    # The untied formula would give 0.775 here: ties need the correction.
    assert spearman(x, y) != pytest.approx(0.775, abs=1e-3)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 6), st.integers(0, 4)), min_size=3, max_size=40))
def test_spearman_equals_the_direct_formula_with_many_ties(pairs):
    x = [float(a) for a, _ in pairs]
    y = [float(b) for _, b in pairs]
    got = spearman(x, y)
    if len(set(x)) == 1 or len(set(y)) == 1:
        assert got is None
    else:
        assert got == pytest.approx(direct_spearman(x, y), abs=1e-9)


def test_spearman_extremes_and_undefined_cases():
    assert spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    assert spearman([0, 0, 0, 0], [1, 2, 3, 4]) is None  # a constant map ranks nothing
    assert spearman([1, 2], [1, 2]) is None
    with pytest.raises(ValueError, match="same length"):
        spearman([1, 2, 3], [1, 2])


def test_spearman_interval_is_fisher_z_with_bonett_wright_variance():
    lo, hi = spearman_interval(0.5, 28)
    se = math.sqrt((1 + 0.25 / 2) / 25)
    assert lo == pytest.approx(math.tanh(math.atanh(0.5) - 1.959963984540054 * se))
    assert hi == pytest.approx(math.tanh(math.atanh(0.5) + 1.959963984540054 * se))
    assert lo == pytest.approx(0.1327, abs=1e-4) and hi == pytest.approx(0.7465, abs=1e-4)
    assert spearman_interval(None, 100) is None and spearman_interval(0.3, 3) is None


# Newcombe (1998), "Two-sided confidence intervals for the single proportion:
# comparison of seven methods", Statistics in Medicine 17:857-872, Table II,
# method 3 (Wilson score interval without continuity correction).
@pytest.mark.parametrize(
    ("successes", "n", "low", "high"),
    [(81, 263, 0.2553, 0.3662), (15, 148, 0.0624, 0.1605), (0, 20, 0.0, 0.1611), (1, 29, 0.0061, 0.1718)],
)
def test_wilson_matches_published_values(successes, n, low, high):
    got = wilson_interval(successes, n)
    assert got[0] == pytest.approx(low, abs=5e-5)
    assert got[1] == pytest.approx(high, abs=5e-5)


def test_wilson_edges():
    assert wilson_interval(0, 0) is None
    lo, hi = wilson_interval(10, 10)
    assert hi == pytest.approx(1.0) and lo == pytest.approx(0.7225, abs=1e-4)  # 10/10


def test_top_k_credit_shares_places_among_ties():
    assert top_k_credit([5, 4, 3, 2], 2).tolist() == [1, 1, 0, 0]
    # Three values tied at the cut-off for one remaining place: a third each.
    assert top_k_credit([5, 2, 2, 2, 1], 2).tolist() == pytest.approx([1, 1 / 3, 1 / 3, 1 / 3, 0])
    # Zeros never earn a place when only positive values count.
    assert top_k_credit([0, 3, 0, 0], 2, positive_only=True).tolist() == [0, 1, 0, 0]
    assert top_k_credit([0, 0], 1, positive_only=True).tolist() == [0, 0]


def test_top_decile_share_by_hand():
    # 11 steps: ceil(1.1) = 2 top steps (indices 0 and 1).
    predicted = [9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 0]
    observed = [10, 0, 5, 5, 0, 0, 0, 0, 0, 0, 5]
    assert top_decile_share(predicted, observed) == pytest.approx(10 / 25)
    # A map that is the same everywhere holds exactly its share of the places: 2 / 20.
    assert top_decile_share(np.zeros(20), np.arange(20.0)) == pytest.approx(0.1)
    # One positive step and 19 zeros tied for the second place (k = 2).
    observed = np.ones(20)
    observed[0] = 21.0
    predicted = np.zeros(20)
    predicted[0] = 1.0
    assert top_decile_share(predicted, observed) == pytest.approx((21 + 19 * (1 / 19)) / 40)
    assert top_decile_share([1, 2, 3], [0, 0, 0]) is None


def test_weighted_hit_share_with_equal_weights_is_wilson_on_the_count():
    hits = np.r_[np.ones(15), np.zeros(133)]
    out = weighted_hit_share(hits, np.full(148, 7.0))
    assert out["share"] == pytest.approx(15 / 148)
    assert out["effective_records"] == pytest.approx(148)
    assert (out["low"], out["high"]) == pytest.approx(wilson_interval(15, 148))


def test_one_huge_record_leaves_a_wide_interval():
    usd = np.r_[1e7, np.full(99, 10.0)]
    assert effective_count(usd) == pytest.approx((1e7 + 990) ** 2 / (1e14 + 9900))
    out = weighted_hit_share(np.r_[1.0, np.zeros(99)], usd)
    assert out["share"] > 0.99 and out["low"] < 0.5  # about one effective record
    assert weighted_hit_share([], []) is None
