"""Accounts: sign-up, throttled log-in, log-out, password change and reset by email."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.urls import reverse

from liqsite.accounts import throttle
from liqsite.outbox.models import OutboxMessage
from tests.alerts.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def log_in(client, username, password, address="10.0.0.1", url=None):
    return client.post(url or reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address)


def test_sign_up_logs_in_and_lands_on_the_watchlist():
    client = Client()
    response = client.post(
        reverse("signup"),
        {
            "username": "trader2",
            "email": "trader2@example.com",
            "password1": "a long enough passphrase",
            "password2": "a long enough passphrase",
        },
    )
    assert response.status_code == 302 and response["Location"] == reverse("alerts:watchlist")
    user = get_user_model().objects.get(username="trader2")
    assert user.email == "trader2@example.com" and user.check_password("a long enough passphrase")
    assert client.get(reverse("alerts:watchlist")).status_code == 200


def test_sign_up_needs_an_email_and_a_decent_password(owner):
    response = Client().post(reverse("signup"), {"username": "owner", "email": "", "password1": "123", "password2": "123"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "A user with that username already exists." in page and "This field is required." in page and "too short" in page


def test_log_in_and_log_out(owner):
    client = Client()
    response = client.post(reverse("login") + "?next=/alerts/", {"username": "owner", "password": PASSWORD, "next": "/alerts/"})
    assert response.status_code == 302 and response["Location"] == "/alerts/"
    assert client.get(reverse("alerts:rule_list")).status_code == 200
    assert client.get(reverse("logout")).status_code == 405  # logging out changes state: POST only
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("alerts:rule_list")).status_code == 302


def test_too_many_failures_for_one_account_refuse_that_address_even_with_the_right_password(owner, other):
    client = Client()
    for _ in range(throttle.USERNAME_LIMIT):
        assert log_in(client, "owner", "wrong").status_code == 200
    blocked = log_in(client, "OWNER ", PASSWORD)  # same address, same account
    assert blocked.status_code == 429
    page = blocked.content.decode()
    assert "5 failed attempts per account from one network address and 20 per network address within 15 minutes" in page
    assert not blocked.wsgi_request.user.is_authenticated
    assert log_in(client, "other", PASSWORD).status_code == 302  # other accounts are not affected
    # The guesser's failures do not lock the owner out: from their own address they get in.
    assert log_in(Client(), "owner", PASSWORD, address="10.9.9.9").status_code == 302


def test_too_many_failures_from_one_address_are_refused(owner):
    client = Client()
    for number in range(throttle.ADDRESS_LIMIT):
        log_in(client, f"guess{number}", "wrong", address="10.0.0.7")
    assert log_in(client, "owner", PASSWORD, address="10.0.0.7").status_code == 429
    assert log_in(Client(), "owner", PASSWORD, address="10.0.0.8").status_code == 302


def test_a_successful_log_in_forgives_the_accounts_failures_but_an_empty_password_does_not(owner):
    client = Client()
    for _ in range(throttle.USERNAME_LIMIT - 1):
        log_in(client, "owner", "wrong")
    log_in(client, "owner", "")  # must not reset the count
    assert log_in(client, "owner", "wrong").status_code == 200
    assert log_in(client, "owner", PASSWORD).status_code == 429

    throttle.LoginThrottle("owner", "10.0.0.1").record_success()
    for _ in range(throttle.USERNAME_LIMIT - 1):
        log_in(Client(), "owner", "wrong")
    assert log_in(Client(), "owner", PASSWORD).status_code == 302


def test_the_admin_log_in_shares_the_throttle_and_answers_429(admin_user):
    client = Client()
    for _ in range(throttle.USERNAME_LIMIT):
        log_in(client, "admin", "wrong", url=reverse("admin:login"))
    response = log_in(client, "admin", "correct horse battery", url=reverse("admin:login"))
    assert response.status_code == 429 and "Too many failed log-in attempts" in response.content.decode()
    assert not response.wsgi_request.user.is_authenticated


def test_password_change(owner, owner_client):
    response = owner_client.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "another long passphrase",
            "new_password2": "another long passphrase",
        },
    )
    assert response.status_code == 302 and response["Location"] == reverse("password_change_done")
    owner.refresh_from_db()
    assert owner.check_password("another long passphrase")


def test_password_reset_by_email_through_the_outbox(owner, django_capture_on_commit_callbacks):
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        known = client.post(reverse("password_reset"), {"email": "owner@example.com"})
    assert known.status_code == 302 and known["Location"] == reverse("password_reset_done")
    (message,) = mail.outbox
    assert message.to == ["owner@example.com"] and message.subject == "[liqsite] Reset your password"
    link = re.search(r"http://127\.0\.0\.1:8000(/accounts/reset/\S+/)", message.body).group(1)
    assert link in message.alternatives[0].content
    stored = OutboxMessage.objects.get()
    assert stored.kind == "password_reset" and stored.status == "sent" and stored.text_body == ""  # the link is not kept

    form = client.get(link, follow=True)
    assert "Choose a new password" in form.content.decode()
    done = client.post(
        form.redirect_chain[-1][0], {"new_password1": "a brand new passphrase", "new_password2": "a brand new passphrase"}
    )
    assert done.status_code == 302 and done["Location"] == reverse("password_reset_complete")
    owner.refresh_from_db()
    assert owner.check_password("a brand new passphrase")


def test_password_reset_does_not_tell_whether_an_account_exists(owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        known = Client().post(reverse("password_reset"), {"email": "owner@example.com"}, follow=True)
        unknown = Client().post(reverse("password_reset"), {"email": "nobody@example.com"}, follow=True)
    assert known.redirect_chain == unknown.redirect_chain
    without_tokens = lambda page: re.sub(rb'("X-CSRFToken": "|name="csrfmiddlewaretoken" value=")[^"]+', b"", page)  # noqa: E731
    assert without_tokens(known.content) == without_tokens(unknown.content)
    assert len(mail.outbox) == 1 and OutboxMessage.objects.count() == 1


def test_nav_shows_log_in_to_visitors_and_watchlist_alerts_log_out_to_users(owner, owner_client):
    visitor = Client().get(reverse("heatmaps:market_list")).content.decode()
    assert 'href="/accounts/login/"' in visitor and 'href="/watchlist/"' not in visitor
    member = owner_client.get(reverse("heatmaps:market_list")).content.decode()
    assert 'href="/watchlist/"' in member and 'href="/alerts/"' in member and 'action="/accounts/logout/"' in member


def test_password_reset_is_rate_limited_per_address_and_per_client(owner, django_capture_on_commit_callbacks):
    from liqsite.accounts import throttle

    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(throttle.RESET_EMAIL_LIMIT + 2):
            assert client.post(reverse("password_reset"), {"email": "owner@example.com"}).status_code == 302
    # Past the per-address limit nothing more is sent, and the page still reads the same.
    assert len(mail.outbox) == throttle.RESET_EMAIL_LIMIT
    for _ in range(throttle.RESET_ADDRESS_LIMIT - throttle.RESET_EMAIL_LIMIT - 2):
        assert client.post(reverse("password_reset"), {"email": "nobody@example.com"}).status_code == 302
    refused = client.post(reverse("password_reset"), {"email": "someone@example.com"})
    assert refused.status_code == 429 and "10 per hour" in refused.content.decode()
    elsewhere = Client(REMOTE_ADDR="192.0.2.7").post(reverse("password_reset"), {"email": "someone@example.com"})
    assert elsewhere.status_code == 302
