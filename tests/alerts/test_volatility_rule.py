"""The "volatility ahead" rule: fires once when pressure near price enters its top decile; the email states the readings."""

from __future__ import annotations

import io
from datetime import timedelta

import numpy as np
import pytest
from django.urls import reverse

from alerts.models import Alert, AlertRule
from alerts.services.evaluation import rules_evaluate
from grids.models import GridSnapshot
from grids.readings import readings_to_json
from grids.targets import Target
from liqengine import ReadingSettings, read_map
from liqsite.outbox.models import OutboxMessage
from tests.alerts.factories import T0, store_grid

pytestmark = pytest.mark.django_db
EDGES = np.arange(90.0, 110.5, 1.0)


def readings(*, surge: bool, rows: int = 100, start_ms: int = int(T0.timestamp() * 1000)) -> dict:
    """Readings computed by the engine from a crafted grid whose last 3 rows have (or not) far more pressure."""
    long_grid = np.zeros((rows, len(EDGES) - 1))
    short_grid = np.zeros_like(long_grid)
    long_grid[:, 99 - 90] = np.linspace(2, 1, rows)
    short_grid[:, 100 - 90] = 1.0
    if surge:
        long_grid[-3:, 99 - 90] = 50.0
    times = start_ms + np.arange(rows, dtype=np.int64) * 3_600_000
    m = read_map(long_grid, short_grid, EDGES, np.full(rows, 100.0), times, ReadingSettings())
    return readings_to_json(m, times)


def store(market, *, surge: bool, hours: int = 12):
    grid = store_grid(market=market, as_of=T0 + timedelta(hours=hours))
    GridSnapshot.objects.filter(pk=grid.pk).update(analysis=grid.analysis | {"readings": readings(surge=surge)})


def test_volatility_rule_fires_once_per_episode_and_the_email_says_the_readings(owner, market):
    rule = AlertRule.objects.create(user=owner, market=market, kind="volatility", pressure_pct=2.0, cooldown_minutes=0)
    assert rule.describe() == "Pressure within ±2 % of price enters its top 10 % of the last 30 days"
    store(market, surge=False)
    assert rules_evaluate(Target(market_id=market.pk)).fired == []
    store(market, surge=True)
    report = rules_evaluate(Target(market_id=market.pk))
    assert len(report.fired) == 1
    alert = Alert.objects.get()
    assert alert.kind == "volatility" and "pressure within ±2 % of price is high" in alert.summary
    assert alert.episode_key.startswith("vol:15m:fixed:2:")
    # The same episode, evaluated again (a later computation of the same run): nothing more.
    store(market, surge=True, hours=13)
    assert rules_evaluate(Target(market_id=market.pk)).fired == []
    message = OutboxMessage.objects.get()
    for text in (message.text_body, message.html_body):
        assert "Reading the map" in text and "Volatility ahead" in text and "expect fast moves" in text
        assert "Squeeze lean" in text and "Magnet" in text


def volatility_rule_form(market, *, pressure_pct: str) -> dict:
    """The rule form as a browser posts it for a "volatility ahead" rule (the other kinds' fields as they come)."""
    return {
        "target": f"m:{market.pk}",
        "kind": "volatility",
        "interval": "",
        "side": "either",
        "within_pct": 3,
        "min_usd": 1e6,
        "min_persistence_hours": 0,
        "oi_direction": "either",
        "oi_change_pct": 5,
        "oi_hours": 4,
        "pressure_pct": pressure_pct,
        "cooldown_minutes": 60,
    }


def test_the_rule_form_offers_the_new_kind(client, owner, market):
    client.force_login(owner)
    page = client.get(reverse("alerts:rule_list")).content.decode()
    assert 'value="volatility"' in page and "Pressure within" in page
    response = client.post(reverse("alerts:rule_create"), volatility_rule_form(market, pressure_pct="5.0"))
    assert response.status_code in (200, 302)
    rule = AlertRule.objects.get()
    assert rule.kind == "volatility" and rule.pressure_pct == 5.0


def hourly_csv(rows: list[str], header: str) -> io.BytesIO:
    return io.BytesIO((header + "\n" + "\n".join(rows) + "\n").encode())


def test_volatility_ahead_fires_end_to_end_from_imported_data(owner, owner_client, django_capture_on_commit_callbacks):
    """No crafted analysis: a rule made through the form, series imported as CSV, the grids computed by the task.
    Open interest is flat for five weeks, then jumps by half in the last hour: the new positions' levels crowd
    price, so pressure near it enters its top decile, the rule fires and the email states the four readings,
    each with its record on this market and a link to the accuracy page's section."""
    from markets.csv_import import import_series_csv
    from markets.models import Exchange, Market

    market = Market.objects.create(
        exchange=Exchange.objects.create(plugin="sample"), symbol="BTCUSDT", base="BTC", quote="USDT", intervals=["1h"]
    )
    hours = 35 * 24
    start = int(T0.timestamp() * 1000) - hours * 3_600_000
    rng = np.random.default_rng(5)
    closes = 60_000 * np.exp(np.cumsum(rng.normal(0, 0.002, hours)))
    candles = [
        f"{start + i * 3_600_000},{c:.1f},{c * 1.003:.1f},{c * 0.997:.1f},{c:.1f},100" for i, c in enumerate(closes.tolist())
    ]
    oi = [f"{start + i * 3_600_000},{15_000 if i == hours - 1 else 10_000}" for i in range(hours)]
    import_series_csv(market, "candles", "1h", hourly_csv(candles, "time,open,high,low,close,volume"))
    import_series_csv(market, "open_interest", "1h", hourly_csv(oi, "time,open_interest"), oi_stamp="open")

    form = volatility_rule_form(market, pressure_pct="2.0")
    assert owner_client.post(reverse("alerts:rule_create"), form).status_code in (200, 302)
    rule = AlertRule.objects.get(kind="volatility")

    from grids.tasks import compute_grids

    with django_capture_on_commit_callbacks(execute=True):
        compute_grids.delay(Target(market_id=market.pk).key)  # stores the grids, then queues the rules' evaluation
    stored = GridSnapshot.objects.get(market=market, interval="1h", long_share_method="fixed")
    pressure = stored.analysis["readings"]["volatility"]["by_pct"]["2"]
    assert pressure["top"] and pressure["rank"] >= 0.9  # measured by the engine, not written by the test

    alert = Alert.objects.get(rule=rule)
    assert alert.kind == "volatility" and "pressure within ±2 % of price is high" in alert.summary
    message = OutboxMessage.objects.get(kind="alert")
    link = f"http://127.0.0.1:8000{reverse('heatmaps:market_accuracy', args=[market.pk])}#reading-volatility"
    for body in (message.text_body, message.html_body):
        assert "Volatility ahead" in body and "Measured on this market's history" in body
        assert "not enough history yet" in body  # no readings backtest stored for this market yet
        assert link in body
