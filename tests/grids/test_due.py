"""A coin's aggregate is queued by the compute that finishes its last due market, and never held back for good."""

from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from grids.due import coin_due_count, due_at_most, market_due_clear, market_due_mark, market_due_read
from grids.models import GridSnapshot
from grids.targets import Target
from grids.tasks import compute_grids
from markets.models import Candle, Exchange, Market
from markets.refresh import market_refresh
from markets.tasks import refresh_market

pytestmark = pytest.mark.django_db


@pytest.fixture
def btc():
    exchange = Exchange.objects.create(plugin="sample")
    market = Market.objects.create(exchange=exchange, symbol="BTCUSDT", base="BTC", intervals=["15m"])
    market_refresh(market.pk)
    market.refresh_from_db()
    return market


@pytest.fixture
def other(btc):
    """A second BTC market (no data of its own: its compute stores nothing)."""
    return Market.objects.create(exchange=btc.exchange, symbol="BTCUSD_PERP", base="BTC", intervals=["15m"])


def test_the_markets_of_one_cycle_queue_one_aggregate_of_their_coin(btc, other, django_capture_on_commit_callbacks):
    market_due_mark(market_id=btc.pk)
    market_due_mark(market_id=other.pk)
    with mock.patch.object(compute_grids, "apply_async") as queued, django_capture_on_commit_callbacks(execute=True):
        first = compute_grids.apply(args=(Target(market_id=btc.pk).key,)).get()
    assert "BTC aggregate waits for 1 market(s)" in first
    queued.assert_not_called()  # the other market's new series is not in yet
    with mock.patch.object(compute_grids, "apply_async") as queued, django_capture_on_commit_callbacks(execute=True):
        last = compute_grids.apply(args=(Target(market_id=other.pk).key,)).get()
    assert "BTC aggregate queued" in last
    assert queued.call_count == 1 and queued.call_args.args[0] == ("c:BTC",)
    assert not Market.objects.filter(grids_due_since__isnull=False).exists()


def test_a_market_refreshed_again_while_computing_stays_due(btc):
    market_due_mark(market_id=btc.pk)
    seen = market_due_read(market_id=btc.pk)
    market_due_mark(market_id=btc.pk)  # a refresh during the compute: newer series than the compute read
    market_due_clear(market_id=btc.pk, seen=seen)
    assert coin_due_count(coin="BTC") == 1
    market_due_clear(market_id=btc.pk, seen=market_due_read(market_id=btc.pk))  # the compute that refresh queued
    assert coin_due_count(coin="BTC") == 0


def test_a_lost_compute_holds_the_coin_back_only_for_a_while(btc, other, settings):
    settings.LIQSITE_REFRESH_SECONDS = 600
    assert due_at_most() == timedelta(minutes=30)  # three cycles
    Market.objects.filter(pk=other.pk).update(grids_due_since=timezone.now() - due_at_most() + timedelta(seconds=5))
    assert coin_due_count(coin="BTC") == 1
    Market.objects.filter(pk=other.pk).update(grids_due_since=timezone.now() - due_at_most() - timedelta(seconds=1))
    assert coin_due_count(coin="BTC") == 0


def test_a_failed_compute_of_the_last_market_still_queues_the_aggregate(btc, django_capture_on_commit_callbacks):
    market_due_mark(market_id=btc.pk)
    with (
        mock.patch("grids.tasks.grids_compute", side_effect=ValueError("bad series")),
        mock.patch.object(compute_grids, "apply_async") as queued,
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(ValueError),
    ):
        compute_grids.apply(args=(Target(market_id=btc.pk).key,), throw=True)
    assert coin_due_count(coin="BTC") == 0
    assert queued.call_count == 1 and queued.call_args.args[0] == ("c:BTC",)


def test_a_market_on_a_disabled_exchange_does_not_hold_its_coin(btc, other):
    market_due_mark(market_id=other.pk)
    assert coin_due_count(coin="BTC") == 1
    Exchange.objects.filter(pk=other.exchange_id).update(enabled=False)
    assert coin_due_count(coin="BTC") == 0  # the aggregate sums markets of enabled exchanges only


def test_only_a_changed_refresh_marks_its_market_due(btc, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        refresh_market.delay(btc.pk)  # no grid yet: computed, and the mark cleared by that compute
    btc.refresh_from_db()
    assert btc.grids_due_since is None and GridSnapshot.objects.filter(market=btc).exists()
    with mock.patch("grids.tasks.compute_grids.delay_on_commit"), django_capture_on_commit_callbacks(execute=True):
        refresh_market.delay(btc.pk)  # nothing new
    btc.refresh_from_db()
    assert btc.grids_due_since is None
    Candle.objects.filter(pk=Candle.objects.filter(market=btc, interval="15m").latest("time").pk).delete()
    with mock.patch("grids.tasks.compute_grids.delay_on_commit"), django_capture_on_commit_callbacks(execute=True):
        refresh_market.delay(btc.pk)  # a step sent again: changed, its compute still to run
    btc.refresh_from_db()
    assert btc.grids_due_since is not None
