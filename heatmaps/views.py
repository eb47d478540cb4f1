"""Pages of the heatmaps app. Views stay thin: parse, call a selector or service, render.

HTMX requests (a control clicked on the page) get only the ``view`` partial;
everything else gets the whole page. Both vary on ``HX-Request``.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseNotModified
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers
from django.views.decorators.http import require_GET, require_POST, require_safe

from heatmaps.models import ShareLink
from heatmaps.pages.charted import charted_view, shared_view
from heatmaps.pages.context import view_context
from heatmaps.pages.live import fragment_etag, mark_fragment, not_modified
from heatmaps.pages.picker import picker_table
from heatmaps.pages.preview import share_preview
from heatmaps.pages.share_page import active_share_link, share_page
from heatmaps.share_links import create_share_link, share_description
from heatmaps.viewing.query import BadQuery, parse_view_query
from heatmaps.viewing.snapshots import coin_target, market_target
from liqsite.compression import uncompressed
from liqsite.htmx import vary_on_partial, wants_partial
from markets.selectors import market_coverage_list


@require_GET
def market_list(request):
    """The market picker: price, 24 h change, OI, nearest bands; searched and sorted by query parameters."""
    table = picker_table(request.GET)
    template = "heatmaps/market_list.html#market-table" if wants_partial(request) else "heatmaps/market_list.html"
    return vary_on_partial(render(request, template, table))


@require_GET
def market_status(request):
    """Every market with the coverage of its stored data and its last error."""
    return render(request, "heatmaps/market_status.html", {"coverage": market_coverage_list()})


@require_GET
def market_heatmap(request, market_id: int):
    return _heatmap_page(request, lambda: market_target(market_id))


@require_GET
def coin_heatmap(request, coin: str):
    return _heatmap_page(request, lambda: coin_target(coin))


def _heatmap_page(request, find_target):
    partial = wants_partial(request)
    etag = ""
    try:
        target = find_target()
        query = parse_view_query(request.GET, coin_page=target.is_coin)
        if partial:  # control swaps and the open page's checks for new data
            etag = fragment_etag(request, target, query)
            if (unchanged := not_modified(request, etag)) is not None:
                return unchanged
        view = charted_view(target, query)
    except BadQuery as error:
        return bad_request(request, error)
    context = view_context(view, path=request.path)
    response = render(request, "heatmaps/heatmap.html#view" if partial else "heatmaps/heatmap.html", context)
    vary_on_partial(response)
    return mark_fragment(response, etag) if etag else response


def bad_request(request, error: BadQuery):
    """The page saying what was wrong: 404 for a market or coin that does not exist, 400 for the rest."""
    return render(request, "heatmaps/bad_request.html", {"message": str(error), "status": error.status}, status=error.status)


@require_GET
def model_explained(request):
    return render(request, "heatmaps/model.html")


# -- share links ------------------------------------------------------------------


@login_required
@require_POST
def share_create(request):
    try:
        if request.POST.get("coin"):
            target = coin_target(request.POST["coin"])
        else:
            target = market_target(_int(request.POST.get("market")))
        query = parse_view_query(request.POST, coin_page=target.is_coin)
        link = create_share_link(owner=request.user, target=target, query=query, frozen=request.POST.get("frozen") == "1")
    except BadQuery as error:
        return bad_request(request, error)
    # SITE_URL, not the request's Host header: the link is meant to be passed on.
    messages.success(request, f"Share link created: {settings.SITE_URL}{link.get_absolute_url()}")
    return redirect("heatmaps:share_list")


@uncompressed  # the page shows the owner's share tokens (BREACH: see liqsite.compression)
@login_required
@require_GET
def share_list(request):
    # The list shows titles and dates; a frozen link's stored window and meta stay in the database.
    links = ShareLink.objects.filter(owner=request.user).defer("frozen_window", "frozen_meta")
    return render(request, "heatmaps/share_list.html", {"links": links, "site_url": settings.SITE_URL})


@login_required
@require_POST
def share_revoke(request, pk: int):
    # Someone else's link is "not found", not "forbidden": its existence is not theirs to learn.
    link = get_object_or_404(ShareLink.objects.defer("frozen_window", "frozen_meta"), pk=pk, owner=request.user)
    link.revoke()
    messages.success(request, f"Revoked: {link.title}")
    return redirect("heatmaps:share_list")


@require_GET
def share_view(request, token: str):
    """A public, read-only view. Touches no session or user, so one cached copy serves everyone."""
    link = active_share_link(token)
    if link is None:
        return _share_missing(request)
    partial = wants_partial(request)
    try:
        page = share_page(link, partial=partial, render=lambda: _render_share(request, link.pk, partial))
    except BadQuery as error:
        return _share_missing(request, reason=str(error))
    body, gzipped = page.body(request.headers.get("Accept-Encoding", ""))
    response = HttpResponse(body)
    if gzipped:
        response["Content-Encoding"] = "gzip"
    response["ETag"] = page.etag
    vary_on_partial(response)
    patch_vary_headers(response, ("Accept-Encoding",))
    # Caches must ask again before reusing the page (a cheap 304 while it is unchanged),
    # so a revoked link is gone everywhere at once, not after a max-age.
    patch_cache_control(response, public=True, no_cache=True)
    return get_conditional_response(request, etag=page.etag, response=response)


def _render_share(request, pk: int, partial: bool) -> str:
    link = ShareLink.objects.select_related("market__exchange").get(pk=pk)
    view, frozen = shared_view(link)
    context = view_context(
        view,
        path=request.path,
        public=True,
        analysis=frozen["analysis"] if frozen else None,
        params=frozen["params"] if frozen else None,
    ) | {
        "link": link,
        "og_description": link.description if link.frozen else share_description(view.analysis),
        "frozen_at": link.created_at if link.frozen else None,
        # The page is cached for every later visitor: its address must not come from one request's Host header.
        "page_url": settings.SITE_URL + request.path,
    }
    return render_to_string("heatmaps/share.html#view" if partial else "heatmaps/share.html", context)


@require_safe
def share_preview_image(request, token: str):
    """The share's preview picture (og:image). The link is checked on every request, so revoking it kills the picture
    at once; clients may keep a copy but must revalidate it (ETag) before use."""
    link = ShareLink.objects.active().filter(token=token).select_related("market__exchange").first()
    try:
        preview = share_preview(link) if link is not None else None
    except BadQuery:
        preview = None
    if preview is None:
        raise Http404("No preview for this link.")
    etag = f'"{preview.etag}"'
    if etag in request.headers.get("If-None-Match", ""):
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(preview.png, content_type="image/png")
    response["ETag"] = etag
    patch_cache_control(response, public=True, no_cache=True)
    return response


def _share_missing(request, reason: str = ""):
    html = render_to_string("heatmaps/share_missing.html", {"reason": reason})
    response = HttpResponse(html, status=404)
    vary_on_partial(response)
    return response


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise BadQuery(f"market must be a market id, not {value!r}.") from None
