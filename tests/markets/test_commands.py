"""Management commands: setup_sample, refresh, import_series."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from markets.models import Candle, Exchange, Market, OpenInterest

pytestmark = pytest.mark.django_db


def run(*args):
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_setup_sample_single_exchange_loads_both_markets_and_can_run_again():
    output = run("setup_sample", "--single-exchange")
    assert "[1/2] sample:BTCUSDT done: 1188 new" in output
    assert "Stored; shown at /markets/" in output  # the accuracy pages have their first reports
    assert "[2/2] sample:SOL-USDT-SWAP done: 14441 new" in output
    sol = Market.objects.get(symbol="SOL-USDT-SWAP")
    assert Candle.objects.filter(market=sol, interval="5m").count() == 7497
    again = run("setup_sample", "--single-exchange")
    assert "done: 0 new, 0 updated" in again
    assert Market.objects.count() == 2


def test_setup_sample_loads_btc_and_sol_on_three_exchanges_with_their_coin_grids():
    output = run("setup_sample")
    markets = Market.objects.select_related("exchange")
    assert sorted((m.exchange.plugin, m.symbol, m.base) for m in markets) == [
        ("sample_binance", "BTCUSDT", "BTC"),
        ("sample_binance", "SOLUSDT", "SOL"),
        ("sample_bybit", "BTCUSDT", "BTC"),
        ("sample_bybit", "SOLUSDT", "SOL"),
        ("sample_okx", "BTC-USDT-SWAP", "BTC"),
        ("sample_okx", "SOL-USDT-SWAP", "SOL"),
    ]
    # Every row of the recorded files is stored: Binance 483 candles + 483 readings, the others 1,439 + 1,440.
    assert "[1/6] sample_binance:BTCUSDT done: 966 new" in output
    assert "[3/6] sample_bybit:BTCUSDT done: 2879 new" in output and "[6/6] sample_okx:SOL-USDT-SWAP done: 2879 new" in output
    assert "[coin] BTC done: 3 stored" in output and "[coin] SOL done: 3 stored" in output
    # Each stand-in brings its exchange's formula; Binance its recorded tiers.
    binance_btc = markets.get(exchange__plugin="sample_binance", symbol="BTCUSDT")
    assert binance_btc.margin_tiers[0]["maintenance_margin_rate"] == 0.004
    assert markets.get(exchange__plugin="sample_bybit", symbol="BTCUSDT").margin_tiers == []
    from grids.models import GridSnapshot

    coin = GridSnapshot.objects.get(coin="BTC", interval="1h", long_share_method="fixed")
    assert {(m["exchange"], m["symbol"]) for m in coin.params["markets"]} == {
        ("sample_binance", "BTCUSDT"),
        ("sample_bybit", "BTCUSDT"),
        ("sample_okx", "BTC-USDT-SWAP"),
    }
    # All three exchanges at the latest step, so the bands and squeeze are read on the sum of three.
    assert coin.end.isoformat() == "2026-03-05T22:00:00+00:00"
    assert "done: 0 new, 0 updated" in run("setup_sample")


def test_setup_sample_switches_between_the_samples_so_a_coin_never_mixes_them():
    run("setup_sample", "--single-exchange")
    output = run("setup_sample")
    assert "Disabled exchange Sample data (offline) (the other sample; its data stay)" in output
    assert not Exchange.objects.get(plugin="sample").enabled
    assert Market.objects.filter(exchange__plugin="sample").count() == 2  # kept, not deleted
    from grids.targets import coin_markets

    assert {m.exchange.plugin for m in coin_markets("BTC")} == {"sample_binance", "sample_bybit", "sample_okx"}
    # The single-exchange sample's coin grids (15m, 5m) summed markets that are no longer part of the coin:
    # the coin page showed them as its finest grid, with June 2026 data and the disabled exchange listed.
    from grids.models import GridSnapshot

    assert set(GridSnapshot.objects.filter(coin__in=("BTC", "SOL")).values_list("interval", flat=True)) == {"1h"}
    page = Client().get(reverse("heatmaps:coin_heatmap", args=["SOL"])).content.decode()
    assert "1h steps" in page and "Sample data (offline)" not in page
    back = run("setup_sample", "--single-exchange")
    assert back.count("Disabled exchange") == 3
    assert {m.exchange.plugin for m in coin_markets("BTC")} == {"sample"}


def test_refresh_prints_a_line_per_market_and_rejects_unknown_names():
    run("setup_sample", "--single-exchange")
    output = run("refresh", "sample:BTCUSDT")
    assert "[1/1] sample:BTCUSDT done" in output
    with pytest.raises(CommandError, match="no market 'sample:ETHUSDT'"):
        run("refresh", "sample:ETHUSDT")


@pytest.fixture
def btc():
    exchange = Exchange.objects.create(plugin="sample")
    return Market.objects.create(exchange=exchange, symbol="BTCUSDT", intervals=["15m"])


def test_import_series_reads_standard_columns(btc, tmp_path):
    path = tmp_path / "oi.csv"
    path.write_text("time,open_interest,open_interest_usd\n2024-05-09T00:00:00Z,70000.5,\n1715213700000,70010,4.4e9\n")
    output = run("import_series", "sample:BTCUSDT", "open_interest", str(path), "--interval", "15m", "--oi-stamp", "open")
    assert "2 new" in output
    assert list(OpenInterest.objects.order_by("time").values_list("open_interest", "open_interest_usd")) == [
        (70000.5, None),
        (70010.0, 4.4e9),
    ]


def test_import_series_needs_the_open_interest_stamp_and_stores_close_stamps_one_step_later(btc, tmp_path):
    path = tmp_path / "oi.csv"
    path.write_text("time,open_interest\n2024-05-09T00:00:00Z,70000\n2024-05-09T00:15:00Z,70010\n")
    with pytest.raises(CommandError, match="--oi-stamp is required for open_interest"):
        run("import_series", "sample:BTCUSDT", "open_interest", str(path), "--interval", "15m")
    assert not OpenInterest.objects.exists()
    run("import_series", "sample:BTCUSDT", "open_interest", str(path), "--interval", "15m", "--oi-stamp", "close")
    # Taken at the close of the 15m steps starting at 00:00 and 00:15: stored at 00:15 and 00:30.
    stored = [t.isoformat() for t in OpenInterest.objects.order_by("time").values_list("time", flat=True)]
    assert stored == ["2024-05-09T00:15:00+00:00", "2024-05-09T00:30:00+00:00"]
    candles = tmp_path / "candles.csv"
    candles.write_text("time,open,high,low,close,volume\n2024-05-09T00:00:00Z,1,2,0.5,1.5,3\n")
    with pytest.raises(CommandError, match="--oi-stamp applies to open_interest only"):
        run("import_series", "sample:BTCUSDT", "candles", str(candles), "--interval", "15m", "--oi-stamp", "open")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("time,open,high,low,close\n", "line 1: missing column(s) volume"),
        ("time,open,high,low,close,volume,colour\n", "line 1: unknown column(s) colour"),
        (
            "time,open,high,low,close,volume\n2024-05-09T00:00:00Z,1,2,0.5,1.5,3\n2024-05-09T00:15:00,1,2,0.5,1.5,3\n",
            "line 3: time '2024-05-09T00:15:00' has no UTC offset",
        ),
        ("time,open,high,low,close,volume\n2024-05-09T00:00:00Z,1,2,0.5,abc,3\n", "line 2: close 'abc' is not a number"),
        (
            "time,open,high,low,close,volume\n2024-05-09T00:00:00Z,1,2,0.5,1.5,3\n2024-05-09T00:15:00Z,1,0.4,0.5,1.5,3\n",
            "line 3 (2024-05-09T00:15:00+00:00): high 0.4 is below low 0.5",
        ),
    ],
)
def test_import_series_errors_name_the_line_and_write_nothing(btc, tmp_path, text, message):
    path = tmp_path / "candles.csv"
    path.write_text(text)
    with pytest.raises(CommandError) as caught:
        run("import_series", "sample:BTCUSDT", "candles", str(path), "--interval", "15m")
    assert message in str(caught.value)
    assert Candle.objects.count() == 0


def test_import_series_needs_an_interval_and_a_known_market(btc, tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("time,rate\n")
    with pytest.raises(CommandError, match="--interval is required"):
        run("import_series", "sample:BTCUSDT", "candles", str(path))
    with pytest.raises(CommandError, match="no market 'sample:NOPE'"):
        run("import_series", "sample:NOPE", "funding", str(path))


def test_refresh_with_new_rows_gets_them_their_grids(django_capture_on_commit_callbacks):
    # The report: rows stored by `manage.py refresh` were never computed (only the periodic task queued
    # the computation), and the next periodic refresh found nothing new, so the map stayed behind for good.
    from grids.models import GridSnapshot

    run("setup_sample", "--single-exchange")
    btc = Market.objects.get(exchange__plugin="sample", symbol="BTCUSDT")

    def grid_end():
        return GridSnapshot.objects.get(market=btc, interval="15m", long_share_method="fixed").end

    complete = grid_end()
    # The last two hours are not stored yet (the exchange had not published them), and the grid ends earlier.
    Candle.objects.filter(market=btc, time__gt=complete - timedelta(hours=2)).delete()
    OpenInterest.objects.filter(market=btc, time__gt=complete - timedelta(hours=2)).delete()
    run("compute", "sample:BTCUSDT")
    assert grid_end() < complete

    with django_capture_on_commit_callbacks(execute=True):
        output = run("refresh", "sample:BTCUSDT")
    assert "grids: queued for computing" in output
    assert grid_end() == complete

    with django_capture_on_commit_callbacks(execute=True) as queued:
        output = run("refresh", "sample:BTCUSDT", "--no-compute")
    assert "grids:" not in output and queued == []
