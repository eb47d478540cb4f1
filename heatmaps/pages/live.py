"""A cheap "not modified" for an open heatmap page that asks whether newer data exists.

heatmap.js re-requests its view's fragment every few seconds with the ETag
it last received. The ETag names the stored snapshot the view would show
(:func:`view_version`) and who is looking (the fragment holds a per-user
share form), so an unchanged view costs one query for the target's
snapshots and a 304, never a window reduction or a render.
"""

from __future__ import annotations

import hashlib

from django.http import HttpResponseNotModified
from django.utils.cache import patch_cache_control

from heatmaps.viewing.heatmap_view import view_version
from heatmaps.viewing.query import ViewQuery
from heatmaps.viewing.snapshots import Target
from liqsite.htmx import vary_on_partial

ETAG_VERSION = "1"  # bump when the fragment's markup changes, so open pages fetch it once more


def fragment_etag(request, target: Target, query: ViewQuery) -> str:
    """The quoted ETag of the view fragment ``request`` asks for."""
    user = request.user.pk if request.user.is_authenticated else 0
    digest = hashlib.sha256(f"{ETAG_VERSION}:{user}:{view_version(target, query)}".encode()).hexdigest()[:24]
    return f'"{digest}"'


def not_modified(request, etag: str):
    """A 304 when ``etag`` is one the browser already holds, else None."""
    held = {tag.strip() for tag in request.headers.get("If-None-Match", "").split(",")}
    if etag not in held:
        return None
    return mark_fragment(HttpResponseNotModified(), etag)


def mark_fragment(response, etag: str):
    """A fragment's headers: its ETag, revalidated on every use (it must never be stale), and Vary."""
    response["ETag"] = etag
    patch_cache_control(response, private=True, no_cache=True)
    return vary_on_partial(response)
