"""Refuse any request that carries a NUL byte before it can reach a query.

PostgreSQL text values cannot hold NUL (``\\x00``): a lookup with one raises
``DataError`` and the visitor gets a 500, where SQLite simply finds nothing.
No URL, form value or cookie of this site ever needs a NUL, so rather than
guard every lookup, the request is turned away at the door with a 400 on every
database alike. Form fields keep Django's own ``ProhibitNullCharactersValidator``
as a second line for inputs that arrive some other way (the admin, the shell).
"""

from __future__ import annotations

from django.core.exceptions import BadRequest

NUL = "\x00"


def request_nul_source(request) -> str | None:
    """Which part of the request holds a NUL byte (``"path"``, ``"query"``, ``"form"``, ``"cookie"``), or None."""
    if NUL in request.path_info or NUL in request.path:
        return "path"
    if _has_nul(request.GET):
        return "query"
    # Only form bodies are parsed (request.POST is empty for any other content
    # type); uploaded files may legitimately hold NUL bytes and are not looked at.
    if request.method == "POST" and _has_nul(request.POST):
        return "form"
    if any(NUL in key or NUL in value for key, value in request.COOKIES.items()):
        return "cookie"
    return None


def _has_nul(query) -> bool:
    return any(NUL in key or any(NUL in value for value in values) for key, values in query.lists())


class RejectNulBytesMiddleware:
    """Answer 400 (through the site's 400 page) to a request with a NUL byte anywhere a view could read it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        source = request_nul_source(request)
        if source is not None:
            raise BadRequest(f"NUL byte in the request {source}")
        return self.get_response(request)
