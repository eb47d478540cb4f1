"""import_series … liquidations: per-step totals or single liquidations, as strict as every other import (issue 12)."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from io import StringIO

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from markets import liquidation_ingest
from markets.csv_import import CsvError, import_series_csv
from markets.ingest import IngestError
from markets.liquidation_selectors import covered_mask, liquidation_totals
from markets.models import Exchange, Liquidation, LiquidationImport, LiquidationTotal, Market

pytestmark = pytest.mark.django_db

HOUR = 3_600_000
T0 = 1767225600000  # 2026-01-01 00:00 UTC
TOTALS = "time,long_usd,short_usd\n"
RECORDS = "time,side,price,quantity,usd\n"


@pytest.fixture
def btc():
    exchange = Exchange.objects.create(plugin="sample")
    return Market.objects.create(exchange=exchange, symbol="BTCUSDT", intervals=["1h"])


def run(tmp_path, text: str, *args: str) -> str:
    path = tmp_path / "liquidations.csv"
    path.write_bytes(text.encode())
    out = StringIO()
    call_command("import_series", "sample:BTCUSDT", "liquidations", str(path), *args, stdout=out)
    return out.getvalue()


def totals(n: int, start: int = T0) -> str:
    return "".join(f"{start + i * HOUR},{1000.0 * (i + 1)},{50.0 * i}\n" for i in range(n))


def stored_totals():
    return list(LiquidationTotal.objects.order_by("time").values_list("interval", "time", "long_usd", "short_usd"))


# -- per-step totals ---------------------------------------------------------------


def test_totals_are_stored_per_step_and_a_second_import_changes_nothing(btc, tmp_path):
    out = run(tmp_path, TOTALS + totals(3), "--interval", "1h")
    assert "3 new, 0 updated, 0 unchanged rows" in out
    rows = stored_totals()
    assert rows[0] == ("1h", datetime(2026, 1, 1, tzinfo=UTC), 1000.0, 0.0)
    assert [r[2:] for r in rows] == [(1000.0, 0.0), (2000.0, 50.0), (3000.0, 100.0)]
    again = run(tmp_path, TOTALS + totals(3), "--interval", "1h")
    assert "0 new, 0 updated, 3 unchanged rows" in again
    # A corrected export updates the step it corrects.
    fixed = TOTALS + totals(1) + f"{T0 + HOUR},2500.5,50\n" + f"{T0 + 2 * HOUR},3000,100\n"
    assert "0 new, 1 updated" in run(tmp_path, fixed, "--interval", "1h")
    assert stored_totals()[1][2] == 2500.5


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (TOTALS + totals(2) + f"{T0 + 2 * HOUR},-5,0\n", "line 4 (2026-01-01T02:00:00+00:00): long_usd -5.0 is negative"),
        (TOTALS + f"{T0 + 60_000},1,1\n", "line 2 (2026-01-01T00:01:00+00:00): time is not on a 1h boundary"),
        (TOTALS + totals(2) + f"{T0 + HOUR},1,1\n", "line 4 (2026-01-01T01:00:00+00:00): time is not after the previous row"),
        (TOTALS + f"{T0},1e30,0\n", "liquidations above 1e+18 USD in one step"),
        (TOTALS + totals(1) + f"{T0 + HOUR},12oo,5\n", "line 3: long_usd '12oo' is not a number"),
        (TOTALS + f"{T0},1\n", "line 2: 2 fields but the header has 3"),
        (
            "time,long,short\n" + totals(1),
            "line 1: missing column(s) long_usd, short_usd; expected time,long_usd,short_usd "
            "(or time,side,price,quantity,usd for single liquidations)",
        ),
    ],
)
def test_a_malformed_totals_file_is_refused_whole_naming_the_line(btc, tmp_path, text, message):
    LiquidationTotal.objects.create(market=btc, interval="1h", time=datetime(2026, 1, 1, tzinfo=UTC), long_usd=7, short_usd=7)
    before = stored_totals()
    with pytest.raises(CommandError) as caught:
        run(tmp_path, text, "--interval", "1h")
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)
    assert stored_totals() == before


def test_totals_need_their_interval_and_no_oi_stamp(btc):
    with pytest.raises(CsvError, match="per-step liquidation totals need the interval"):
        import_series_csv(btc, "liquidations", None, io.BytesIO((TOTALS + totals(1)).encode()))
    with pytest.raises(CsvError, match="oi_stamp applies to open interest only"):
        import_series_csv(btc, "liquidations", "1h", io.BytesIO((TOTALS + totals(1)).encode()), oi_stamp="open")
    with pytest.raises(CsvError, match="a covered span applies to files of single liquidations only"):
        import_series_csv(
            btc, "liquidations", "1h", io.BytesIO((TOTALS + totals(1)).encode()), covers=(datetime(2026, 1, 1, tzinfo=UTC), None)
        )
    assert not LiquidationTotal.objects.exists()


def test_a_bad_totals_line_after_written_batches_rolls_them_back(btc):
    text = TOTALS + totals(10) + f"{T0 + 10 * HOUR},oops,1\n"
    with pytest.raises(CsvError, match="^line 12: long_usd 'oops' is not a number"):
        import_series_csv(btc, "liquidations", "1h", io.BytesIO(text.encode()), batch_rows=3)
    assert not LiquidationTotal.objects.exists()


def test_totals_are_read_per_step_and_missing_steps_stay_unknown(btc):
    import_series_csv(btc, "liquidations", "1h", io.BytesIO((TOTALS + totals(2) + totals(1, T0 + 3 * HOUR)).encode()))
    open_time = T0 + HOUR * np.arange(-1, 5, dtype=np.int64)
    long_usd, short_usd = liquidation_totals(market=btc, interval="1h", open_time=open_time)
    assert np.isnan(long_usd[0]) and np.isnan(long_usd[3]) and np.isnan(long_usd[5])
    assert long_usd[[1, 2, 4]].tolist() == [1000.0, 2000.0, 1000.0]
    assert short_usd[[1, 2, 4]].tolist() == [0.0, 50.0, 0.0]
    # Another interval's totals are not this interval's.
    assert np.isnan(liquidation_totals(market=btc, interval="15m", open_time=open_time)[0]).all()


# -- single liquidations ------------------------------------------------------------


def records() -> str:
    return (
        RECORDS
        + f"{T0 + 60_000},long,90000,0.5,45000\n"
        + f"{T0 + 60_000},SHORT,90100,0.1,\n"  # same time, upper case, USD left out
        + f"{T0 + 2 * HOUR + 5},long,89000,2,178000\n"
    )


def test_single_liquidations_join_the_records_and_cover_their_span(btc, tmp_path):
    out = run(tmp_path, records())
    assert "3 new, 0 updated, 0 unchanged rows" in out
    assert "taken as fully known from 2026-01-01T00:01:00+00:00" in out
    rows = list(Liquidation.objects.order_by("time", "side").values_list("side", "price", "quantity", "usd"))
    assert rows == [
        ("long", 90000.0, 0.5, 45000.0),
        ("short", 90100.0, 0.1, pytest.approx(9010.0)),
        ("long", 89000.0, 2.0, 178000.0),
    ]
    span = LiquidationImport.objects.get()
    assert (span.records, span.source) == (3, "liquidations.csv")
    # The hour from 01:00 lies inside the file's span: known, with no record (a measured zero).
    starts = T0 + HOUR * np.arange(0, 3, dtype=np.int64)
    now = datetime(2026, 2, 1, tzinfo=UTC)
    assert covered_mask(market=btc, starts=starts, ends=starts + HOUR, now=now).tolist() == [False, True, False]
    # Importing the same file again stores nothing twice.
    assert "0 new, 0 updated, 3 unchanged rows" in run(tmp_path, records())
    assert Liquidation.objects.count() == 3 and LiquidationImport.objects.count() == 1


def test_a_stated_span_makes_its_quiet_edges_known(btc, tmp_path):
    run(tmp_path, records(), "--covers-from", "2026-01-01T00:00Z", "--covers-until", "2026-01-01T03:00Z")
    starts = T0 + HOUR * np.arange(0, 4, dtype=np.int64)
    now = datetime(2026, 2, 1, tzinfo=UTC)
    assert covered_mask(market=btc, starts=starts, ends=starts + HOUR, now=now).tolist() == [True, True, True, False]
    with pytest.raises(CommandError, match="must contain every record"):
        run(tmp_path, records(), "--covers-from", "2026-01-01T00:30Z")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (RECORDS + f"{T0},sell,90000,1,90000\n", "line 2 (2026-01-01T00:00:00+00:00): side 'sell' must be 'long' or 'short'"),
        (RECORDS + f"{T0},long,0,1,0\n", "price 0 must be positive"),
        (RECORDS + f"{T0},long,90000,-1,\n", "quantity -1 must be positive"),
        (
            RECORDS + f"{T0 + HOUR},long,90000,1,\n{T0},long,90000,1,\n",
            "line 3 (2026-01-01T00:00:00+00:00): time is before the previous row",
        ),
        (RECORDS + f"{T0},long,9e4\n", "line 2: 3 fields but the header has 5"),
        (RECORDS + f"{T0},,90000,1,\n", "line 2: side is empty"),
        ("time,side,price\n", "line 1: missing column(s) quantity"),
    ],
)
def test_a_malformed_records_file_is_refused_whole_naming_the_line(btc, tmp_path, text, message):
    with pytest.raises(CommandError) as caught:
        run(tmp_path, text)
    assert message in str(caught.value)
    assert not Liquidation.objects.exists() and not LiquidationImport.objects.exists()


def test_a_bad_record_after_written_batches_rolls_them_back(btc):
    good = "".join(f"{T0 + i * 1000},long,90000,0.01,\n" for i in range(10))
    bad = (RECORDS + good + f"{T0 + 20_000},both,1,1,\n").encode()
    with pytest.raises(IngestError, match="line 12 .*side 'both'"):
        import_series_csv(btc, "liquidations", None, io.BytesIO(bad), batch_rows=3)
    assert not Liquidation.objects.exists() and not LiquidationImport.objects.exists()


def test_records_are_written_batch_by_batch(btc, monkeypatch):
    """Memory is bounded by the batch, as for every other series."""
    sizes = []
    store = liquidation_ingest._store

    def recording_store(market, rows):
        sizes.append(len(rows))
        return store(market, rows)

    monkeypatch.setattr(liquidation_ingest, "_store", recording_store)
    good = "".join(f"{T0 + i * 1000},short,90000,0.01,\n" for i in range(25))
    result = import_series_csv(btc, "liquidations", None, io.BytesIO((RECORDS + good).encode()), batch_rows=10)
    assert sizes == [10, 10, 5] and result.created == 25
