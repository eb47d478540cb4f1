"""The server-error pages: a plain 503 with Retry-After when the database is out, a plain 500 otherwise."""

from __future__ import annotations

import pytest
from django.db import OperationalError
from django.test import Client
from django.urls import path

from liqsite.urls import handler500, urlpatterns


def _database_down(request):
    raise OperationalError("database is locked")


def _bug(request):
    raise ZeroDivisionError("division by zero")


def _wrapped(request):
    try:
        _database_down(request)
    except OperationalError as error:
        raise RuntimeError("loading the page failed") from error


class urls:  # noqa: N801 - a URLconf module stand-in for override_settings
    handler500 = handler500
    urlpatterns = [path("down/", _database_down), path("bug/", _bug), path("wrapped/", _wrapped), *urlpatterns]


@pytest.fixture
def visitor(settings):
    settings.ROOT_URLCONF = urls
    settings.DEBUG = False
    return Client(raise_request_exception=False)


@pytest.mark.parametrize("url", ["/down/", "/wrapped/"])
def test_a_database_outage_is_a_plain_503(visitor, url):
    response = visitor.get(url)
    assert response.status_code == 503 and response["Retry-After"] == "30"
    assert b"temporarily unavailable" in response.content and b"<a" in response.content


def test_any_other_error_is_the_plain_500_page(visitor):
    response = visitor.get("/bug/")
    assert response.status_code == 500 and "Retry-After" not in response
    assert b"Something went wrong on our side" in response.content


@pytest.mark.django_db
def test_a_request_for_a_host_not_allowed_is_one_log_line_without_a_traceback():
    import io
    import logging

    logger = logging.getLogger("django.security.DisallowedHost")
    (handler,) = [h for h in logger.handlers if type(h) is logging.StreamHandler]  # the console, not pytest's
    stream = io.StringIO()
    previous = handler.setStream(stream)
    try:
        response = Client().get("/", HTTP_HOST="scanner.invalid")
    finally:
        handler.setStream(previous)
    assert response.status_code == 400
    logged = stream.getvalue()
    assert "Invalid HTTP_HOST header: 'scanner.invalid'" in logged
    assert "Traceback" not in logged and logged.count("\n") == 1, logged
