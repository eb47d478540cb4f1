"""When a request wants a page fragment, and the headers that decision depends on."""

from django.utils.cache import patch_vary_headers

# Every request header that changes whether a view answers with the whole page or a fragment.
PARTIAL_VARY = ("HX-Request", "HX-Boosted", "HX-History-Restore-Request")


def wants_partial(request) -> bool:
    """An HTMX swap: not a boosted link, nor a history restore (htmx fetching a page it has no
    copy of for the back button), both of which need the whole page."""
    return bool(request.htmx) and not request.htmx.boosted and not request.htmx.history_restore_request


def vary_on_partial(response):
    """Mark ``response`` as depending on the headers :func:`wants_partial` reads (for caches)."""
    patch_vary_headers(response, PARTIAL_VARY)
    return response
