"""Public share links: anonymous access, revocation, ownership, caching, frozen copies."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client
from django.urls import reverse

from grids.models import GridSnapshot
from heatmaps.models import ShareLink
from tests.pages.factories import pack_with_extras, synthetic_arrays

pytestmark = pytest.mark.django_db


@pytest.fixture
def other_user(django_user_model):
    return django_user_model.objects.create_user("outsider", "outsider@example.com", "correct horse battery")


def create_link(client, user, market, *, frozen: bool, **params) -> ShareLink:
    client.force_login(user)
    data = {"market": market.pk, "range": "3d", "interval": "15m", "method": "fixed", "frozen": "1" if frozen else "0"} | params
    response = client.post(reverse("heatmaps:share_create"), data)
    assert response.status_code == 302, response.content.decode()[:500]
    client.logout()
    return ShareLink.objects.filter(owner=user).latest("created_at")


def chart_payload(response) -> dict:
    match = re.search(rb'<script type="application/json" class="hm-data">(.*?)</script>', response.content, re.S)
    return json.loads(match.group(1))


@pytest.mark.parametrize("frozen", [False, True])
def test_anonymous_visitor_sees_the_shared_view_and_nothing_about_its_owner(client, grids, trader, frozen):
    link = create_link(client, trader, grids["15m"].market, frozen=frozen)
    assert len(link.token) >= 32 and re.fullmatch(r"[A-Za-z0-9_-]+", link.token)
    response = client.get(link.get_absolute_url())
    assert response.status_code == 200
    html = response.content.decode()
    assert len(chart_payload(response)["option"]["xAxis"][0]["data"]) == 288  # 3 days of 15m
    assert '<meta property="og:title" content="BTCUSDT' in html
    assert '<meta property="og:description" content="Model estimate:' in html
    assert "strong build-up" in html and "Squeeze summary" in html
    for private in ("trader", "trader@example.com", "csrfmiddlewaretoken", "Share this view", 'data-control="range"'):
        assert private not in html
    assert "HX-Request" in response["Vary"] and "Cookie" not in response["Vary"]
    assert "Set-Cookie" not in response.headers and not response.cookies
    assert "public" in response["Cache-Control"]


def test_owner_viewing_their_own_link_sees_the_same_anonymous_page(client, grids, trader):
    link = create_link(client, trader, grids["15m"].market, frozen=False)
    client.force_login(trader)
    html = client.get(link.get_absolute_url()).content.decode()
    assert "trader" not in html


def test_second_visit_is_served_from_the_cache(client, grids, trader, django_assert_max_num_queries):
    link = create_link(client, trader, grids["15m"].market, frozen=False)
    first = client.get(link.get_absolute_url())
    with django_assert_max_num_queries(1):  # the revocation check only
        second = client.get(link.get_absolute_url())
    assert second.content == first.content


def test_htmx_refresh_of_a_live_link_gets_the_partial(client, grids, trader):
    link = create_link(client, trader, grids["15m"].market, frozen=False)
    page = client.get(link.get_absolute_url()).content.decode()
    assert 'hx-trigger="every 300s"' in page
    partial = client.get(link.get_absolute_url(), headers={"HX-Request": "true"})
    assert partial.status_code == 200
    assert "<html" not in partial.content.decode() and 'class="hm-data"' in partial.content.decode()


def test_revoked_and_unknown_links_are_a_clean_404(client, grids, trader):
    link = create_link(client, trader, grids["15m"].market, frozen=True)
    assert client.get(link.get_absolute_url()).status_code == 200  # now cached
    client.force_login(trader)
    response = client.post(reverse("heatmaps:share_revoke", args=[link.pk]))
    assert response.status_code == 302
    client.logout()
    response = client.get(link.get_absolute_url())
    assert response.status_code == 404
    assert "This link does not exist" in response.content.decode()
    assert "hm-data" not in response.content.decode()
    response = client.get(reverse("heatmaps:share_view", args=["not-a-real-token-at-all-000000000"]))
    assert response.status_code == 404


def test_another_user_can_neither_revoke_nor_list_a_link(client, grids, trader, other_user):
    link = create_link(client, trader, grids["15m"].market, frozen=False)
    client.force_login(other_user)
    assert client.post(reverse("heatmaps:share_revoke", args=[link.pk])).status_code == 404
    link.refresh_from_db()
    assert link.revoked_at is None
    listing = client.get(reverse("heatmaps:share_list")).content.decode()
    assert link.token not in listing and link.title not in listing
    client.force_login(trader)
    assert link.token in client.get(reverse("heatmaps:share_list")).content.decode()


def test_anonymous_cannot_create_list_or_revoke(client, grids, trader):
    link = create_link(client, trader, grids["15m"].market, frozen=False)
    market = grids["15m"].market
    assert client.post(reverse("heatmaps:share_create"), {"market": market.pk}).status_code == 302
    assert client.get(reverse("heatmaps:share_list")).status_code == 302
    assert client.post(reverse("heatmaps:share_revoke", args=[link.pk])).status_code == 302
    assert ShareLink.objects.count() == 1


def test_creating_a_link_with_bad_values_is_a_400(client, grids, trader):
    client.force_login(trader)
    response = client.post(reverse("heatmaps:share_create"), {"market": grids["15m"].market_id, "range": "forever"})
    assert response.status_code == 400
    assert "Unknown range" in response.content.decode()
    response = client.post(reverse("heatmaps:share_create"), {"market": "abc"})
    assert response.status_code == 400
    assert not ShareLink.objects.exists()


def test_frozen_link_keeps_its_data_when_the_grid_is_recomputed(client, grids, trader):
    snapshot = grids["15m"]
    frozen = create_link(client, trader, snapshot.market, frozen=True)
    live = create_link(client, trader, snapshot.market, frozen=False)
    before = chart_payload(client.get(frozen.get_absolute_url()))["meta"]["cells"]["data"]
    arrays = synthetic_arrays(steps=900, seed=9, layer_market_ids=(snapshot.market_id,), by_bucket=True)
    GridSnapshot.objects.filter(pk=snapshot.pk).update(arrays=pack_with_extras(arrays), input_digest="recomputed")
    from django.core.cache import cache

    cache.clear()
    assert chart_payload(client.get(frozen.get_absolute_url()))["meta"]["cells"]["data"] == before
    assert chart_payload(client.get(live.get_absolute_url()))["meta"]["cells"]["data"] != before


def test_coin_view_can_be_shared(client, coin_markets, trader):
    client.force_login(trader)
    response = client.post(reverse("heatmaps:share_create"), {"coin": "SOL", "range": "1d", "exchanges": "okx", "frozen": "0"})
    assert response.status_code == 302
    link = ShareLink.objects.get()
    assert link.coin == "SOL" and link.market is None and link.query["exchanges"] == "okx"
    client.logout()
    response = client.get(link.get_absolute_url())
    assert response.status_code == 200
    assert "SOL · all exchanges" in response.content.decode()


def test_share_form_is_offered_to_logged_in_users_only(client, grids, trader):
    url = reverse("heatmaps:market_heatmap", args=[grids["15m"].market_id])
    assert "Share this view" not in client.get(url).content.decode()
    client.force_login(trader)
    assert "Share this view" in client.get(url).content.decode()


@pytest.mark.parametrize("frozen", [False, True])
def test_a_shared_filtered_view_says_that_filters_are_on(client, grids, trader, frozen):
    link = create_link(client, trader, grids["15m"].market, frozen=frozen, buckets="25,50")
    page = Client().get(link.get_absolute_url()).content.decode()
    assert "Filters on:" in page


def test_the_preview_text_names_the_heavier_side_of_the_figures_it_quotes():
    # The report: "$5.1M of longs liquidate if price falls 5 %, $2.5M of shorts if it rises 5 %; shorts heavier."
    # The stored verdict is judged on a 10 % move; the preview quotes 5 %, so it must judge 5 %.
    from heatmaps.share_links import share_description

    analysis = {"squeeze": {"down": {"5": 5.1e6, "10": 8e6}, "up": {"5": 2.5e6, "10": 9e6}, "heavier": "short"}}
    assert share_description(analysis) == (
        "Model estimate: $5.1M of longs liquidate if price falls 5 %, $2.5M of shorts if it rises 5 %; longs heavier."
    )
    analysis["squeeze"]["up"]["5"] = 5.1e6
    assert share_description(analysis).endswith("; balanced.")
    analysis["squeeze"]["up"]["5"] = None
    assert share_description(analysis).endswith(" if it rises 5 %.")


@pytest.mark.parametrize("frozen", [False, True])
def test_the_share_page_states_the_readings_with_their_record_and_link(client, grids, trader, frozen):
    from grids.readings import readings_to_json
    from liqengine import read_map

    snapshot = grids["15m"]
    a = snapshot.load_arrays()
    readings = readings_to_json(read_map(a["long_grid"], a["short_grid"], a["bin_edges"], a["close"], a["times"]), a["times"])
    GridSnapshot.objects.filter(pk=snapshot.pk).update(analysis=snapshot.analysis | {"readings": readings})
    link = create_link(client, trader, snapshot.market, frozen=frozen)
    html = Client().get(link.get_absolute_url()).content.decode().replace("&#x27;", "'")
    accuracy = reverse("heatmaps:market_accuracy", args=[snapshot.market_id])
    for key in ("fakeout", "volatility", "lean", "magnet"):
        assert f'data-reading="{key}"' in html and f'href="{accuracy}#reading-{key}"' in html
    assert html.count("Measured on this market's history") == 4 and "not enough history yet" in html
