"""Gzip for pages, except those that carry a secret of their own.

BREACH recovers a secret from a compressed HTTPS response when the page also
reflects what an attacker sends and the attacker can watch response sizes.
Django's ``GZipMiddleware`` already pads every compressed response by a random
length (Heal-the-BREACH, Django 4.2+), and the one secret on every page, the
CSRF token, is masked afresh for each response, so it never repeats between
two responses an attacker could compare. What is left are secrets that do
repeat: a view that shows one (share-link tokens) is marked with
``@uncompressed`` and goes out as it is. Static files never reach this
middleware: WhiteNoise answers them earlier with its own pre-compressed copies.
"""

from __future__ import annotations

from functools import wraps

from django.middleware.gzip import GZipMiddleware


def uncompressed(view):
    """Send this view's responses uncompressed: they show a secret that repeats between responses."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response.liqsite_uncompressed = True
        return response

    return wrapper


class CompressionMiddleware(GZipMiddleware):
    def process_response(self, request, response):
        if getattr(response, "liqsite_uncompressed", False):
            return response
        return super().process_response(request, response)
