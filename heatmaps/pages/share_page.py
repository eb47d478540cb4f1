"""The public share page as stored bytes: rendered once, served to every visitor.

A share page is the page that spreads, and it is the same for everyone who
opens it (no session, no user), so it is rendered once per (link, grid
version, whole page or HTMX fragment), gzip-compressed once and kept in the
cache. A visit then costs one small query and one cache read:

- the query finds the link only while it is active, so a revoked link is a
  404 from the very next request, whatever the cache holds;
- the same query reads the newest ``computed_at`` among the target's stored
  grids (the *grid version*): a new computation changes the cache key, so a
  live link shows new data at once instead of when an entry expires. Frozen
  links carry their data in the row and never change.

The ETag is a digest of the rendered page, so a returning visitor (or the live
page's own periodic refresh) gets a 304 when nothing changed. It is weak
because the same page goes out gzip-compressed or not.
"""

from __future__ import annotations

import gzip
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass

from django.core.cache import cache
from django.db import connection

from grids.models import GridSnapshot
from heatmaps.models import ShareLink

# How long a rendered page is kept. Live pages are re-keyed by every computation,
# so this only bounds memory and how long a deploy's old templates linger.
CACHE_SECONDS = {False: 60, True: 3600}  # live, frozen
CACHE_VERSION = 2  # bump when the cached value's shape changes
ACCEPTS_GZIP = re.compile(r"\bgzip\b")  # as django.middleware.gzip reads Accept-Encoding


@dataclass(frozen=True)
class SharePage:
    etag: str
    gzipped: bytes

    def body(self, accept_encoding: str) -> tuple[bytes, bool]:
        """The body for a client sending ``accept_encoding``, and whether it is gzip-compressed."""
        if ACCEPTS_GZIP.search(accept_encoding or ""):
            return self.gzipped, True
        return gzip.decompress(self.gzipped), False


@dataclass(frozen=True)
class ActiveLink:
    """What the cache key needs of an active link: its id, whether it is frozen, its grid version."""

    pk: int
    frozen: bool
    grid_version: str  # the newest computed_at among the target's grids, as the database prints it; "" if none


def active_share_link(token: str) -> ActiveLink | None:
    """The active link with this token and its target's grid version, in one query; None if none.

    Plain SQL because this runs on every visit of the page that spreads: the ORM
    spent more time compiling the same subquery (about 1 ms) than the whole rest
    of a cached visit's view. The tables are read from the models' Meta.
    """
    with connection.cursor() as cursor:
        cursor.execute(_ACTIVE_LINK_SQL.format(link=ShareLink._meta.db_table, grid=GridSnapshot._meta.db_table), [token])
        row = cursor.fetchone()
    if row is None:
        return None
    pk, frozen, version = row
    return ActiveLink(pk=pk, frozen=bool(frozen), grid_version="" if version is None else str(version))


# A link is about one market (market_id set) or one coin (market_id null, coin set),
# and so is each stored grid; the subquery matches the link's own kind only.
_ACTIVE_LINK_SQL = """
SELECT s.id, s.frozen, (
    SELECT MAX(g.computed_at) FROM {grid} g
    WHERE (s.market_id IS NOT NULL AND g.market_id = s.market_id)
       OR (s.market_id IS NULL AND g.market_id IS NULL AND g.coin = s.coin)
)
FROM {link} s
WHERE s.token = %s AND s.revoked_at IS NULL
"""


def share_page(link: ActiveLink, *, partial: bool, render: Callable[[], str]) -> SharePage:
    """The cached page of ``link`` (from :func:`active_share_link`), rendered by ``render`` on a miss.

    Whatever ``render`` raises propagates and nothing is cached.
    """
    key = _cache_key(link, partial)
    cached = cache.get(key)
    if cached is not None:
        return SharePage(*cached)
    html = render().encode()
    # mtime=0 makes the bytes depend on the page only, so every worker that
    # renders the same page caches the same bytes. Plain gzip is safe here
    # (no BREACH): the public page carries no secret, no CSRF token, no session.
    page = SharePage(etag=f'W/"{hashlib.sha256(html).hexdigest()[:32]}"', gzipped=gzip.compress(html, compresslevel=6, mtime=0))
    cache.set(key, (page.etag, page.gzipped), CACHE_SECONDS[link.frozen])
    return page


def _cache_key(link: ActiveLink, partial: bool) -> str:
    # Digits only: a timestamp as the database prints it has spaces, which some cache backends refuse.
    version = "frozen" if link.frozen else (re.sub(r"\D", "", link.grid_version) or "none")
    return f"share-page:v{CACHE_VERSION}:{link.pk}:{version}:{int(partial)}"
