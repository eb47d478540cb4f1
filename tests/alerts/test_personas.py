"""Every watchlist and rule URL, for the owner, another user and an anonymous visitor.

The other user and the visitor can neither read nor change the owner's data:
each answer is asserted (404 for another user's object, a redirect to log-in
for the visitor, the other user's own empty page for list pages), and the
owner's rows are compared before and after.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.urls import reverse
from django.utils import timezone

from alerts.models import Alert, AlertRule, WatchlistItem
from tests.alerts.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def owned(owner, market):
    item = WatchlistItem.objects.create(user=owner, market=market, position=0)
    second = WatchlistItem.objects.create(user=owner, coin="BTC", position=1)
    rule = AlertRule.objects.create(user=owner, market=market, min_usd=7_777_777)
    alert = Alert.objects.create(
        rule=rule,
        user=owner,
        market=market,
        episode_key="band:15m:fixed:above:x",
        fired_at=timezone.now(),
        kind="cluster",
        rule_text=rule.describe(),
        summary="owner's private alert summary",
        details={"target": "BTCUSDT"},
        heatmap_url="http://x/",
    )
    return SimpleNamespace(item=item, second=second, rule=rule, alert=alert)


def owner_state(owner):
    return (
        list(WatchlistItem.objects.filter(user=owner).order_by("pk").values()),
        list(AlertRule.objects.filter(user=owner).order_by("pk").values()),
        list(Alert.objects.filter(user=owner).order_by("pk").values()),
    )


def rule_form(market):
    return {
        "target": f"m:{market.pk}",
        "kind": "approach",
        "interval": "",
        "side": "above",
        "within_pct": "1",
        "min_usd": "5",
        "min_persistence_hours": "0",
        "oi_direction": "up",
        "oi_change_pct": "9",
        "oi_hours": "2",
        "cooldown_minutes": "1",
    }


# (method, url name, object the URL names or None, data)
ENDPOINTS = [
    ("get", "alerts:watchlist", None, None),
    ("post", "alerts:watchlist_add", None, lambda o, m: {"target": "c:ETH"}),
    ("post", "alerts:watchlist_remove", "item", None),
    ("post", "alerts:watchlist_move", "second", lambda o, m: {"direction": "up"}),
    ("get", "alerts:rule_list", None, None),
    ("get", "alerts:rule_create", None, None),
    ("post", "alerts:rule_create", None, lambda o, m: rule_form(m)),
    ("get", "alerts:rule_edit", "rule", None),
    ("post", "alerts:rule_edit", "rule", lambda o, m: rule_form(m)),
    ("post", "alerts:rule_delete", "rule", None),
    ("post", "alerts:rule_pause", "rule", lambda o, m: {"paused": "1"}),
    ("get", "alerts:log", None, None),
]
IDS = [f"{method} {name}" for method, name, _, _ in ENDPOINTS]


# What of the owner's data a page would show if it leaked.
def MARKERS(o):
    return [
        f'id="watch-{o.item.pk}"',
        f'id="watch-{o.second.pk}"',
        f'id="rule-{o.rule.pk}"',
        "$7.8M",
        f'id="alert-{o.alert.pk}"',
        "owner&#x27;s private alert summary",
    ]


def call(client, method, name, obj, data, owned, market, htmx):
    url = reverse(name, args=[getattr(owned, obj).pk] if obj else [])
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    payload = data(owned, market) if data else {}
    return getattr(client, method)(url, payload, **headers), url


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
@pytest.mark.parametrize(("method", "name", "obj", "data"), ENDPOINTS, ids=IDS)
def test_another_user_can_neither_read_nor_change_the_owners_data(owner, other, owned, market, method, name, obj, data, htmx):
    before = owner_state(owner)
    response, _ = call(client_for(other), method, name, obj, data, owned, market, htmx)
    if obj:
        assert response.status_code == 404
    else:
        # Lists and forms answer with the other user's own (empty) data.
        assert response.status_code in (200, 302)
        page = response.content.decode()
        for marker in MARKERS(owned):
            assert marker not in page
    assert owner_state(owner) == before


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
@pytest.mark.parametrize(("method", "name", "obj", "data"), ENDPOINTS, ids=IDS)
def test_an_anonymous_visitor_is_sent_to_log_in_and_changes_nothing(owner, owned, market, method, name, obj, data, htmx):
    before = owner_state(owner)
    counts = (WatchlistItem.objects.count(), AlertRule.objects.count(), Alert.objects.count())
    response, url = call(client_for(None), method, name, obj, data, owned, market, htmx)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"
    for marker in MARKERS(owned):
        assert marker not in response.content.decode()
    assert owner_state(owner) == before
    assert (WatchlistItem.objects.count(), AlertRule.objects.count(), Alert.objects.count()) == counts


@pytest.mark.parametrize(("method", "name", "obj", "data"), ENDPOINTS, ids=IDS)
def test_the_owner_can_use_every_url(owner, owned, market, method, name, obj, data):
    response, _ = call(client_for(owner), method, name, obj, data, owned, market, htmx=False)
    assert response.status_code in (200, 302)
    if method == "get":
        page = response.content.decode()
        shown = {
            "alerts:watchlist": f'id="watch-{owned.item.pk}"',
            "alerts:rule_list": f'id="rule-{owned.rule.pk}"',
            "alerts:log": "owner&#x27;s private alert summary",
            "alerts:rule_edit": 'value="7777777.0"',
        }
        if name in shown:
            assert shown[name] in page  # the positive control: the markers do show up for the owner
