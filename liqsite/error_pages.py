"""The server-error handler: a plain 503 when the database is out, a plain 500 otherwise.

Django calls ``handler500`` from inside the ``except`` block of any uncaught
exception, in the view or in a middleware, so the exception is still at hand
in ``sys.exc_info()``. A database that refuses connections or stays locked is
an outage the visitor can wait out (503 with ``Retry-After``), not a bug. Both
pages are rendered without a request context: the context processors would
ask the database for the user, and the static manifest may be missing too.
"""

from __future__ import annotations

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, HttpResponseServerError
from django.template.loader import get_template

RETRY_AFTER_SECONDS = 30


def is_database_outage(error: BaseException | None) -> bool:
    """Whether an exception (or one it was raised from) says the database is unreachable or busy."""
    while error is not None:
        if isinstance(error, (OperationalError, InterfaceError)):
            return True
        error = error.__cause__ or error.__context__
    return False


def server_error(request) -> HttpResponse:
    if is_database_outage(sys.exc_info()[1]):
        response = HttpResponse(get_template("503.html").render(), status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    return HttpResponseServerError(get_template("500.html").render())
