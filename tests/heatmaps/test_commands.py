"""Management commands: setup_sample, refresh, import_series."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from heatmaps.models import Candle, Exchange, Market, OpenInterest

pytestmark = pytest.mark.django_db


def run(*args):
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_setup_sample_loads_both_markets_and_can_run_again():
    output = run("setup_sample")
    assert "[1/2] sample:BTCUSDT done: 1188 new" in output
    assert "Stored; shown at /markets/" in output  # the accuracy pages have their first reports
    assert "[2/2] sample:SOL-USDT-SWAP done: 14441 new" in output
    sol = Market.objects.get(symbol="SOL-USDT-SWAP")
    assert Candle.objects.filter(market=sol, interval="5m").count() == 7497
    again = run("setup_sample")
    assert "done: 0 new, 0 updated" in again
    assert Market.objects.count() == 2


def test_refresh_prints_a_line_per_market_and_rejects_unknown_names():
    run("setup_sample")
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
    output = run("import_series", "sample:BTCUSDT", "open_interest", str(path), "--interval", "15m")
    assert "2 new" in output
    assert list(OpenInterest.objects.order_by("time").values_list("open_interest", "open_interest_usd")) == [(70000.5, None), (70010.0, 4.4e9)]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("time,open,high,low,close\n", "line 1: missing column(s) volume"),
        ("time,open,high,low,close,volume,colour\n", "line 1: unknown column(s) colour"),
        ("time,open,high,low,close,volume\n2024-05-09T00:00:00Z,1,2,0.5,1.5,3\n2024-05-09T00:15:00,1,2,0.5,1.5,3\n", "line 3: time '2024-05-09T00:15:00' has no UTC offset"),
        ("time,open,high,low,close,volume\n2024-05-09T00:00:00Z,1,2,0.5,abc,3\n", "line 2: close 'abc' is not a number"),
        ("time,open,high,low,close,volume\n2024-05-09T00:00:00Z,1,2,0.5,1.5,3\n2024-05-09T00:15:00Z,1,0.4,0.5,1.5,3\n", "line 3 (2024-05-09T00:15:00+00:00): high 0.4 is below low 0.5"),
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
