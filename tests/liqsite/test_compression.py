"""Pages go out gzip-compressed, except those that show a secret that repeats between responses."""

from __future__ import annotations

import gzip
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from heatmaps.management.commands.setup_sample import SAMPLE_MARKETS
from markets.models import Exchange, Market

ON_THE_WIRE_BUDGET = 150 * 1024


@pytest.fixture
def sol(db):
    """The bundled OKX SOL market with its real data and grids, as ``setup_sample`` leaves it."""
    exchange = Exchange.objects.create(plugin="sample", enabled=True)
    market = Market.objects.create(
        exchange=exchange, symbol="SOL-USDT-SWAP", base="SOL", quote="USDT", intervals=SAMPLE_MARKETS["SOL-USDT-SWAP"]
    )
    call_command("refresh", "sample:SOL-USDT-SWAP", stdout=StringIO())
    call_command("compute", "sample:SOL-USDT-SWAP", stdout=StringIO())
    return market


def test_the_default_sol_heatmap_page_is_at_most_150_kb_on_the_wire(client, sol):
    url = reverse("heatmaps:market_heatmap", args=[sol.pk])
    plain = client.get(url)
    packed = client.get(url, HTTP_ACCEPT_ENCODING="gzip, deflate, br")
    assert plain.status_code == packed.status_code == 200
    assert "Content-Encoding" not in plain and b"echarts" in plain.content
    assert packed["Content-Encoding"] == "gzip" and "Accept-Encoding" in packed["Vary"]
    assert len(packed.content) <= ON_THE_WIRE_BUDGET, f"{len(packed.content)} bytes on the wire"
    page = gzip.decompress(packed.content)
    # The same page (the masked CSRF token differs per response, its length does not).
    assert len(page) == len(plain.content) and page.startswith(b"<!doctype html>")
    # Django's Heal-the-BREACH padding: the same page compresses to different lengths.
    sizes = {len(client.get(url, HTTP_ACCEPT_ENCODING="gzip").content) for _ in range(6)}
    assert len(sizes) > 1


@pytest.mark.django_db
def test_the_share_list_with_its_tokens_is_never_compressed(client, trader):
    client.force_login(trader)
    response = client.get(reverse("heatmaps:share_list"), HTTP_ACCEPT_ENCODING="gzip")
    assert response.status_code == 200 and len(response.content) > 200
    assert "Content-Encoding" not in response
    other = client.get(reverse("heatmaps:market_list"), HTTP_ACCEPT_ENCODING="gzip")
    assert other["Content-Encoding"] == "gzip"
