"""import_series refuses a malformed file whole, naming the line, in bounded memory (issue 13)."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from markets import ingest
from markets.csv_import import BATCH_ROWS, CsvError, import_series_csv
from markets.ingest import IngestError
from markets.models import Candle, Exchange, Market

pytestmark = pytest.mark.django_db

HEADER = "time,open,high,low,close,volume\n"
GOOD = "1715212800000,100.0,102.0,98.0,101.0,10\n"  # 2024-05-09 00:00 UTC
T0 = 1715212800000
STEP = 15 * 60 * 1000


@pytest.fixture
def btc():
    exchange = Exchange.objects.create(plugin="sample")
    market = Market.objects.create(exchange=exchange, symbol="BTCUSDT", intervals=["15m"])
    # A stored candle at the file's first time: a bad import must leave it as it is.
    Candle.objects.create(
        market=market, interval="15m", time=datetime(2024, 5, 9, tzinfo=UTC), open=1, high=2, low=0.5, close=1.5, volume=3
    )
    return market


def stored():
    return list(Candle.objects.order_by("time").values_list("time", "open", "high", "low", "close", "volume", "taker_buy_volume"))


def candles(n: int, start: int = T0, price: float = 100.0) -> str:
    return "".join(f"{start + i * STEP},{price},{price + 2},{price - 2},{price + 1},10\n" for i in range(n))


def import_bytes(tmp_path, data: bytes) -> str:
    path = tmp_path / "candles.csv"
    path.write_bytes(data)
    out = StringIO()
    call_command("import_series", "sample:BTCUSDT", "candles", str(path), "--interval", "15m", stdout=out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        # More fields than the header: was read as the first six and overwrote the stored candle.
        (HEADER + "1715212800000,100.0,102.0,98.0,101.0,10,999,888\n", "line 2: 8 fields but the header has 6"),
        (HEADER + GOOD + "1715213700000,100.0,102.0,98.0\n", "line 3: 4 fields but the header has 6"),
        (
            HEADER.encode() + GOOD.encode() + b"1715213700000,100.0,102.0,98.0,10\xff1.0,10\n",
            "line 3: byte 0xff at position 34 is not UTF-8",
        ),
        (
            HEADER + "0001-01-01T00:00:00+14:00,100,102,98,101,10\n",
            "line 2: time '0001-01-01T00:00:00+14:00' is outside 2009-01-03 to 2100-01-01",
        ),
        (HEADER + "9999-12-31T23:00:00-14:00,100,102,98,101,10\n", "line 2: time '9999-12-31T23:00:00-14:00' is outside"),
        (
            HEADER + "99999999999999999999,100,102,98,101,10\n",
            "line 2: time '99999999999999999999' as epoch milliseconds is outside 2009-01-03 to 2100-01-01",
        ),
        (HEADER + "1715212800,100,102,98,101,10\n", "line 2: time '1715212800' looks like seconds since the epoch"),
        (HEADER + "1715212800000000,100,102,98,101,10\n", "line 2: time '1715212800000000' looks like microseconds"),
        (HEADER + GOOD + "1715213700000,100,102,98,101," + "9" * 140_000 + "\n", "line 3: longer than 64 KiB"),
        # A quoted field may span lines, each of them short: csv's own field limit applies.
        (
            HEADER + GOOD + '1715213700000,100,102,98,101,"' + "9\n" * 70_000 + '"\n',
            "line 65539: field larger than field limit (131072)",
        ),
        (
            "\u0661\u0667\u0661\u0665\u0662\u0661\u0662\u0668\u0660\u0660\u0660\u0660\u0660,100,102,98,101,10\n",
            "line 1: missing column(s) time",
        ),
        (
            HEADER + "\u0661\u0667\u0661\u0665\u0662\u0661\u0662\u0668\u0660\u0660\u0660\u0660\u0660,100,102,98,101,10\n",
            "line 2: time '١٧١٥٢١٢٨٠٠٠٠٠' is neither ISO-8601 nor epoch milliseconds",
        ),
        (HEADER + "1715212800000,\u0661\u0660\u0660,102,98,101,10\n", "line 2: open '١٠٠' is not a number"),
        (HEADER + "1715212800000,1_00,102,98,101,10\n", "line 2: open '1_00' is not a number"),
        (HEADER + "1715212800000,100.0,1e300,98.0,101.0,10\n", "line 2: high 1e+300 is over 1,000 times its own close (101)"),
        (
            HEADER + candles(60) + f"{T0 + 60 * STEP},100,150000,98,101,10\n",
            "line 62: high 150000 is over 1,000 times the median close of its last 50 rows (101)",
        ),
        (HEADER + "1715212800000,2e13,2e13,2e13,2e13,10\n", "line 2 (2024-05-09T00:00:00+00:00): high 2e+13 is above 1e+12"),
        (HEADER + "1715212800000,100,102,98,101,1e30\n", "volume 1e+30 is above 1e+18"),
        ("time,open,high,low,close,volume,open\n", "line 1: column(s) open appear more than once"),
        ("time,open,high,low,close,vol\x00ume\n", "line 1: missing column(s) volume"),
        (HEADER + "1715212800000,100,102,98,101,\x0010\n", "line 2: volume '\\x0010' is not a number"),
        (HEADER + GOOD + GOOD, "line 3 (2024-05-09T00:00:00+00:00): time is not after the previous row"),
        ("", "line 1: the file is empty or its first line is blank"),
        ("\n" + HEADER + GOOD, "line 1: the file is empty or its first line is blank"),
    ],
)
def test_a_malformed_file_is_refused_whole_with_one_line_naming_the_line(btc, tmp_path, data, message):
    before = stored()
    with pytest.raises(CommandError) as caught:
        import_bytes(tmp_path, data if isinstance(data, bytes) else data.encode())
    text = str(caught.value)
    assert message in text
    assert "\n" not in text and "Traceback" not in text and len(text) < 1000
    assert stored() == before


def test_an_excel_byte_order_mark_is_read_as_utf8(btc, tmp_path):
    output = import_bytes(tmp_path, "\ufeff".encode() + HEADER.encode() + candles(2).encode())
    assert "1 new, 1 updated, 0 unchanged" in output
    assert stored()[0][1:6] == (100.0, 102.0, 98.0, 101.0, 10.0)


def test_crlf_lines_blank_lines_and_spaces_are_read(btc, tmp_path):
    output = import_bytes(tmp_path, b"time, open ,high,low,close,volume\r\n1715212800000, 100 ,102,98,101,10\r\n\r\n")
    assert "0 new, 1 updated" in output


def test_a_bad_line_after_several_written_batches_rolls_them_all_back(btc):
    before = stored()
    data = (HEADER + candles(10) + f"{T0 + 10 * STEP},100,102,98,oops,10\n").encode()
    with pytest.raises(CsvError, match="^line 12: close 'oops' is not a number "):
        import_series_csv(btc, "candles", "15m", io.BytesIO(data), batch_rows=3)
    assert stored() == before


def test_times_must_keep_increasing_across_batches(btc):
    data = (HEADER + candles(3) + candles(1)).encode()  # line 5 repeats line 2's time, in the next batch
    with pytest.raises(
        IngestError, match=r"line 5 \(2024-05-09T00:00:00\+00:00\): time is not after the previous row \(2024-05-09T00:30:00"
    ):
        import_series_csv(btc, "candles", "15m", io.BytesIO(data), batch_rows=3)


def test_a_good_file_in_many_batches_counts_every_row(btc):
    result = import_series_csv(btc, "candles", "15m", io.BytesIO((HEADER + candles(10)).encode()), batch_rows=3)
    assert (result.created, result.updated, result.unchanged) == (9, 1, 0)
    assert Candle.objects.count() == 10
    again = import_series_csv(btc, "candles", "15m", io.BytesIO((HEADER + candles(10)).encode()), batch_rows=4)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 10)


class CountingFile(io.BytesIO):
    def __init__(self, data: bytes):
        super().__init__(data)
        self.lines_read = 0

    def readline(self, *args):
        self.lines_read += 1
        return super().readline(*args)


def test_the_file_is_read_lazily_one_batch_at_a_time(btc, monkeypatch):
    """Memory is bounded by the batch: each batch is written before the next is read."""
    handle = CountingFile((HEADER + candles(25)).encode())
    read_when_written = []
    upsert = ingest._upsert

    def recording_upsert(kind, market, interval, rows):
        read_when_written.append((len(rows), handle.lines_read))
        return upsert(kind, market, interval, rows)

    monkeypatch.setattr(ingest, "_upsert", recording_upsert)
    import_series_csv(btc, "candles", "15m", handle, batch_rows=10)
    # Header + 10 rows read (plus the first line of the next batch at most) when the first batch is written.
    assert read_when_written == [(10, 11), (10, 21), (5, 27)]
    assert BATCH_ROWS >= 1000  # large enough that a batch's round trips stay cheap


def test_from_the_shell_a_malformed_file_exits_non_zero_with_one_line_and_changes_nothing(tmp_path):
    """What a user at the shell sees: `manage.py import_series` in its own process, on its own SQLite."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "CELERY_BROKER_URL", "CACHE_URL")}
    env |= {"LIQSITE_VAR_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "liqsite.settings"}

    def manage(*args):
        command = [sys.executable, "manage.py", *args]
        return subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, timeout=120)

    assert manage("migrate", "-v0").returncode == 0
    setup = (
        "from markets.models import Exchange, Market\n"
        "Market.objects.create(exchange=Exchange.objects.create(plugin='sample'), symbol='BTCUSDT', intervals=['15m'])"
    )
    assert manage("shell", "-c", setup).returncode == 0
    good = tmp_path / "good.csv"
    good.write_text(HEADER + GOOD)
    assert "1 new" in manage("import_series", "sample:BTCUSDT", "candles", str(good), "--interval", "15m").stdout
    files = {
        "extra.csv": (HEADER + "1715212800000,100.0,102.0,98.0,101.0,10,999,888\n").encode(),
        "latin1.csv": HEADER.encode() + b"1715212800000,100.0,102.0,98.0,10\xff1.0,10\n",
        "year1.csv": (HEADER + "0001-01-01T00:00:00+14:00,100,102,98,101,10\n").encode(),
        "huge.csv": (HEADER + "1715212800000,100,102,98,101," + "9" * 140_000 + "\n").encode(),
    }
    stored = "from markets.models import Candle; print(list(Candle.objects.values_list('time', 'high', 'volume')))"
    before = manage("shell", "-c", stored).stdout
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
        result = manage("import_series", "sample:BTCUSDT", "candles", str(tmp_path / name), "--interval", "15m")
        assert result.returncode == 1, (name, result.stdout, result.stderr)
        assert result.stdout == "" and result.stderr.count("\n") == 1, (name, result.stderr)
        assert result.stderr.startswith(f"CommandError: {tmp_path / name}: line 2: "), (name, result.stderr)
        assert "Traceback" not in result.stderr
    assert manage("shell", "-c", stored).stdout == before
