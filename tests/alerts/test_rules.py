"""Alert rule pages: create, validate inline, edit, pause, delete; the signed one-click unsubscribe."""

from __future__ import annotations

import pytest
from django.core import signing
from django.test import Client, override_settings
from django.urls import reverse

from alerts.links import heatmap_path
from alerts.models import AlertRule
from alerts.services.rules import UNSUBSCRIBE_SALT, unsubscribe_token

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def rule_post(market, **overrides):
    data = {
        "target": f"m:{market.pk}", "kind": "cluster", "interval": "", "side": "either", "within_pct": "3", "min_usd": "1000000",
        "require_strong": "on", "min_persistence_hours": "2", "oi_direction": "either", "oi_change_pct": "5", "oi_hours": "4",
        "cooldown_minutes": "60",
    }
    return data | overrides


def test_create_a_rule_without_javascript(owner, owner_client, market):
    response = owner_client.post(reverse("alerts:rule_create"), rule_post(market))
    assert response.status_code == 302 and response["Location"] == reverse("alerts:rule_list")
    rule = AlertRule.objects.get(user=owner)
    assert (rule.market, rule.coin, rule.kind, rule.within_pct, rule.min_usd, rule.require_strong, rule.min_persistence_hours) == (
        market, "", "cluster", 3.0, 1e6, True, 2.0)
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
    assert response.status_code == 200 and page.lstrip().startswith("<form") and 'id="rule-form"' in page
    assert "Must be more than 0 and at most 50." in page
    assert "This field is required" not in page  # min_usd is empty: not reached yet
    assert not AlertRule.objects.exists()


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


@pytest.mark.parametrize("forge", [
    lambda rule: "garbage",
    lambda rule: unsubscribe_token(rule)[:-3] + "abc",                           # damaged signature
    lambda rule: signing.dumps({"rule": rule.pk}, salt="some.other.purpose"),    # signed, but not for this
    lambda rule: signing.dumps({"rule": rule.pk}, key="not-our-secret-key", salt=UNSUBSCRIBE_SALT),
])
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
        assert heatmap_path(market_id=1, interval="15m") == "/"
        assert heatmap_path(coin="BTC") == "/"
