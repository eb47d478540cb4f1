"""Evaluation: a band building up fires exactly one email, however often or concurrently it is evaluated.

Evaluations are triggered the way the compute task triggers them: on commit of
the stored grid, ``evaluate_rules.delay(target.key)``.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail
from django.db import connection, transaction
from django.utils import timezone

from alerts.models import Alert, AlertRule
from alerts.services import evaluation
from alerts.services.evaluation import claim, rules_evaluate
from alerts.tasks import evaluate_rules
from grids.targets import Target
from liqsite.outbox.models import OutboxMessage
from tests.alerts.factories import T0, band, make_market, store_grid, store_oi
from tests.conftest import skip_or_fail_without

pytestmark = pytest.mark.django_db
SINCE = T0 + timedelta(hours=6)


@pytest.fixture
def evaluate(django_capture_on_commit_callbacks):
    """Store-then-evaluate as the compute task will: the task is queued on commit of the grid."""

    def run(market=None, coin=""):
        with django_capture_on_commit_callbacks(execute=True):
            if market is not None:
                transaction.on_commit(lambda: evaluate_rules.delay(Target(market_id=market.pk).key))
            else:
                transaction.on_commit(lambda: evaluate_rules.delay(Target(coin=coin).key))

    return run


def cluster_rule(user, market, **overrides):
    fields = {
        "kind": "cluster",
        "side": "either",
        "within_pct": 5,
        "min_usd": 1e6,
        "require_strong": True,
        "min_persistence_hours": 2,
        "cooldown_minutes": 60,
    }
    return AlertRule.objects.create(user=user, market=market, **(fields | overrides))


def step(market, *, usd, verdict="strong build-up", persistence=3.0, since=SINCE, side="above", hours=12, close=100.0):
    """One computation of the crafted series: a band 2-3 % above (or below) price."""
    low, high = (102.0, 103.0) if side == "above" else (97.0, 98.0)
    store_grid(
        market=market,
        close=close,
        as_of=T0 + timedelta(hours=hours),
        bands=[
            band(
                side=side, low=low, high=high, usd=usd, close=close, since=since, verdict=verdict, persistence_hours=persistence
            ),
            band(side="below", low=80.0, high=81.0, usd=9e6, close=close, since=T0),  # large but 19 % away: never matches
        ],
    )


def test_a_band_building_up_fires_exactly_one_email(owner, market, evaluate):
    rule = cluster_rule(owner, market)
    series = [
        dict(usd=4e5, verdict="unconfirmed", persistence=1.0, hours=9),  # too small
        dict(usd=1.2e6, verdict="build-up, not accelerating", persistence=1.5, hours=10),  # not strong yet
        dict(usd=1.6e6, verdict="strong build-up", persistence=1.5, hours=10.5),  # strong, too young
        dict(usd=2.1e6, verdict="strong build-up", persistence=3.0, hours=12),  # fires
        dict(usd=2.8e6, verdict="strong build-up", persistence=4.0, hours=13),  # same episode: quiet
        dict(usd=3.0e6, verdict="strong build-up", persistence=5.0, hours=14),  # same episode: quiet
    ]
    sent_after = []
    for point in series:
        step(market, **point)
        evaluate(market)
        sent_after.append(len(mail.outbox))
    assert sent_after == [0, 0, 0, 1, 1, 1]

    message = mail.outbox[0]
    assert message.to == ["owner@example.com"]
    assert "BTCUSDT" in message.subject and "$2.1M" in message.subject and "strong build-up" in message.subject
    assert "102.00 – 103.00" in message.body and "+2.50 %" in message.body and "OI trend:  rising" in message.body
    html = message.alternatives[0].content
    assert "<strong>$2.1M</strong>" in html and "strong build-up" in html
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    alert = Alert.objects.get()
    assert alert.rule == rule and alert.episode_key == f"band:15m:fixed:above:{SINCE.isoformat()}"
    assert alert.message.status == OutboxMessage.Status.SENT
    rule.refresh_from_db()
    assert rule.last_fired_at == alert.fired_at


def test_running_the_same_evaluation_again_sends_nothing_more(owner, market, evaluate):
    rule = cluster_rule(owner, market, cooldown_minutes=0)  # no cooldown: only the episode claim stops a repeat
    step(market, usd=2e6)
    for _ in range(3):
        evaluate(market)
    # A retried task or a worker that lost its result re-runs the service directly too.
    assert rules_evaluate(Target(market_id=market.pk)).fired == []
    assert len(mail.outbox) == 1
    assert Alert.objects.filter(rule=rule).count() == 1 and OutboxMessage.objects.count() == 1


def test_the_cooldown_holds_for_a_new_episode_then_lets_it_through(owner, market, evaluate):
    rule = cluster_rule(owner, market, cooldown_minutes=60)
    step(market, usd=2e6)
    evaluate(market)
    # The band fades and a new one (a new episode) builds 20 minutes later: still cooling down.
    step(market, usd=2.5e6, since=T0 + timedelta(hours=11), hours=13)
    evaluate(market)
    assert len(mail.outbox) == 1
    # An hour and a bit later the cooldown is over and the new episode fires once.
    AlertRule.objects.filter(pk=rule.pk).update(last_fired_at=timezone.now() - timedelta(minutes=61))
    evaluate(market)
    evaluate(market)
    assert len(mail.outbox) == 2
    assert Alert.objects.filter(rule=rule).count() == 2


def test_a_paused_rule_stays_quiet_and_fires_once_resumed(owner, market, evaluate):
    rule = cluster_rule(owner, market, paused=True)
    step(market, usd=2e6)
    evaluate(market)
    assert mail.outbox == [] and not Alert.objects.exists()
    AlertRule.objects.filter(pk=rule.pk).update(paused=False)
    evaluate(market)
    assert len(mail.outbox) == 1


def test_a_rule_paused_while_its_alert_is_being_claimed_sends_nothing(owner, market):
    cluster_rule(owner, market)
    step(market, usd=2e6)
    real_claim = evaluation.claim

    def pause_first(rule, finding, **kwargs):
        AlertRule.objects.filter(pk=rule.pk).update(paused=True)  # an unsubscribe lands in between
        return real_claim(rule, finding, **kwargs)

    with mock.patch.object(evaluation, "claim", pause_first):
        assert rules_evaluate(Target(market_id=market.pk)).fired == []
    assert not Alert.objects.exists() and not OutboxMessage.objects.exists()


def test_side_distance_and_size_filters(owner, market, evaluate):
    below_only = cluster_rule(owner, market, side="below", require_strong=False, min_persistence_hours=0)
    too_near = cluster_rule(owner, market, within_pct=1, require_strong=False, min_persistence_hours=0)
    too_big = cluster_rule(owner, market, min_usd=5e6, require_strong=False, min_persistence_hours=0)
    step(market, usd=2e6)  # above, +2.5 %
    evaluate(market)
    assert not Alert.objects.filter(rule__in=[below_only, too_near, too_big]).exists()
    assert mail.outbox == []


def test_price_approaching_a_band_measures_to_its_near_edge(owner, market, evaluate):
    near_edge = AlertRule.objects.create(user=owner, market=market, kind="approach", within_pct=2.2, min_usd=1e6)
    centre_only = AlertRule.objects.create(user=owner, market=market, kind="approach", within_pct=1.5, min_usd=1e6)
    step(market, usd=2e6, verdict="unconfirmed", persistence=0.5)  # band 102-103: edge 2 %, centre 2.5 % away
    evaluate(market)
    assert list(Alert.objects.values_list("rule", flat=True)) == [near_edge.pk]
    assert not Alert.objects.filter(rule=centre_only).exists()
    assert "price 2.00 % from a $2.0M band above" in mail.outbox[0].subject


def test_a_coin_rule_reads_the_aggregate_grid(owner, db, evaluate):
    rule = AlertRule.objects.create(user=owner, coin="BTC", kind="cluster", within_pct=5, min_usd=1e6)
    store_grid(coin="BTC", bands=[band(side="below", low=97, high=98, usd=5e6, close=100, since=SINCE)])
    evaluate(coin="BTC")
    assert Alert.objects.get().rule == rule
    assert "BTC · all exchanges" in mail.outbox[0].subject


def test_open_interest_surge_fires_once_per_episode(owner, db, evaluate):
    market = make_market()
    rule = AlertRule.objects.create(
        user=owner, market=market, kind="oi_surge", oi_direction="up", oi_change_pct=5, oi_hours=4, cooldown_minutes=0
    )
    flat, rise = [100.0] * 10, [102.0, 104.0, 106.0, 108.0, 110.0]
    store_oi(market, flat + rise)  # 11:00 is +4 % over 4 h, 12:00 +6 %: the episode starts at 12:00
    evaluate(market)
    assert len(mail.outbox) == 1
    alert = Alert.objects.get()
    assert alert.episode_key == f"oi:1h:up:{(T0 + timedelta(hours=12)).isoformat()}"
    assert alert.details["oi_change"]["pct"] == pytest.approx((110 - 102) / 102 * 100)
    assert "open interest +7.84 % over 4 h" in mail.outbox[0].subject

    store_oi(market, [112.0, 114.0], start=T0 + timedelta(hours=15))  # the same surge goes on
    evaluate(market)
    assert len(mail.outbox) == 1

    store_oi(market, [114.0] * 5 + [120.0, 126.0], start=T0 + timedelta(hours=17))  # it stops, then a new one
    evaluate(market)
    assert len(mail.outbox) == 2
    assert Alert.objects.filter(rule=rule).count() == 2


def test_no_grid_and_no_rules_is_not_an_error(owner, market):
    assert rules_evaluate(Target(market_id=market.pk)).rules == 0
    cluster_rule(owner, market)
    report = rules_evaluate(Target(market_id=market.pk))
    assert (report.rules, report.fired) == (1, [])
    assert rules_evaluate(Target(market_id=987654)).rules == 0


# --- Two workers at once (PostgreSQL) -----------------------------------------


def _in_parallel(*jobs):
    """Run each job in its own thread (own DB connection), started together; re-raise the first error."""
    errors, results = [], [None] * len(jobs)

    def run(index, job):
        try:
            results[index] = job()
        except BaseException as error:  # noqa: BLE001
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    if errors:
        raise errors[0]
    return results


def _needs_postgresql():
    if connection.vendor != "postgresql":
        skip_or_fail_without(
            "PostgreSQL",
            f"two workers racing need a database with concurrent writers and row locks; this one is {connection.vendor} "
            "(SQLite serialises all writers, so the race cannot happen there; set DATABASE_URL=postgres://...)",
        )


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_two_workers_evaluating_at_once_send_one_email(owner, market):
    _needs_postgresql()
    rule = cluster_rule(owner, market, cooldown_minutes=0)
    step(market, usd=2e6)
    barrier = threading.Barrier(2, timeout=30)
    real_claim = evaluation.claim

    def claim_together(*args, **kwargs):
        barrier.wait()  # both workers have decided to fire before either claims
        return real_claim(*args, **kwargs)

    with mock.patch.object(evaluation, "claim", claim_together):
        reports = _in_parallel(
            lambda: rules_evaluate(Target(market_id=market.pk)), lambda: rules_evaluate(Target(market_id=market.pk))
        )
    assert sorted(len(report.fired) for report in reports) == [0, 1]
    # The loser waited on the unique (rule, episode) index and found the episode taken.
    assert sorted(report.outcomes[rule.pk] for report in reports) == ["already alerted", "fired"]
    assert Alert.objects.count() == 1 and OutboxMessage.objects.count() == 1
    assert len(mail.outbox) == 1


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_two_workers_firing_different_episodes_at_once_respect_the_cooldown(owner, market):
    _needs_postgresql()
    rule = cluster_rule(owner, market, cooldown_minutes=60, require_strong=False, min_persistence_hours=0)
    step(market, usd=2e6)
    grid = evaluation.current_snapshot(Target.of_market(market))
    (finding,) = [f for f in evaluation.band_findings(rule, grid, "BTCUSDT") if "above" in f.episode_key]
    other_episode = evaluation.Finding(finding.episode_key + "-other", finding.summary, finding.details, finding.heatmap_url)
    barrier = threading.Barrier(2, timeout=30)

    def fire(found):
        barrier.wait()
        return claim(AlertRule.objects.select_related("user").get(pk=rule.pk), found, target=Target.of_market(market))[0]

    outcomes = _in_parallel(lambda: fire(finding), lambda: fire(other_episode))
    assert sorted(outcomes) == ["fired", "quiet"]
    assert Alert.objects.count() == 1 and len(mail.outbox) == 1
