"""Issue 6 "Done when", end to end: sign up, watch the sample market, make a rule; the next
computation sends one email to a local SMTP server, and the alert shows in the log."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse

from alerts.models import Alert
from alerts.tasks import evaluate_rules
from grids.targets import Target
from liqsite.outbox.models import OutboxMessage
from markets.models import Candle, Exchange, Market
from markets.refresh import market_refresh
from tests.alerts.conftest import confirmed_user
from tests.alerts.factories import band, store_grid
from tests.alerts.smtp import bodies

HTMX = {"HTTP_HX_REQUEST": "true"}


def compute(market, *, usd, since, as_of, close):
    """What the grid computation does once it is hooked up: store the snapshot, queue evaluation on commit."""
    with transaction.atomic():
        store_grid(
            market=market,
            interval="15m",
            close=close,
            as_of=as_of,
            bands=[
                band(side="below", low=close * 0.97, high=close * 0.975, usd=usd, close=close, since=since),
            ],
        )
        transaction.on_commit(lambda: evaluate_rules.delay(Target(market_id=market.pk).key))


@pytest.mark.django_db(transaction=True)
def test_sign_up_watch_make_a_rule_and_get_one_email(smtp_server):
    exchange = Exchange.objects.create(plugin="sample")
    market = Market.objects.create(exchange=exchange, symbol="BTCUSDT", base="BTC", quote="USDT", intervals=["15m"])
    assert market_refresh(market.pk).ok  # the bundled real data: candles and open interest

    trader = Client()
    signup = trader.post(
        reverse("signup"),
        {
            "username": "satoshi",
            "email": "satoshi@example.com",
            "password1": "watch the liquidations",
            "password2": "watch the liquidations",
        },
    )
    assert signup.status_code == 302
    # Alerts go only to a confirmed address: follow the link sign-up sent.
    (confirmation,) = smtp_server.messages
    assert confirmation["To"] == "satoshi@example.com"
    link = re.search(r"http://127\.0\.0\.1:8000(/accounts/confirm/\S+/)", bodies(confirmation)[0]).group(1)
    assert trader.post(link).status_code == 200
    smtp_server.messages.clear()
    assert trader.post(reverse("alerts:watchlist_add"), {"target": f"m:{market.pk}"}, **HTMX).status_code == 200
    rule = trader.post(
        reverse("alerts:rule_create"),
        {
            "target": f"m:{market.pk}",
            "kind": "cluster",
            "interval": "",
            "side": "below",
            "within_pct": "4",
            "min_usd": "5000000",
            "min_persistence_hours": "1",
            "oi_direction": "either",
            "oi_change_pct": "5",
            "oi_hours": "4",
            "cooldown_minutes": "60",
        },
        **HTMX,
    )
    assert rule.status_code == 200 and "BTCUSDT" in rule.content.decode()

    last = Candle.objects.filter(market=market).latest("time")
    since = last.time - timedelta(hours=5)
    compute(market, usd=3e6, since=since, as_of=last.time - timedelta(minutes=15), close=last.close)  # too small yet
    assert smtp_server.messages == []
    compute(market, usd=8.5e6, since=since, as_of=last.time, close=last.close)  # built up: fires
    compute(market, usd=9e6, since=since, as_of=last.time, close=last.close)  # the same episode, recomputed

    (message,) = smtp_server.messages
    assert message["To"] == "satoshi@example.com"
    text, html = bodies(message)
    assert "$8.5M" in text and "below price" in text and "$8.5M" in html
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    watchlist = trader.get(reverse("alerts:watchlist")).content.decode()
    assert f"{last.close:,.1f}" in watchlist and "$9.0M" in watchlist  # the row reads the current grid

    log = trader.get(reverse("alerts:log")).content.decode()
    alert = Alert.objects.get()
    assert f'id="alert-{alert.pk}"' in log and "$8.5M band below price" in log and ">sent<" in log
    assert OutboxMessage.objects.get(kind="alert").status == "sent"


@pytest.mark.django_db(transaction=True)
def test_the_real_pipeline_refresh_compute_evaluate_sends_one_email(smtp_server, django_user_model):
    """No crafted grid: the sample market is refreshed, its grids computed by the tasks, the rule evaluated."""
    from alerts.models import AlertRule
    from grids.models import GridSnapshot
    from grids.tasks import compute_grids
    from markets.tasks import refresh_market

    exchange = Exchange.objects.create(plugin="sample")
    market = Market.objects.create(exchange=exchange, symbol="BTCUSDT", base="BTC", quote="USDT", intervals=["15m"])
    owner = confirmed_user(django_user_model, "satoshi", "satoshi@example.com")
    AlertRule.objects.create(user=owner, market=market, kind="cluster", interval="15m", side="either", within_pct=10, min_usd=1)

    refresh_market.delay(market.pk)  # eager here: refresh → compute (on commit) → grids_stored → evaluation → outbox → SMTP
    assert GridSnapshot.objects.filter(market=market).count() == 3
    assert len(smtp_server.messages) == 1
    assert "BTCUSDT" in smtp_server.messages[0]["Subject"]

    compute_grids.delay(Target(market_id=market.pk).key)  # same data: nothing stored, nothing evaluated
    GridSnapshot.objects.filter(market=market).delete()
    compute_grids.delay(Target(market_id=market.pk).key)  # stored again: evaluated again, same band episode
    assert len(smtp_server.messages) == 1
    assert Alert.objects.count() == 1 and OutboxMessage.objects.get().status == "sent"

    # The email links to the map as it was when the alert fired: a frozen share link anyone can open.
    alert = Alert.objects.get()
    text, _ = bodies(smtp_server.messages[0])
    assert "/s/" in alert.heatmap_url and alert.heatmap_url in text
    shared = Client().get(alert.heatmap_url.removeprefix("http://127.0.0.1:8000"))
    assert shared.status_code == 200 and "BTCUSDT" in shared.content.decode()
    assert "satoshi" not in shared.content.decode()
