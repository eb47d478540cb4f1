"""CSRF is enforced on every form and every HTMX request; only the one-click unsubscribe is exempt."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from alerts.models import AlertRule, WatchlistItem
from tests.alerts.conftest import PASSWORD, client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def objects(owner, market):
    return {
        "item": WatchlistItem.objects.create(user=owner, market=market),
        "second": WatchlistItem.objects.create(user=owner, coin="BTC", position=1),
        "rule": AlertRule.objects.create(user=owner, market=market),
    }


def rule_form(market):
    return {
        "target": f"m:{market.pk}",
        "kind": "cluster",
        "interval": "",
        "side": "either",
        "within_pct": "3",
        "min_usd": "1000",
        "min_persistence_hours": "0",
        "oi_direction": "either",
        "oi_change_pct": "5",
        "oi_hours": "4",
        "cooldown_minutes": "60",
    }


POSTS = [
    ("alerts:watchlist_add", None, lambda m: {"target": "c:ETH"}),
    ("alerts:watchlist_remove", "item", lambda m: {}),
    ("alerts:watchlist_move", "second", lambda m: {"direction": "up"}),
    ("alerts:rule_create", None, rule_form),
    ("alerts:rule_create", None, lambda m: rule_form(m) | {"validate": "1"}),  # inline validation
    ("alerts:rule_edit", "rule", rule_form),
    ("alerts:rule_delete", "rule", lambda m: {}),
    ("alerts:rule_pause", "rule", lambda m: {"paused": "1"}),
]
IDS = [f"{name}{'+validate' if i == 4 else ''}" for i, (name, _, _) in enumerate(POSTS)]


def csrf_client(user):
    client = client_for(user, enforce_csrf_checks=True)
    client.get(reverse("alerts:watchlist"))  # the page sets the CSRF cookie
    return client, client.cookies["csrftoken"].value


def state():
    return list(WatchlistItem.objects.order_by("pk").values()), list(AlertRule.objects.order_by("pk").values())


@pytest.mark.parametrize(("name", "obj", "data"), POSTS, ids=IDS)
@pytest.mark.parametrize("htmx", [False, True], ids=["form", "htmx"])
def test_a_post_without_a_token_is_refused_and_changes_nothing(owner, objects, market, name, obj, data, htmx):
    client, _ = csrf_client(owner)
    before = state()
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    response = client.post(reverse(name, args=[objects[obj].pk] if obj else []), data(market), **headers)
    assert response.status_code == 403
    assert state() == before


@pytest.mark.parametrize(("name", "obj", "data"), POSTS, ids=IDS)
def test_htmx_requests_pass_with_the_header_from_base_html(owner, objects, market, name, obj, data):
    client, token = csrf_client(owner)
    response = client.post(
        reverse(name, args=[objects[obj].pk] if obj else []), data(market), HTTP_HX_REQUEST="true", HTTP_X_CSRFTOKEN=token
    )
    assert response.status_code == 200


@pytest.mark.parametrize(("name", "obj", "data"), POSTS, ids=IDS)
def test_plain_forms_pass_with_the_form_token(owner, objects, market, name, obj, data):
    client, token = csrf_client(owner)
    response = client.post(reverse(name, args=[objects[obj].pk] if obj else []), data(market) | {"csrfmiddlewaretoken": token})
    assert response.status_code in (200, 302)


def test_pages_put_the_token_in_every_form_and_in_hx_headers(owner, objects):
    client, token = csrf_client(owner)
    for name in ("alerts:watchlist", "alerts:rule_list"):
        page = client.get(reverse(name)).content.decode()
        forms = re.findall(r'<form[^>]*method="post".*?</form>', page, re.S)
        assert len(forms) >= 4
        assert all('name="csrfmiddlewaretoken"' in form for form in forms)
        assert 'hx-headers=\'{"X-CSRFToken": "' in page


@pytest.mark.parametrize("name", ["login", "signup", "password_reset", "password_change", "logout"])
def test_account_forms_refuse_a_post_without_a_token(owner, name):
    client = client_for(owner if name in ("password_change", "logout") else None, enforce_csrf_checks=True)
    data = {
        "username": "owner",
        "password": PASSWORD,
        "email": "owner@example.com",
        "old_password": PASSWORD,
        "new_password1": "x",
        "new_password2": "x",
        "password1": "y",
        "password2": "y",
    }
    assert client.post(reverse(name), data).status_code == 403
