"""Personas (owner, other user, anonymous visitor), a market, and a clean cache for every alerts test."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from liqsite.accounts.models import ConfirmedEmail
from tests.alerts.factories import make_market
from tests.alerts.smtp import smtp_server  # noqa: F401 - a fixture, shared with every alerts test

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def clean_cache():
    # The login throttle counts in the cache; no test may inherit another's counts.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # The real hasher is slow on purpose; these tests are about access, not hashing.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def confirmed_user(django_user_model, username: str, email: str):
    """An established account: its address confirmed, as sign-up's link does (alerts go only to confirmed addresses)."""
    user = django_user_model.objects.create_user(username, email, PASSWORD)
    ConfirmedEmail.objects.create(user=user, email=email, confirmed_at=timezone.now())
    return user


@pytest.fixture
def owner(django_user_model):
    return confirmed_user(django_user_model, "owner", "owner@example.com")


@pytest.fixture
def other(django_user_model):
    return confirmed_user(django_user_model, "other", "other@example.com")


def client_for(user=None, **kwargs) -> Client:
    client = Client(**kwargs)
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def owner_client(owner):
    return client_for(owner)


@pytest.fixture
def other_client(other):
    return client_for(other)


@pytest.fixture
def anon_client():
    return Client()


@pytest.fixture
def market(db):
    return make_market()
