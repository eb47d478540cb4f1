"""Links to the heatmap pages and absolute URLs for emails.

The heatmap pages are built in the heatmaps app. They are looked up by name
(``heatmaps:market_heatmap`` with the market id, ``heatmaps:coin_heatmap`` with
the coin); until those names exist, links fall back to the market list so no
page ever breaks on a missing URL.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.urls import NoReverseMatch, reverse

from grids.targets import Target

MARKET_HEATMAP = "heatmaps:market_heatmap"
COIN_HEATMAP = "heatmaps:coin_heatmap"


def heatmap_path(target: Target, *, interval: str = "", method: str = "") -> str:
    """Path of the live heatmap of a market or coin; ``interval`` and ``method`` pin the grid a rule watched.

    The map *as it was* when an alert fired is a frozen share link instead
    (see ``alerts.services.evaluation.frozen_view_url``).
    """
    name, argument = (COIN_HEATMAP, target.coin) if target.is_coin else (MARKET_HEATMAP, target.market_id)
    try:
        path = reverse(name, args=[argument])
    except NoReverseMatch:
        return reverse("heatmaps:market_list")
    query = {}
    if interval:
        query["interval"] = interval
    if method:
        query["method"] = method
    return f"{path}?{urlencode(query)}" if query else path


def absolute(path: str) -> str:
    """``path`` on the public site (``SITE_URL``), for links that leave the site, such as in emails."""
    return settings.SITE_URL + path
