"""bench/accuracy_real.py end to end, on a synthetic stand-in for the development set (the real one may not be copied)."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from bench import accuracy_real

HOURS = 300


@pytest.fixture
def stand_in(tmp_path, monkeypatch):
    """A folder in the development set's format: the bundled Bybit BTC candles as "Binance", invented OI and liquidations."""
    with (accuracy_real.SAMPLE / "bybit-BTCUSDT" / "candles.csv").open() as f:
        candles = list(csv.DictReader(f))[:HOURS]
    folder = tmp_path / accuracy_real.SET
    folder.mkdir()
    rng = np.random.default_rng(0)
    with (folder / "candles.csv").open("w") as f:
        f.write("time_ms,open,high,low,close,volume,src\n")
        f.writelines(f"{r['time_ms']},{r['open']},{r['high']},{r['low']},{r['close']},{r['volume']},synthetic\n" for r in candles)
    oi = 8e9 * np.exp(np.cumsum(rng.normal(0, 0.003, HOURS)))
    with (folder / "open_interest.csv").open("w") as f:
        f.write("time_ms,oi_usd\n")
        f.writelines(f"{r['time_ms']},{v:.1f}\n" for r, v in zip(candles, oi) if r is not candles[7])  # one hour missing
    with (folder / "liquidations.csv").open("w") as f:
        f.write("time_ms,long_liq_usd,short_liq_usd,total_liq_usd\n")
        for i, r in enumerate(candles[1:], start=1):
            fall = max(float(candles[i - 1]["close"]) - float(r["low"]), 0) * 3e3 * rng.lognormal(0, 0.7)
            rise = max(float(r["high"]) - float(candles[i - 1]["close"]), 0) * 3e3 * rng.lognormal(0, 0.7)
            f.write(f"{r['time_ms']},{fall:.2f},{rise:.2f},{fall + rise:.2f}\n")
    monkeypatch.setenv("LIQSITE_SHARED_DATA", str(tmp_path))
    monkeypatch.setattr(accuracy_real, "RESULTS", tmp_path / "ACCURACY.md")
    return folder


def test_the_bench_prints_and_records_every_table(stand_in, capsys):
    assert accuracy_real.main(["--markdown", "--write"]) == 0
    out = capsys.readouterr().out
    assert "Held-out hours" in out and "Fit part" in out
    for key in ("binance", "bybit", "okx", "summed"):
        assert f"\n{key}:\n" in out
    for label in ("Reference rules", "Turnover + entries spread + 125× bucket", "Range baseline", "Swing baseline"):
        assert label in out
    recorded = accuracy_real.RESULTS.read_text()
    assert recorded.count("| Swing baseline") == 6 and "Site default: `reference`" in recorded


def test_an_absent_folder_is_said_plainly(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LIQSITE_SHARED_DATA", str(tmp_path / "nowhere"))
    assert accuracy_real.main([]) == 2
    assert "development set is absent" in capsys.readouterr().out
