"""A share's preview picture (og:image): a PNG drawn on the server from the stored grid, gone with the link."""

from __future__ import annotations

import pytest
from django.urls import reverse

from grids.models import GridSnapshot
from heatmaps.charts import COLOUR_SCALE
from heatmaps.pages.preview import HEIGHT, WIDTH
from heatmaps.share_links import create_share_link
from heatmaps.viewing.query import ViewQuery
from heatmaps.viewing.snapshots import market_target
from tests.pages.factories import pack_with_extras, synthetic_arrays
from tests.pages.png import colours_present, decode_png

pytestmark = pytest.mark.django_db


def preview_url(link) -> str:
    return reverse("heatmaps:share_preview", args=[link.token])


@pytest.fixture
def live(grids, trader):
    return create_share_link(
        owner=trader, target=market_target(grids["15m"].market_id), query=ViewQuery(range="3d"), frozen=False
    )


@pytest.fixture
def frozen(grids, trader):
    return create_share_link(owner=trader, target=market_target(grids["15m"].market_id), query=ViewQuery(range="3d"), frozen=True)


def test_the_share_page_names_its_picture_for_chat_apps(client, live):
    page = client.get(live.get_absolute_url()).content.decode()
    image = f"http://127.0.0.1:8000{preview_url(live)}"
    assert f'<meta property="og:image" content="{image}">' in page
    assert '<meta property="og:image:width" content="1200">' in page and '<meta property="og:image:height" content="630">' in page
    assert '<meta name="twitter:card" content="summary_large_image">' in page
    assert f'<meta name="twitter:image" content="{image}">' in page


def test_the_picture_is_the_map_drawn_from_the_stored_grid(client, live):
    response = client.get(preview_url(live))
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    pixels = decode_png(response.content)
    assert pixels.shape[:2] == (HEIGHT, WIDTH)
    # The map itself, on the page's colour scale (the synthetic grid has cells all over it).
    assert len(colours_present(pixels[110:570, 30:1080], COLOUR_SCALE, tolerance=30, minimum=200)) >= 4
    # The close drawn over it in white.
    assert int((pixels[110:570, 30:1080, :3] == 255).all(axis=2).sum()) > 300


def test_drawn_once_per_snapshot_version_and_revalidated_by_etag(client, live, frozen, grids, django_assert_max_num_queries):
    first = client.get(preview_url(live))
    etag = first["ETag"]
    assert "no-cache" in first["Cache-Control"]  # kept by clients, but checked with us before each use
    assert client.get(preview_url(live), HTTP_IF_NONE_MATCH=etag).status_code == 304
    with django_assert_max_num_queries(4):  # the link, the snapshot choice: no drawing, no arrays
        assert client.get(preview_url(live)).content == first.content
    frozen_before = client.get(preview_url(frozen))

    # A new grid: the live link's picture follows it, the frozen one's never changes.
    arrays = synthetic_arrays(steps=900, seed=9, layer_market_ids=(grids["15m"].market_id,), by_bucket=True)
    GridSnapshot.objects.filter(pk=grids["15m"].pk).update(arrays=pack_with_extras(arrays), input_digest="recomputed")
    changed = client.get(preview_url(live))
    assert changed["ETag"] != etag and changed.content != first.content
    assert client.get(preview_url(live), HTTP_IF_NONE_MATCH=etag).status_code == 200
    assert client.get(preview_url(frozen)).content == frozen_before.content


def test_a_revoked_link_has_no_picture_at_once_even_when_it_was_cached(client, live):
    etag = client.get(preview_url(live))["ETag"]
    live.revoke()
    assert client.get(preview_url(live)).status_code == 404
    assert client.get(preview_url(live), HTTP_IF_NONE_MATCH=etag).status_code == 404
    assert client.get(reverse("heatmaps:share_preview", args=["no-such-token"])).status_code == 404


def test_a_live_link_whose_grid_is_gone_has_no_picture(client, live):
    GridSnapshot.objects.all().delete()
    assert client.get(preview_url(live)).status_code == 404
