"""Fixtures for plugin tests: recorded bodies, and the HTTP seam for code that builds plugins itself."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from liqsite.exchanges import http as exchange_http
from liqsite.exchanges.testing import ReplayTransport, fake_clock

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def fixture_path(exchange: str, name: str) -> Path:
    return FIXTURES / exchange / name


def fixture_json(exchange: str, name: str):
    return json.loads(fixture_path(exchange, name).read_text())


@pytest.fixture(autouse=True)
def budgets_in_this_process(monkeypatch):
    """Replayed recordings spend no shared (Redis) budget; that budget has its own tests (tests/liqsite)."""
    monkeypatch.setattr(exchange_http, "shared_budget", None)


@pytest.fixture
def replay(monkeypatch):
    """Install recorded routes at the module-level transport seam (for the Celery task path).

    ``replay(routes, now=...)`` returns the ``ReplayTransport``; every plugin
    built without a transport from then on (e.g. by ``refresh_market``) uses it.
    """

    def install(routes, *, now):
        transport = ReplayTransport(routes)
        monkeypatch.setattr(exchange_http, "transport_factory", lambda: transport)
        monkeypatch.setattr(exchange_http, "sleep", lambda seconds: None)
        fake_clock(monkeypatch, lambda: now)
        return transport

    return install
