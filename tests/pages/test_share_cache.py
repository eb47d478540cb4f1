"""The cached public share page: one stored copy for every visitor, and never a stale or private one."""

from __future__ import annotations

import gzip
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from grids.models import GridSnapshot
from tests.pages.factories import pack_with_extras, synthetic_arrays
from tests.pages.test_share_links import chart_payload, create_link

pytestmark = pytest.mark.django_db


def recompute(snapshot: GridSnapshot, *, seed: int) -> None:
    """Store new grids for the snapshot's target the way the compute task replaces one."""
    arrays = synthetic_arrays(steps=900, seed=seed, layer_market_ids=(snapshot.market_id,), by_bucket=True)
    GridSnapshot.objects.filter(pk=snapshot.pk).update(
        arrays=pack_with_extras(arrays),
        input_digest=f"recomputed-{seed}",
        computed_at=timezone.now() + timedelta(seconds=1),
    )


@pytest.mark.parametrize("frozen", [False, True])
def test_revoking_kills_a_cached_page_at_once_whole_partial_and_revalidated(client, grids, trader, frozen):
    link = create_link(client, trader, grids["15m"].market, frozen=frozen)
    url = link.get_absolute_url()
    page = client.get(url)
    assert client.get(url, headers={"HX-Request": "true"}).status_code == 200  # both copies now cached
    link.revoke()
    assert client.get(url).status_code == 404
    assert client.get(url, headers={"HX-Request": "true"}).status_code == 404
    # A cache that kept the page and asks whether it is still good is told it is gone, not "unchanged".
    revalidated = client.get(url, headers={"If-None-Match": page["ETag"]})
    assert revalidated.status_code == 404 and "hm-data" not in revalidated.content.decode()


def test_a_new_computation_shows_new_data_on_the_next_visit(client, grids, trader):
    snapshot = grids["15m"]
    live = create_link(client, trader, snapshot.market, frozen=False)
    frozen = create_link(client, trader, snapshot.market, frozen=True)
    live_before, frozen_before = client.get(live.get_absolute_url()), client.get(frozen.get_absolute_url())
    recompute(snapshot, seed=9)  # no cache.clear(): the new grid version alone must reach the page
    live_after, frozen_after = client.get(live.get_absolute_url()), client.get(frozen.get_absolute_url())
    cells = lambda response: chart_payload(response)["meta"]["cells"]  # noqa: E731
    assert cells(live_after) != cells(live_before)
    assert live_after["ETag"] != live_before["ETag"]
    assert cells(frozen_after) == cells(frozen_before) and frozen_after["ETag"] == frozen_before["ETag"]
    # A browser holding the old page is sent the new one, not a 304.
    assert client.get(live.get_absolute_url(), headers={"If-None-Match": live_before["ETag"]}).status_code == 200


def test_a_page_first_rendered_for_the_logged_in_owner_shows_nothing_of_theirs_to_anyone(client, grids, trader):
    link = create_link(client, trader, grids["15m"].market, frozen=False)
    client.force_login(trader)
    owner_page = client.get(link.get_absolute_url())  # fills the cache while logged in
    anonymous_page = Client().get(link.get_absolute_url())
    assert anonymous_page.content == owner_page.content
    for response in (owner_page, anonymous_page):
        html = response.content.decode()
        for private in ("trader", "trader@example.com", "csrfmiddlewaretoken", "Log out", "Share this view"):
            assert private not in html
        assert "Set-Cookie" not in response.headers and "Cookie" not in response["Vary"]


def test_two_links_never_share_a_cached_page(client, grids, trader):
    market = grids["15m"].market
    three_days = create_link(client, trader, market, frozen=False)
    one_day = create_link(client, trader, market, frozen=False, range="1d")
    assert len(chart_payload(client.get(three_days.get_absolute_url()))["option"]["xAxis"][0]["data"]) == 288
    assert len(chart_payload(client.get(one_day.get_absolute_url()))["option"]["xAxis"][0]["data"]) == 96


def test_an_unchanged_page_revalidates_to_a_304_with_one_query(client, grids, trader, django_assert_max_num_queries):
    link = create_link(client, trader, grids["15m"].market, frozen=False)
    first = client.get(link.get_absolute_url())
    assert first["ETag"].startswith('W/"') and first["Cache-Control"] == "public, no-cache"
    with django_assert_max_num_queries(1):  # the link, its revocation and its grid version in one query
        again = client.get(link.get_absolute_url(), headers={"If-None-Match": first["ETag"]})
    assert again.status_code == 304 and again.content == b""
    assert again["ETag"] == first["ETag"] and "HX-Request" in again["Vary"]
    # The whole page and the HTMX fragment are different documents with different tags.
    partial = client.get(link.get_absolute_url(), headers={"HX-Request": "true", "If-None-Match": first["ETag"]})
    assert partial.status_code == 200 and partial["ETag"] != first["ETag"]


def test_the_page_goes_out_gzip_compressed_to_clients_that_accept_it(client, grids, trader):
    link = create_link(client, trader, grids["15m"].market, frozen=False)
    plain = client.get(link.get_absolute_url())
    compressed = client.get(link.get_absolute_url(), headers={"Accept-Encoding": "gzip, deflate, br"})
    assert "Content-Encoding" not in plain.headers
    assert compressed["Content-Encoding"] == "gzip"
    assert gzip.decompress(compressed.content) == plain.content
    assert len(compressed.content) < len(plain.content) / 2  # the map itself is already deflated in the page
    assert int(compressed["Content-Length"]) == len(compressed.content)
    for response in (plain, compressed):
        assert "Accept-Encoding" in response["Vary"] and response["ETag"] == plain["ETag"]


def test_an_unknown_token_is_not_cached_into_existence(client, grids, trader):
    url = reverse("heatmaps:share_view", args=["not-a-real-token-at-all-000000000"])
    assert client.get(url).status_code == 404
    assert client.get(url, headers={"If-None-Match": "*"}).status_code == 404
