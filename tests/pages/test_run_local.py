"""run_local serves the links of its own address: emails sent by its worker point at the port it serves."""

from __future__ import annotations

import os
from unittest import mock

import pytest
from django.conf import settings
from django.core.management import call_command

from heatmaps.management.commands.run_local import site_url_for


@pytest.mark.parametrize(
    ("addrport", "url"),
    [
        ("127.0.0.1:8000", "http://127.0.0.1:8000"),
        ("8001", "http://127.0.0.1:8001"),
        ("0.0.0.0:8123", "http://127.0.0.1:8123"),
        ("localhost:9000", "http://localhost:9000"),
        ("[::1]:8002", "http://[::1]:8002"),
    ],
)
def test_the_site_url_is_the_address_served(addrport, url):
    assert site_url_for(addrport) == url


def _run(monkeypatch, addrport):
    """run_local with the web server and the worker replaced: what would the worker inherit?"""
    seen = {}
    monkeypatch.setattr(settings, "SITE_URL", settings.SITE_URL)  # restored after the test
    with (
        mock.patch("heatmaps.management.commands.run_local.call_command") as runserver,
        mock.patch("heatmaps.management.commands.run_local.subprocess.Popen") as popen,
    ):
        popen.side_effect = lambda *args, **kwargs: (
            seen.setdefault("worker_site_url", os.environ.get("SITE_URL")) and mock.Mock(pid=1)
        )
        call_command("run_local", addrport)
    assert runserver.call_args.args[:2] == ("runserver", addrport)
    return seen["worker_site_url"]


def test_run_local_on_another_port_links_to_that_port(monkeypatch):
    monkeypatch.setenv("SITE_URL", "")  # unset (and restored after the test, whatever run_local writes)
    worker_site_url = _run(monkeypatch, "127.0.0.1:8765")
    assert settings.SITE_URL == worker_site_url == "http://127.0.0.1:8765"


def test_an_explicit_site_url_wins(monkeypatch):
    monkeypatch.setenv("SITE_URL", "https://liqsite.example.com")
    monkeypatch.setattr(settings, "SITE_URL", "https://liqsite.example.com")
    assert _run(monkeypatch, "127.0.0.1:8765") == "https://liqsite.example.com"
    assert settings.SITE_URL == "https://liqsite.example.com"
