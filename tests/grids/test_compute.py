"""Grids are computed from stored series, stored once per input, and never lost on failure."""

import io
from unittest import mock

import numpy as np
import pytest

from grids.computation import STORED_STEPS, grids_compute
from grids.inputs import market_steps
from grids.models import GridSnapshot
from grids.signals import grids_stored
from grids.targets import Target
from liqengine import default_bin_edges, liquidation_grid
from markets.models import Candle, Exchange, LongShortRatio, Market, OpenInterest
from markets.refresh import market_refresh
from markets.tasks import refresh_market

pytestmark = pytest.mark.django_db


@pytest.fixture
def btc():
    market = Market.objects.create(
        exchange=Exchange.objects.create(plugin="sample"),
        symbol="BTCUSDT",
        base="BTC",
        intervals=["15m"],
    )
    market_refresh(market.pk)
    market.refresh_from_db()
    return market


def test_each_long_share_method_is_stored_once_and_recomputing_writes_nothing(btc):
    outcomes = grids_compute(Target(market_id=btc.pk))
    assert [(o.interval, o.method, o.status) for o in outcomes] == [
        ("15m", "fixed", "stored"),
        ("15m", "long_short", "stored"),
        ("15m", "taker", "stored"),
    ]
    before = {s.pk: (s.computed_at, s.input_digest) for s in GridSnapshot.objects.all()}
    again = grids_compute(Target(market_id=btc.pk))
    assert {o.status for o in again} == {"unchanged"}
    assert {s.pk: (s.computed_at, s.input_digest) for s in GridSnapshot.objects.all()} == before


def test_the_stored_grid_is_the_engine_run_on_the_stored_series(btc):
    grids_compute(Target(market_id=btc.pk))
    snapshot = GridSnapshot.objects.get(market=btc, interval="15m", long_share_method="fixed")
    arrays = snapshot.load_arrays()
    steps = market_steps(btc, "15m")
    assert len(steps) < STORED_STEPS  # the whole history is shown, so there is no warm-up to drop
    edges = default_bin_edges(steps.low, steps.high, 400)
    np.testing.assert_array_equal(arrays["bin_edges"], edges)
    np.testing.assert_array_equal(arrays["times"], steps.open_time)
    # Binance's first tier (0.4 %, no maintenance amount) is the reference's default mmr.
    expected = liquidation_grid(steps.high, steps.low, steps.close, steps.open_interest, edges)
    for name in ("long_grid", "short_grid", "realized_long", "realized_short", "pending_long", "pending_short"):
        want = getattr(expected, name)
        np.testing.assert_allclose(arrays[name], want, rtol=0, atol=1e-6 * np.abs(want).max(), err_msg=name)
    assert snapshot.steps == len(steps) and snapshot.bins == 400
    assert snapshot.params["markets"][0]["tiers"][0]["maintenance_margin_rate"] == 0.004


def test_the_analysis_reads_the_last_row(btc):
    grids_compute(Target(market_id=btc.pk))
    analysis = GridSnapshot.objects.get(market=btc, interval="15m", long_share_method="fixed").analysis
    assert analysis["as_of"] == "2024-05-11T12:15:00+00:00"  # the last step whose OI reading is at most 30 min old
    bands = analysis["bands"]
    assert bands and [b["usd"] for b in bands] == sorted((b["usd"] for b in bands), reverse=True)
    for band in bands:
        assert band["side"] == ("above" if band["price"] > analysis["close"] else "below")
        assert band["low"] < band["price"] < band["high"]
        assert band["since"] <= analysis["as_of"]
        assert band["verdict"] in ("strong build-up", "build-up, not accelerating", "cool-down", "unconfirmed")
    down = [analysis["squeeze"]["down"][p] for p in ("1", "2", "5", "10")]
    up = [analysis["squeeze"]["up"][p] for p in ("1", "2", "5", "10")]
    assert down == sorted(down) and up == sorted(up)


def test_new_data_recomputes_and_a_failure_keeps_the_previous_grid(btc):
    grids_compute(Target(market_id=btc.pk))
    snapshot = GridSnapshot.objects.get(market=btc, interval="15m", long_share_method="fixed")
    # The newest computed step was still open when fetched: its close moved on.
    last = Candle.objects.get(market=btc, interval="15m", time="2024-05-11T12:15:00Z")
    Candle.objects.filter(pk=last.pk).update(close=(last.high + last.low) / 2)
    with mock.patch("grids.computation.window_grid", side_effect=ValueError("engine refused the input")):
        with pytest.raises(ValueError, match="engine refused"):
            grids_compute(Target(market_id=btc.pk))
    kept = GridSnapshot.objects.get(pk=snapshot.pk)
    assert (kept.input_digest, kept.computed_at, bytes(kept.arrays)) == (
        snapshot.input_digest,
        snapshot.computed_at,
        bytes(snapshot.arrays),
    )
    outcomes = grids_compute(Target(market_id=btc.pk))
    assert {o.status for o in outcomes} == {"stored"}
    assert GridSnapshot.objects.get(pk=snapshot.pk).input_digest != snapshot.input_digest


def test_a_market_without_open_interest_is_skipped_with_the_reason(btc):
    OpenInterest.objects.filter(market=btc).delete()
    outcomes = grids_compute(Target(market_id=btc.pk))
    assert {(o.status, o.detail) for o in outcomes} == {("skipped", "fewer than 2 steps with open interest")}
    assert not GridSnapshot.objects.exists()


def test_a_coin_on_one_market_copies_that_markets_grids_instead_of_computing_them(btc):
    grids_compute(Target(market_id=btc.pk))
    with mock.patch("grids.computation.window_grid", side_effect=AssertionError("computed again")):
        outcomes = grids_compute(Target(coin="BTC"))
    assert {o.status for o in outcomes} == {"stored"} and all("copied" in o.detail for o in outcomes)
    for method in ("fixed", "long_short", "taker"):
        market_grid = GridSnapshot.objects.get(market=btc, interval="15m", long_share_method=method)
        coin_grid = GridSnapshot.objects.get(coin="BTC", interval="15m", long_share_method=method)
        assert coin_grid.input_digest == market_grid.input_digest
        assert bytes(coin_grid.arrays) == bytes(market_grid.arrays) and coin_grid.analysis == market_grid.analysis
    assert {o.status for o in grids_compute(Target(coin="BTC"))} == {"unchanged"}


def test_a_coin_copy_follows_its_market_when_the_market_changes(btc):
    grids_compute(Target(market_id=btc.pk))
    grids_compute(Target(coin="BTC"))
    before = GridSnapshot.objects.get(coin="BTC", interval="15m", long_share_method="fixed")
    last = Candle.objects.get(market=btc, interval="15m", time="2024-05-11T12:15:00Z")
    Candle.objects.filter(pk=last.pk).update(close=(last.high + last.low) / 2)
    grids_compute(Target(market_id=btc.pk))
    with mock.patch("grids.computation.window_grid", side_effect=AssertionError("computed again")):
        grids_compute(Target(coin="BTC"))
    market_grid = GridSnapshot.objects.get(market=btc, interval="15m", long_share_method="fixed")
    coin_grid = GridSnapshot.objects.get(coin="BTC", interval="15m", long_share_method="fixed")
    assert coin_grid.pk == before.pk and coin_grid.computed_at > before.computed_at  # the same row, rewritten
    assert coin_grid.input_digest == market_grid.input_digest != before.input_digest
    assert bytes(coin_grid.arrays) == bytes(market_grid.arrays) != bytes(before.arrays)
    assert bytes(coin_grid.layers) == bytes(market_grid.layers) and coin_grid.analysis == market_grid.analysis
    assert (coin_grid.start, coin_grid.end, coin_grid.steps) == (market_grid.start, market_grid.end, market_grid.steps)


def test_a_coin_aggregate_sums_its_markets(btc):
    # A second exchange listing the same recorded data: the aggregate must be exactly twice one market.
    twin = Market.objects.create(exchange=Exchange.objects.create(plugin="twin"), symbol="BTCUSDT", base="BTC", intervals=["15m"])
    for model in (Candle, OpenInterest, LongShortRatio):
        model.objects.bulk_create(
            [
                model(
                    **{
                        **{f.attname: getattr(row, f.attname) for f in model._meta.concrete_fields if f.attname != "id"},
                        "market_id": twin.pk,
                    }
                )
                for row in model.objects.filter(market=btc)
            ]
        )
    Exchange.objects.filter(plugin="twin").update(enabled=True)
    grids_compute(Target(market_id=btc.pk))
    outcomes = grids_compute(Target(coin="BTC"))
    assert {o.status for o in outcomes} == {"stored"}
    single = GridSnapshot.objects.get(market=btc, interval="15m", long_share_method="fixed").load_arrays()
    both = GridSnapshot.objects.get(coin="BTC", interval="15m", long_share_method="fixed")
    arrays = both.load_arrays()
    np.testing.assert_allclose(arrays["long_grid"], 2 * single["long_grid"], rtol=1e-5, atol=1e-3)
    np.testing.assert_allclose(arrays["open_interest"], 2 * single["open_interest"])
    assert [m["exchange"] for m in both.params["markets"]] == ["sample", "twin"]


def test_a_refresh_task_computes_and_announces_new_grids(btc, django_capture_on_commit_callbacks):
    received = []
    grids_stored.connect(lambda **kwargs: received.append(kwargs["target"].key), weak=False, dispatch_uid="test")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            refresh_market.delay(btc.pk)
    finally:
        grids_stored.disconnect(dispatch_uid="test")
    assert GridSnapshot.objects.filter(market=btc).count() == 3
    assert GridSnapshot.objects.filter(coin="BTC").count() == 3
    assert f"m:{btc.pk}" in received and "c:BTC" in received


def test_every_path_that_computes_announces_each_target_once(btc, django_capture_on_commit_callbacks):
    """The command, not only the task, tells the listeners (alert rules), even when nothing changed."""
    from django.core.management import call_command

    received = []
    grids_stored.connect(
        lambda **kwargs: received.append((kwargs["target"].key, kwargs["stored"])), weak=False, dispatch_uid="test"
    )
    try:
        with django_capture_on_commit_callbacks(execute=True):
            call_command("compute", stdout=io.StringIO())
        first = list(received)
        received.clear()
        with django_capture_on_commit_callbacks(execute=True):
            call_command("compute", stdout=io.StringIO())  # same data: nothing stored, the grids are current all the same
        again = list(received)
        received.clear()
        with django_capture_on_commit_callbacks(execute=True):
            grids_compute(Target(market_id=btc.pk))  # a direct call (admin, shell) announces too
    finally:
        grids_stored.disconnect(dispatch_uid="test")
    assert first == [(f"m:{btc.pk}", 3), ("c:BTC", 3)]
    assert again == [(f"m:{btc.pk}", 0), ("c:BTC", 0)]
    assert received == [(f"m:{btc.pk}", 0)]


def test_a_target_with_no_grid_to_compute_announces_nothing(db, django_capture_on_commit_callbacks):
    empty = Market.objects.create(exchange=Exchange.objects.create(plugin="sample"), symbol="ETHUSDT", intervals=["15m"])
    received = []
    grids_stored.connect(lambda **kwargs: received.append(kwargs), weak=False, dispatch_uid="test")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            outcomes = grids_compute(Target(market_id=empty.pk))
    finally:
        grids_stored.disconnect(dispatch_uid="test")
    assert {o.status for o in outcomes} == {"skipped"} and received == []


def test_each_exchange_brings_its_liquidation_formula(btc):
    from grids.computation import liquidation_formula

    bybit = Market(exchange=Exchange(plugin="bybit"), symbol="BTCUSDT", contract_type="linear")
    bybit_inverse = Market(exchange=Exchange(plugin="bybit"), symbol="BTCUSD", contract_type="inverse")
    assert (liquidation_formula(btc).contract, liquidation_formula(btc).maintenance_basis) == ("linear", "liquidation")
    assert liquidation_formula(bybit).maintenance_basis == "entry"
    assert (liquidation_formula(bybit_inverse).contract, liquidation_formula(bybit_inverse).maintenance_basis) == (
        "inverse",
        "liquidation",
    )


def test_candles_and_bucket_parts_are_stored_beside_the_grid(btc):
    from grids.codec import unpack_arrays

    grids_compute(Target(market_id=btc.pk))
    snapshot = GridSnapshot.objects.get(market=btc, interval="15m", long_share_method="fixed")
    arrays = snapshot.load_arrays()
    steps = market_steps(btc, "15m")
    for name in ("open", "high", "low", "close"):
        np.testing.assert_array_equal(arrays[name], getattr(steps, name), err_msg=name)
    assert list(arrays["layer_market_id"]) == [btc.pk] * 5
    assert list(arrays["layer_leverage"]) == [5.0, 10.0, 25.0, 50.0, 100.0]
    layers = unpack_arrays(snapshot.layers)
    assert layers["layer_long_grid"].shape == (5, snapshot.steps, 400)
    for name in ("long_grid", "short_grid", "realized_long", "realized_short"):
        total = arrays[name].astype(np.float64)
        parts = layers[f"layer_{name}"].astype(np.float64).sum(axis=0)
        np.testing.assert_allclose(parts, total, rtol=1e-5, atol=1e-5 * total.max(), err_msg=name)


def test_the_compute_task_retries_when_the_database_is_busy(btc):
    from unittest import mock

    from celery.exceptions import Retry
    from django.db import OperationalError

    from grids.tasks import compute_grids

    with (
        mock.patch("grids.tasks.grids_compute", side_effect=OperationalError("database is locked")),
        mock.patch.object(compute_grids, "retry", side_effect=Retry("retrying")) as retry,
    ):
        with pytest.raises(Retry):
            compute_grids.apply(args=(Target(market_id=btc.pk).key,), throw=True)
    assert isinstance(retry.call_args.kwargs["exc"], OperationalError)


def test_a_refresh_that_brings_nothing_new_does_not_recompute(btc, django_capture_on_commit_callbacks):
    from unittest import mock

    with django_capture_on_commit_callbacks(execute=True):
        refresh_market.delay(btc.pk)  # no grid yet: computed
    assert GridSnapshot.objects.filter(market=btc).count() == 3
    with mock.patch("grids.tasks.compute_grids.delay_on_commit") as compute:
        with django_capture_on_commit_callbacks(execute=True):
            refresh_market.delay(btc.pk)  # the recorded data again: nothing new
    compute.assert_not_called()
    last = Candle.objects.filter(market=btc, interval="15m").latest("time")
    Candle.objects.filter(pk=last.pk).delete()  # a step the exchange will send again
    with mock.patch("grids.tasks.compute_grids.delay_on_commit") as compute:
        with django_capture_on_commit_callbacks(execute=True):
            refresh_market.delay(btc.pk)
    compute.assert_called_once_with(Target(market_id=btc.pk).key)


def test_a_method_with_no_data_of_its_own_stores_the_fixed_grid_without_running_the_engine_again(btc):
    Candle.objects.filter(market=btc).update(taker_buy_volume=None)  # as Bybit's candles: no taker volume
    outcomes = {o.method: o for o in grids_compute(Target(market_id=btc.pk))}
    assert outcomes["taker"].detail == "the same long share as fixed at every step: its grid"
    assert outcomes["long_short"].detail.endswith("bins")  # the ratio readings make it a grid of its own
    reused = GridSnapshot.objects.get(market=btc, long_share_method="taker").load_arrays()
    # Computed for real, the taker grid is that same grid.
    GridSnapshot.objects.all().delete()
    with mock.patch("grids.computation._same_engine_inputs", return_value=None):
        outcomes = {o.method: o for o in grids_compute(Target(market_id=btc.pk))}
    assert outcomes["taker"].detail.endswith("bins")
    engine = GridSnapshot.objects.get(market=btc, long_share_method="taker")
    for name, values in engine.load_arrays().items():
        np.testing.assert_array_equal(reused[name], values, err_msg=name)
    assert engine.params["long_share_method"] == "taker"


def test_a_coin_copy_created_by_another_worker_meanwhile_is_copied_over(btc):
    """The UPDATE found no coin row, then another worker inserted one (PostgreSQL): the copy lands on that row."""
    from django.db.models import QuerySet

    grids_compute(Target(market_id=btc.pk))
    grids_compute(Target(coin="BTC"))  # the rows "the other worker" wrote
    GridSnapshot.objects.filter(coin="BTC").update(input_digest="written by the other worker")
    last = Candle.objects.get(market=btc, interval="15m", time="2024-05-11T12:15:00Z")
    Candle.objects.filter(pk=last.pk).update(close=(last.high + last.low) / 2)
    grids_compute(Target(market_id=btc.pk))
    real_update, copies, missed = QuerySet.update, [], []

    def update(queryset, **values):
        # Each coin copy's first UPDATE runs before the other worker's row exists: it matches nothing;
        # the one after the collision is real.
        if queryset.model is GridSnapshot and "arrays" in values:
            copies.append(values)
            if len(copies) % 2:
                missed.append(values)
                return 0
        return real_update(queryset, **values)

    with mock.patch.object(QuerySet, "update", update):
        outcomes = grids_compute(Target(coin="BTC"))
    assert len(missed) == 3
    assert {o.status for o in outcomes} == {"stored"} and all("copied" in o.detail for o in outcomes)
    for method in ("fixed", "long_short", "taker"):
        market_grid = GridSnapshot.objects.get(market=btc, interval="15m", long_share_method=method)
        coin_grid = GridSnapshot.objects.get(coin="BTC", interval="15m", long_share_method=method)
        assert coin_grid.input_digest == market_grid.input_digest
        assert bytes(coin_grid.arrays) == bytes(market_grid.arrays)
