"""Pages of the heatmaps app. Views stay thin: parse, call a selector or service, render.

HTMX requests (a control clicked on the page) get only the ``view`` partial;
everything else gets the whole page. Both vary on ``HX-Request``.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_GET, require_POST

from heatmaps.models import ShareLink
from heatmaps.pages.context import view_context
from heatmaps.pages.heatmap_view import heatmap_view
from heatmaps.pages.query import BadQuery, parse_view_query
from heatmaps.pages.shares import create_share_link, share_description, shared_view
from heatmaps.pages.snapshots import coin_target, market_target
from heatmaps.selectors import market_coverage_list
from liqsite.htmx import vary_on_partial, wants_partial

SHARE_CACHE_SECONDS = {False: 60, True: 3600}  # live, frozen
SHARE_MAX_AGE = 60  # what browsers and proxies may keep; revocation takes effect within it


def market_list(request):
    """All markets with the coverage of their stored data and their last error."""
    return render(request, "heatmaps/market_list.html", {"coverage": market_coverage_list()})


@require_GET
def market_heatmap(request, market_id: int):
    return _heatmap_page(request, lambda: market_target(market_id))


@require_GET
def coin_heatmap(request, coin: str):
    return _heatmap_page(request, lambda: coin_target(coin))


def _heatmap_page(request, find_target):
    try:
        target = find_target()
        view = heatmap_view(target, parse_view_query(request.GET, coin_page=target.is_coin))
    except BadQuery as error:
        return bad_request(request, error)
    context = view_context(view, path=request.path)
    template = "heatmaps/heatmap.html#view" if wants_partial(request) else "heatmaps/heatmap.html"
    response = render(request, template, context)
    vary_on_partial(response)
    return response


def bad_request(request, error: BadQuery):
    return render(request, "heatmaps/bad_request.html", {"message": str(error)}, status=400)


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
    messages.success(request, f"Share link created: {request.build_absolute_uri(link.get_absolute_url())}")
    return redirect("heatmaps:share_list")


@login_required
@require_GET
def share_list(request):
    # The list shows titles and dates; a frozen link's stored window and meta stay in the database.
    links = ShareLink.objects.filter(owner=request.user).defer("frozen_window", "frozen_meta")
    return render(request, "heatmaps/share_list.html", {"links": links})


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
    link = ShareLink.objects.active().filter(token=token).only("pk", "frozen", "title", "description").first()
    if link is None:
        return _share_missing(request)
    partial = wants_partial(request)
    key = f"share-page:v1:{link.pk}:{token}:{int(partial)}"
    html = cache.get(key)
    if html is None:
        link = ShareLink.objects.select_related("market__exchange").get(pk=link.pk)
        try:
            view, frozen = shared_view(link)
        except BadQuery as error:
            return _share_missing(request, reason=str(error))
        context = view_context(
            view, path=request.path, public=True,
            analysis=frozen["analysis"] if frozen else None, params=frozen["params"] if frozen else None,
        ) | {
            "link": link,
            "og_description": link.description if link.frozen else share_description(view.analysis),
            "frozen_at": link.created_at if link.frozen else None,
            "page_url": request.build_absolute_uri(request.path),
        }
        html = render_to_string("heatmaps/share.html#view" if partial else "heatmaps/share.html", context)
        cache.set(key, html, SHARE_CACHE_SECONDS[link.frozen])
    response = HttpResponse(html)
    vary_on_partial(response)
    patch_cache_control(response, public=True, max_age=SHARE_MAX_AGE)
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
