"""Alert rule pages: create, validate inline, edit, pause, delete; the signed one-click unsubscribe."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import signing
from django.test import Client, override_settings
from django.urls import reverse

from alerts.links import heatmap_path
from alerts.models import AlertRule
from alerts.services.rules import UNSUBSCRIBE_SALT, unsubscribe_token
from grids.targets import Target
from tests.alerts.conftest import client_for

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def rule_post(market, **overrides):
    data = {
        "target": f"m:{market.pk}",
        "kind": "cluster",
        "interval": "",
        "side": "either",
        "within_pct": "3",
        "min_usd": "1000000",
        "require_strong": "on",
        "min_persistence_hours": "2",
        "oi_direction": "either",
        "oi_change_pct": "5",
        "oi_hours": "4",
        "cooldown_minutes": "60",
    }
    return data | overrides


def test_create_a_rule_without_javascript(owner, owner_client, market):
    response = owner_client.post(reverse("alerts:rule_create"), rule_post(market))
    assert response.status_code == 302 and response["Location"] == reverse("alerts:rule_list")
    rule = AlertRule.objects.get(user=owner)
    assert (
        rule.market,
        rule.coin,
        rule.kind,
        rule.within_pct,
        rule.min_usd,
        rule.require_strong,
        rule.min_persistence_hours,
    ) == (market, "", "cluster", 3.0, 1e6, True, 2.0)
    page = owner_client.get(reverse("alerts:rule_list")).content.decode()
    assert "A band worth ≥ $1.0M above or below price, within 3 %, verdict &quot;strong build-up&quot;, standing ≥ 2 h" in page
    assert '<span class="hint">never</span>' in page  # last fired


def test_create_a_coin_rule_with_htmx_returns_the_page_part_and_pushes_the_list_url(owner, owner_client, market):
    response = owner_client.post(reverse("alerts:rule_create"), rule_post(market, target="c:BTC", kind="oi_surge"), **HTMX)
    assert response.status_code == 200 and "<html" not in response.content.decode()
    assert response["HX-Push-Url"] == reverse("alerts:rule_list")
    assert 'id="rules-page"' in response.content.decode()
    rule = AlertRule.objects.get(user=owner)
    assert (rule.market, rule.coin, rule.kind) == (None, "BTC", "oi_surge")


def test_inline_validation_checks_without_saving_and_speaks_only_of_filled_fields(owner, owner_client, market):
    data = rule_post(market, within_pct="0", min_usd="", validate="1")
    response = owner_client.post(reverse("alerts:rule_create"), data, **HTMX)
    page = response.content.decode()
    # Only the error messages come back, out of band: no input, so nothing the user is typing can be replaced.
    assert response.status_code == 200 and "<input" not in page and "<select" not in page and "<form" not in page
    assert (
        '<div class="field-error" id="id_within_pct-error" hx-swap-oob="true">Must be more than 0 and at most 50.</div>' in page
    )
    assert '<div class="field-error" id="id_min_usd-error" hx-swap-oob="true"></div>' in page  # cleared, not left stale
    assert "This field is required" not in page  # min_usd is empty: not reached yet
    assert not AlertRule.objects.exists()


def test_a_rule_on_an_interval_with_no_grid_is_refused_with_the_intervals_that_exist(owner, owner_client, market):
    from tests.alerts.factories import store_grid

    store_grid(market=market, interval="15m")
    store_grid(market=market, interval="1h")
    response = owner_client.post(reverse("alerts:rule_create"), rule_post(market, interval="4h"))
    assert response.status_code == 400
    assert "BTCUSDT · Sample data (offline) has no 4h grid; it has 15m, 1h." in response.content.decode()
    assert not AlertRule.objects.exists()
    coin = owner_client.post(reverse("alerts:rule_create"), rule_post(market, target="c:BTC", interval="15m"))
    assert coin.status_code == 400 and "BTC · all exchanges has no grid yet" in coin.content.decode()
    ok = owner_client.post(reverse("alerts:rule_create"), rule_post(market, interval="1h"))
    assert ok.status_code == 302 and AlertRule.objects.get().interval == "1h"


def test_submitting_errors_with_htmx_retargets_the_form(owner, owner_client, market):
    response = owner_client.post(reverse("alerts:rule_create"), rule_post(market, oi_hours="9999"), **HTMX)
    assert response["HX-Retarget"] == "#rule-form" and response["HX-Reswap"] == "outerHTML"
    assert "at most 720" in response.content.decode()
    plain = owner_client.post(reverse("alerts:rule_create"), rule_post(market, min_usd="-5"))
    assert plain.status_code == 400 and "<html" in plain.content.decode() and "at least 0" in plain.content.decode()
    assert not AlertRule.objects.exists()


def test_edit_pause_resume_and_delete(owner, owner_client, market):
    rule = AlertRule.objects.create(user=owner, market=market)
    form = owner_client.get(reverse("alerts:rule_edit", args=[rule.pk]), **HTMX).content.decode()
    assert 'action="%s"' % reverse("alerts:rule_edit", args=[rule.pk]) in form and f'value="m:{market.pk}" selected' in form

    owner_client.post(reverse("alerts:rule_edit", args=[rule.pk]), rule_post(market, kind="approach", within_pct="1.5"))
    rule.refresh_from_db()
    assert (rule.kind, rule.within_pct) == ("approach", 1.5)

    response = owner_client.post(reverse("alerts:rule_pause", args=[rule.pk]), {"paused": "1"}, **HTMX)
    assert "paused" in response.content.decode() and "Resume" in response.content.decode()
    rule.refresh_from_db()
    assert rule.paused and rule.paused_at is not None
    owner_client.post(reverse("alerts:rule_pause", args=[rule.pk]), {"paused": "0"})
    rule.refresh_from_db()
    assert not rule.paused and rule.paused_at is None

    response = owner_client.post(reverse("alerts:rule_delete", args=[rule.pk]))
    assert response.status_code == 302 and not AlertRule.objects.exists()


def test_the_rule_form_can_start_from_a_watchlist_row(owner_client, market):
    page = owner_client.get(reverse("alerts:rule_list") + f"?target=m:{market.pk}").content.decode()
    assert f'value="m:{market.pk}" selected' in page


def test_unsubscribe_get_only_asks_and_post_pauses_the_rule(owner, market):
    rule = AlertRule.objects.create(user=owner, market=market)
    url = reverse("alerts:unsubscribe", args=[unsubscribe_token(rule)])
    visitor = Client(enforce_csrf_checks=True)
    page = visitor.get(url)
    assert page.status_code == 200 and "Pause this alert rule" in page.content.decode()
    rule.refresh_from_db()
    assert not rule.paused  # a link scanner's GET changes nothing
    done = visitor.post(url, {"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200 and "Alert paused" in done.content.decode()
    rule.refresh_from_db()
    assert rule.paused
    assert visitor.post(url).status_code == 200  # idempotent


@pytest.mark.parametrize(
    "forge",
    [
        lambda rule: "garbage",
        lambda rule: unsubscribe_token(rule)[:-3] + "abc",  # damaged signature
        lambda rule: signing.dumps({"rule": rule.pk}, salt="some.other.purpose"),  # signed, but not for this
        lambda rule: signing.dumps({"rule": rule.pk}, key="not-our-secret-key", salt=UNSUBSCRIBE_SALT),
    ],
)
def test_a_forged_or_damaged_unsubscribe_token_is_a_404(owner, market, forge):
    rule = AlertRule.objects.create(user=owner, market=market)
    token = forge(rule)
    response = Client().post(reverse("alerts:unsubscribe", args=[token]))
    assert response.status_code == 404
    rule.refresh_from_db()
    assert not rule.paused


def test_a_token_for_a_deleted_rule_is_a_404(owner, market):
    rule = AlertRule.objects.create(user=owner, market=market)
    token = unsubscribe_token(rule)
    rule.delete()
    assert Client().post(reverse("alerts:unsubscribe", args=[token])).status_code == 404


def test_heatmap_links_fall_back_to_the_market_list_until_the_heatmap_pages_exist():
    with override_settings(ROOT_URLCONF="tests.alerts.urls_without_heatmaps"):
        assert heatmap_path(Target(market_id=1), interval="15m") == "/"
        assert heatmap_path(Target(coin="BTC")) == "/"


def test_check_now_says_what_the_rule_would_say_and_records_and_sends_nothing(owner, owner_client, other, market, smtp_server):
    from alerts.models import Alert
    from liqsite.outbox.models import OutboxMessage
    from tests.alerts.factories import T0, band, store_grid

    since = T0 + timedelta(hours=2)
    store_grid(
        market=market,
        interval="15m",
        close=100.0,
        bands=[
            band(side="below", low=97.0, high=97.5, usd=8.5e6, close=100.0, since=since),
            band(side="above", low=108.0, high=109.0, usd=2e6, close=100.0, since=since),
        ],
    )
    near = AlertRule.objects.create(user=owner, market=market, kind="cluster", side="below", within_pct=4, min_usd=5e6)
    far = AlertRule.objects.create(user=owner, market=market, kind="cluster", side="above", within_pct=4, min_usd=5e6)
    url = reverse("alerts:rule_check", args=[near.pk])

    part = owner_client.get(url, **HTMX).content.decode()
    assert part.lstrip().startswith('<section id="rule-check"')
    assert "Would fire now:</strong> BTCUSDT" in part and "$8.5M band below price at 97.00–97.50" in part
    assert "On the 15m map as of 2026-06-26 12:00 UTC (close 100.00)" in part
    assert Alert.objects.count() == 0 and OutboxMessage.objects.count() == 0 and smtp_server.messages == []
    near.refresh_from_db()
    assert near.last_fired_at is None

    nothing = owner_client.get(reverse("alerts:rule_check", args=[far.pk]), **HTMX).content.decode()
    assert "Nothing meets it on the current map." in nothing and "Largest band above: $2.0M at 108.00–109.00 (+8.50 %)" in nothing

    # Once it has fired for this band episode, the check says so instead of promising another alert.
    from alerts.services.evaluation import rules_evaluate

    assert len(rules_evaluate(Target(market_id=market.pk)).fired) == 1
    again = owner_client.get(url, **HTMX).content.decode()
    assert "already alerted for this episode" in again and "Would fire now" not in again

    # Without JavaScript the link is a whole page; another user's rule is a 404.
    assert "<html" in owner_client.get(url).content.decode()
    assert client_for(other).get(url).status_code == 404


def test_check_now_on_a_rule_whose_grid_is_gone_names_the_intervals_there_are(owner, owner_client, market):
    from tests.alerts.factories import store_grid

    store_grid(market=market, interval="1h")
    rule = AlertRule.objects.create(user=owner, market=market, kind="approach", interval="15m", within_pct=2, min_usd=1)
    page = owner_client.get(reverse("alerts:rule_check", args=[rule.pk]), **HTMX).content.decode()
    assert "No 15m grid is stored for it; there are 1h." in page and "Nothing meets it" in page
