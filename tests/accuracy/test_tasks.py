"""The Celery tasks and the beat entry that keep the accuracy pages current."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from accuracy import tasks
from accuracy.models import AccuracyReport
from liqsite.celery import _schedule_periodic_tasks
from markets.models import Exchange, Market
from tests.accuracy.factories import stored_market

pytestmark = pytest.mark.django_db


def test_backtest_market_stores_the_report():
    market = stored_market(40)
    summary = tasks.backtest_market.delay(market.pk).get()
    assert "SOL-USDT-SWAP 1h: 20 steps scored" in summary
    assert AccuracyReport.objects.filter(market=market).exists()


def test_backtest_market_reports_missing_markets_and_data_instead_of_failing():
    assert tasks.backtest_market.delay(987654).get() == "market 987654 no longer exists"
    exchange = Exchange.objects.create(plugin="sample")
    empty = Market.objects.create(exchange=exchange, symbol="BTCUSDT", intervals=["15m"])
    assert "no candles stored" in tasks.backtest_market.delay(empty.pk).get()


def test_due_markets_are_queued_once_a_day(monkeypatch):
    market = stored_market(40)
    queued = []
    monkeypatch.setattr(tasks.backtest_market, "apply_async", lambda args, expires: queued.append((args, expires)))
    assert tasks.backtest_due_markets() == 1
    assert queued == [((market.pk,), 86400 * 0.8)]
    tasks.backtest_market(market.pk)  # now it has a fresh report
    assert tasks.backtest_due_markets() == 0


def test_the_beat_entry_reads_its_interval_from_settings_and_expires_before_the_next_run(settings):
    settings.LIQSITE_ACCURACY_SECONDS = 7200
    sender = SimpleNamespace(conf=SimpleNamespace(beat_schedule=None))
    _schedule_periodic_tasks(sender)
    entry = sender.conf.beat_schedule["backtest-markets"]
    assert entry["task"] == "accuracy.tasks.backtest_due_markets"
    assert entry["schedule"] == 7200.0
    assert entry["options"]["expires"] < entry["schedule"]


def test_the_interval_setting_is_parsed_strictly(monkeypatch):
    import importlib

    import liqsite.settings as live
    from liqsite.env import EnvError

    try:
        monkeypatch.setenv("LIQSITE_ACCURACY_SECONDS", "60")
        with pytest.raises(EnvError, match="LIQSITE_ACCURACY_SECONDS: must be at least 600"):
            importlib.reload(live)
        monkeypatch.setenv("LIQSITE_ACCURACY_SECONDS", "43200")
        assert importlib.reload(live).LIQSITE_ACCURACY_SECONDS == 43200
    finally:
        monkeypatch.delenv("LIQSITE_ACCURACY_SECONDS", raising=False)
        importlib.reload(live)  # the module as the test run started it (Django's settings object is unaffected)


def test_backtest_market_also_stores_the_readings_record():
    from accuracy.models import ReadingsReport

    market = stored_market(120)
    summary = tasks.backtest_market.delay(market.pk).get()
    assert "fakeout: " in summary and "magnet: " in summary
    record = ReadingsReport.objects.get(market=market)
    assert record.interval == "1h" and set(record.results["readings"]) == {"fakeout", "volatility", "lean", "magnet"}
