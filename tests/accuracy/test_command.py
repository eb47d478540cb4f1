"""`manage.py backtest` on the bundled sample markets: the table, the progress bar, the stored reports, the pages."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accuracy.models import AccuracyReport
from markets.models import Market

pytestmark = pytest.mark.django_db


def run(*args):
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_backtest_on_the_sample_markets_prints_the_table_and_the_pages_show_it(client):
    call_command("setup_sample", "--single-exchange", stdout=StringIO())
    out, err = run("backtest")
    # The table: one line per variant and baseline, with the verdicts.
    assert "[1/2] sample:BTCUSDT at 15m" in out and "[2/2] sample:SOL-USDT-SWAP at 1h" in out
    keys = ("reference (site default)", "long_short", "taker", "mix_fitted", "intrabar", "ageing", "turnover", "continuous")
    for key in (*keys, "volatility", "swing", "bands"):
        assert key in out
    assert "Spearman [95 % CI]" in out and "top-decile steps" in out
    assert "mix_exchange: not scored, no leverage mix written down for this exchange" in out  # OKX recording
    assert "Variants that beat the reference and every baseline on every market backtested:" in out
    # The progress bar went to stderr and reached the end for both markets.
    assert "[1/2] sample:BTCUSDT [" in err and "[##############################]" in err
    assert err.count("baseline bands") == 2
    reports = {r.market.symbol: r for r in AccuracyReport.objects.select_related("market")}
    assert set(reports) == {"BTCUSDT", "SOL-USDT-SWAP"}
    assert reports["BTCUSDT"].interval == "15m" and reports["SOL-USDT-SWAP"].interval == "1h"
    assert reports["SOL-USDT-SWAP"].results["info"]["fine_candles"] == "5m"

    # The pages show what was stored.
    sol = Market.objects.get(symbol="SOL-USDT-SWAP")
    page = client.get(f"/markets/{sol.pk}/accuracy/").content.decode()
    ref = reports["SOL-USDT-SWAP"].results["rows"][0]
    assert ref["key"] == "reference"
    assert f"{ref['spearman']:+.3f}" in page
    assert "Range baseline" in page and "Swing baseline" in page and "Fixed bands" in page and "In plain words" in page
    summary = client.get("/accuracy/").content.decode()
    assert "BTCUSDT" in summary and "SOL-USDT-SWAP" in summary and f"{ref['spearman']:+.3f}" in summary


def test_no_store_prints_but_stores_nothing_and_unknown_markets_are_refused():
    call_command("setup_sample", "--single-exchange", stdout=StringIO())  # stores the first reports
    before = list(AccuracyReport.objects.values_list("pk", "computed_at"))
    out, err = run("backtest", "sample:BTCUSDT", "--no-store", "--no-progress")
    assert "reference (site default)" in out and "Stored" not in out
    assert err == ""
    assert list(AccuracyReport.objects.values_list("pk", "computed_at")) == before
    with pytest.raises(CommandError, match="no market 'sample:ETHUSDT'"):
        run("backtest", "sample:ETHUSDT")
    with pytest.raises(CommandError, match="--fit-share must lie strictly between 0 and 1"):
        run("backtest", "--fit-share", "1.5")


def test_a_market_without_enough_data_is_skipped_with_a_reason():
    from markets.models import Exchange

    exchange = Exchange.objects.create(plugin="sample")
    Market.objects.create(exchange=exchange, symbol="BTCUSDT", intervals=["15m"])
    with pytest.raises(CommandError, match="no market could be backtested"):
        run("backtest")


def test_a_coin_is_scored_summed_and_market_by_market_against_their_liquidations_together():
    import io

    import numpy as np

    from markets.csv_import import import_series_csv
    from tests.accuracy.factories import stored_market
    from tests.accuracy.helpers import sol_hourly

    inp = sol_hourly(72)
    fall = np.maximum(inp.close[:-1] - inp.low[1:], 0) * 1e4 + 50
    rise = np.maximum(inp.high[1:] - inp.close[:-1], 0) * 1e4 + 20
    lines = "".join(f"{int(t)},{f:.2f},{r:.2f}\n" for t, f, r in zip(inp.open_time[1:], fall, rise))
    for symbol, plugin in (("SOL-USDT-SWAP", "sample"), ("SOLUSDT", "sample_binance")):
        market = stored_market(72, symbol=symbol, plugin=plugin)
        import_series_csv(market, "liquidations", "1h", io.BytesIO(("time,long_usd,short_usd\n" + lines).encode()))
    out, _ = run("backtest", "--coin", "sol", "--no-progress")
    assert "SOL: 2 markets summed at 1h" in out
    assert "sample:SOL-USDT-SWAP alone, against the same liquidations:" in out
    assert "sample_binance:SOLUSDT alone" in out
    assert out.count("Spearman longs") == 3 and "Swing baseline" in out and "Turnover + entries spread + 125×" in out
    with pytest.raises(CommandError, match="no market of ETH"):
        run("backtest", "--coin", "ETH")
    with pytest.raises(CommandError, match="either markets or --coin"):
        run("backtest", "sample:SOLUSDT", "--coin", "SOL")
