"""Issue 13, "Accounts and abuse": each reproducer from the report, and what stops it now."""

from __future__ import annotations

import re
from unittest import mock

import pytest
from django.core import mail, signing
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from alerts.models import Alert, AlertRule
from grids.targets import Target
from liqsite.accounts import throttle
from liqsite.accounts.client_address import client_address, rate_limit_key
from liqsite.accounts.confirmation import MAX_AGE_SECONDS
from liqsite.accounts.models import ConfirmedEmail
from liqsite.accounts.selectors import email_confirmed
from liqsite.outbox.models import OutboxMessage
from tests.alerts.conftest import PASSWORD
from tests.alerts.factories import T0, band, store_grid

pytestmark = pytest.mark.django_db

PROXY = "10.0.0.254"


@pytest.fixture
def behind_proxy(settings):
    import ipaddress

    settings.LIQSITE_PROXY_HEADER = "HTTP_X_FORWARDED_FOR"
    settings.LIQSITE_TRUSTED_PROXIES = (ipaddress.ip_network(f"{PROXY}/32"),)


def through_proxy(username, password, client_ip, *, remote=PROXY, forwarded=None):
    return Client().post(
        reverse("login"),
        {"username": username, "password": password},
        REMOTE_ADDR=remote,
        HTTP_X_FORWARDED_FOR=forwarded or client_ip,
    )


# --- Log-in throttle behind a proxy ------------------------------------------------


def test_behind_the_proxy_twenty_strangers_failures_do_not_lock_everyone_out(owner, behind_proxy):
    # The report: after 20 failures through the proxy, a valid log-in got 429.
    for number in range(throttle.ADDRESS_LIMIT):
        through_proxy(f"guess{number}", "wrong", "198.51.100.7")
    assert through_proxy("owner", PASSWORD, "203.0.113.5").status_code == 302
    assert through_proxy("owner", PASSWORD, "198.51.100.7").status_code == 429  # the guesser is the one stopped


def test_without_the_setting_the_proxy_address_is_what_counts(owner):
    # Documents why the setting exists: everyone behind the proxy shares REMOTE_ADDR.
    for number in range(throttle.ADDRESS_LIMIT):
        through_proxy(f"guess{number}", "wrong", "198.51.100.7")
    assert through_proxy("owner", PASSWORD, "203.0.113.5").status_code == 429


def test_a_client_cannot_pick_its_address(owner, behind_proxy):
    # Reaching the app directly (not through the proxy), X-Forwarded-For is not believed.
    for number in range(throttle.ADDRESS_LIMIT):
        through_proxy(f"guess{number}", "wrong", f"192.0.2.{number}", remote="198.51.100.9")
    assert through_proxy("owner", PASSWORD, "192.0.2.200", remote="198.51.100.9").status_code == 429
    # Through the proxy, entries the client wrote to the left of the proxy's own do not count either.
    for number in range(throttle.ADDRESS_LIMIT):
        through_proxy(f"guess{number}", "wrong", "", forwarded=f"192.0.2.{number}, 198.51.100.10")
    assert through_proxy("owner", PASSWORD, "", forwarded="192.0.2.250, 198.51.100.10").status_code == 429


@pytest.mark.parametrize(
    ("remote", "forwarded", "expected"),
    [
        ("198.51.100.1", "", "198.51.100.1"),  # no header: the proxy itself
        (PROXY, "203.0.113.5", "203.0.113.5"),
        (PROXY, "1.1.1.1, 203.0.113.5", "203.0.113.5"),  # the left part is the client's own claim
        (PROXY, f"203.0.113.5, {PROXY}", "203.0.113.5"),  # two of our proxies in a row
        (PROXY, "203.0.113.5, not-an-ip", PROXY),  # a malformed hop: stop at what we know
        (PROXY, " 2001:db8::1 ", "2001:db8::1"),
        ("not-an-ip", "203.0.113.5", "unknown"),
    ],
)
def test_client_address_reads_the_header_from_the_right(behind_proxy, rf, remote, forwarded, expected):
    request = rf.get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_address(request) == expected


def test_ipv6_clients_are_counted_per_64():
    assert rate_limit_key("2001:db8:1:2::1") == rate_limit_key("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    assert rate_limit_key("2001:db8:1:3::1") != rate_limit_key("2001:db8:1:2::1")
    assert rate_limit_key("::ffff:192.0.2.1") == "192.0.2.1"
    assert rate_limit_key("192.0.2.1") == "192.0.2.1"


def test_five_bad_guesses_lock_only_the_guesser_out_of_an_account(owner):
    # The report: any account could be locked with 5 bad guesses.
    for _ in range(throttle.USERNAME_LIMIT):
        Client().post(reverse("login"), {"username": "owner", "password": "wrong"}, REMOTE_ADDR="198.51.100.7")
    assert (
        Client().post(reverse("login"), {"username": "owner", "password": PASSWORD}, REMOTE_ADDR="198.51.100.7").status_code
        == 429
    )
    assert (
        Client().post(reverse("login"), {"username": "owner", "password": PASSWORD}, REMOTE_ADDR="203.0.113.5").status_code == 302
    )


def test_with_cache_url_every_process_counts_together(settings):
    # The report: without CACHE_URL each web process counts on its own. With it, failures
    # counted in another process (another web worker) block here.
    import os
    import subprocess
    import sys
    from pathlib import Path

    from tests.conftest import skip_or_fail_without

    if not settings.CACHES["default"]["BACKEND"].endswith("RedisCache"):
        skip_or_fail_without("Redis", "CACHE_URL is not set, so the cache is this process's memory")
    from django.core.cache import cache

    other_process = (
        "import sys, django; django.setup()\n"
        "from django.core.cache import cache; cache.key_prefix = sys.argv[1]  # this test process's (see tests/conftest.py)\n"
        "from liqsite.accounts.throttle import LoginThrottle, USERNAME_LIMIT\n"
        "for _ in range(USERNAME_LIMIT): LoginThrottle('owner', '198.51.100.7').record_failure()"
    )
    environment = os.environ | {"DJANGO_SETTINGS_MODULE": "liqsite.settings"}
    root = Path(__file__).resolve().parents[2]
    command = [sys.executable, "-c", other_process, cache.key_prefix]
    subprocess.run(command, cwd=root, env=environment, check=True, timeout=60)
    assert throttle.LoginThrottle("owner", "198.51.100.7").blocked()
    assert not throttle.LoginThrottle("owner", "203.0.113.5").blocked()


# --- Sign-up -------------------------------------------------------------------


def sign_up(username, email, *, address="192.0.2.10", client=None):
    return (client or Client()).post(
        reverse("signup"),
        {
            "username": username,
            "email": email,
            "password1": "a long enough passphrase",
            "password2": "a long enough passphrase",
        },
        REMOTE_ADDR=address,
    )


def test_sign_up_is_rate_limited_per_address_and_stops_answering_about_usernames(owner, django_capture_on_commit_callbacks):
    # The report: 30 accounts from one address in 37 s, and usernames listed through the form.
    with django_capture_on_commit_callbacks(execute=True):
        made = [
            sign_up(f"bulk{number}", f"bulk{number}@example.com").status_code for number in range(throttle.SIGNUP_ADDRESS_LIMIT)
        ]
    assert made == [302] * throttle.SIGNUP_ADDRESS_LIMIT
    refused = sign_up("owner", "x@example.com")
    page = refused.content.decode()
    assert refused.status_code == 429 and "10 per hour" in page
    assert "already exists" not in page  # the form was not validated: a taken username is not confirmed
    refused = sign_up("bulk-extra", "extra@example.com")
    assert refused.status_code == 429 and not refused.wsgi_request.user.is_authenticated
    from django.contrib.auth import get_user_model

    assert get_user_model().objects.filter(username__startswith="bulk").count() == throttle.SIGNUP_ADDRESS_LIMIT
    assert sign_up("elsewhere", "elsewhere@example.com", address="203.0.113.5").status_code == 302


def test_a_new_address_gets_a_confirmation_link_and_alerts_wait_for_it(market, django_capture_on_commit_callbacks):
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        assert sign_up("newbie", "newbie@example.com", client=client).status_code == 302
    (message,) = mail.outbox
    assert message.to == ["newbie@example.com"] and message.subject == "[liqsite] Confirm your email address"
    link = re.search(r"http://127\.0\.0\.1:8000(/accounts/confirm/\S+/)", message.body).group(1)
    assert link in message.alternatives[0].content
    assert OutboxMessage.objects.get().text_body == ""  # the link is a credential: not kept once sent
    user = client.get(reverse("alerts:rule_list")).wsgi_request.user
    assert "is not confirmed yet" in client.get(reverse("alerts:rule_list")).content.decode()

    # Before confirming, an alert fires and is logged, but no email is queued.
    fire_alert(user, market, django_capture_on_commit_callbacks)
    assert Alert.objects.get().message is None and OutboxMessage.objects.filter(kind="alert").count() == 0

    # Opening the link (as a mail scanner would) asks; only the button confirms.
    opened = Client().get(link)
    assert opened.status_code == 200 and "Confirm this address" in opened.content.decode()
    assert not email_confirmed(user=user)
    confirmed = Client().post(link)
    assert confirmed.status_code == 200 and "Address confirmed" in confirmed.content.decode()
    assert email_confirmed(user=user)
    assert "is not confirmed yet" not in client.get(reverse("alerts:rule_list")).content.decode()


def fire_alert(user, market, capture, *, low=102):
    from alerts.tasks import evaluate_rules

    AlertRule.objects.create(user=user, market=market, kind="cluster", within_pct=5, min_usd=1e6)
    store_grid(market=market, close=100, bands=[band(low=low, high=low + 1, usd=2e6, close=100, since=T0)])
    with capture(execute=True):
        evaluate_rules.delay(Target(market_id=market.pk).key)


def test_an_address_another_account_confirmed_gets_a_notice_and_the_sign_up_reads_the_same(
    owner, market, django_capture_on_commit_callbacks
):
    # The report: an address already used by another account was accepted, so alerts could be aimed at it.
    with django_capture_on_commit_callbacks(execute=True):
        taken = sign_up("intruder", "Owner@Example.com", client=(first := Client()))
        fresh = sign_up("stranger", "fresh@example.com", client=(second := Client()))
    assert taken.status_code == fresh.status_code == 302 and taken["Location"] == fresh["Location"]

    def welcome(client, name, email):
        return client.get(taken["Location"]).content.decode().replace(name, "NAME").replace(email, "EMAIL")

    def without_tokens(page):
        return re.sub(r'("X-CSRFToken": "|name="csrfmiddlewaretoken" value=")[^"]+', "", page)

    assert without_tokens(welcome(first, "intruder", "Owner@example.com")) == without_tokens(
        welcome(second, "stranger", "fresh@example.com")
    )

    notice, link = mail.outbox
    assert notice.to == ["owner@example.com"] and "Someone signed up with your email address" in notice.subject
    assert '"intruder"' in notice.body and '"owner"' in notice.body and "/accounts/confirm/" not in notice.body
    assert link.to == ["fresh@example.com"]
    intruder = type(owner).objects.get(username="intruder")
    assert not email_confirmed(user=intruder)
    fire_alert(intruder, market, django_capture_on_commit_callbacks)
    assert OutboxMessage.objects.filter(kind="alert").count() == 0  # nothing reaches the owner's inbox


def test_a_confirmation_link_is_refused_when_forged_expired_stale_or_taken(django_user_model, owner):
    from liqsite.accounts.confirmation import confirmation_token_make

    user = django_user_model.objects.create_user("late", "late@example.com", PASSWORD)
    token = confirmation_token_make(user=user)
    url = reverse("email_confirm", args=[token])
    assert Client().post(reverse("email_confirm", args=[token[:-2] + "xx"])).status_code == 400
    later = signing.time.time() + MAX_AGE_SECONDS + 60
    with mock.patch("django.core.signing.time.time", return_value=later):
        assert Client().post(url).status_code == 400
    user.email = "moved@example.com"
    user.save()
    assert Client().post(url).status_code == 400  # the link names the address it was sent to
    assert not email_confirmed(user=user)

    # Two accounts with one address (made before sign-up checked): the first to confirm keeps it.
    twin = django_user_model.objects.create_user("twin", "owner@example.com", PASSWORD)
    taken = Client().post(reverse("email_confirm", args=[confirmation_token_make(user=twin)]))
    assert taken.status_code == 409 and not email_confirmed(user=twin)


def test_resending_a_link_needs_the_account_and_is_rate_limited(django_user_model, django_capture_on_commit_callbacks):
    assert Client().post(reverse("email_confirm_resend")).status_code == 302  # anonymous: to the log-in page
    assert mail.outbox == []
    user = django_user_model.objects.create_user("slow", "slow@example.com", PASSWORD)
    client = Client()
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(throttle.ADDRESS_EMAIL_LIMIT + 2):
            response = client.post(reverse("email_confirm_resend"), follow=True)
            assert "A link to confirm slow@example.com is on its way" in response.content.decode()
    assert len(mail.outbox) == throttle.ADDRESS_EMAIL_LIMIT


def test_the_owner_confirmed_address_is_not_resent(owner, owner_client):
    response = owner_client.post(reverse("email_confirm_resend"), follow=True)
    assert "owner@example.com is already confirmed" in response.content.decode() and mail.outbox == []


# --- Password reset: the same work for known and unknown addresses ----------------


def test_password_reset_does_the_same_work_in_the_request_for_known_and_unknown_addresses(
    owner, django_capture_on_commit_callbacks
):
    # The report: ~65–85 ms for a known address vs ~47–67 ms for an unknown one.
    def request(email):
        with CaptureQueriesContext(connection) as queries, django_capture_on_commit_callbacks() as callbacks:
            response = Client().post(reverse("password_reset"), {"email": email})
        # The same statements, whatever the address: literal values (the address, the time) aside.
        return response, [re.sub(r"'[^']*'", "?", query["sql"]) for query in queries.captured_queries], callbacks

    known, known_sql, known_tasks = request("owner@example.com")
    unknown, unknown_sql, unknown_tasks = request("nobody@example.com")
    assert known.status_code == unknown.status_code == 302
    assert known_sql == unknown_sql and known_sql  # no lookup of the address inside the request
    assert len(known_tasks) == len(unknown_tasks) == 1
    assert OutboxMessage.objects.count() == 0 and mail.outbox == []
    with django_capture_on_commit_callbacks(execute=True):
        for callback in known_tasks + unknown_tasks:
            callback()
    assert [message.to for message in mail.outbox] == [["owner@example.com"]]


# --- Share pages: SITE_URL, not the Host header ------------------------------------


def test_share_pages_take_their_address_from_site_url_not_the_host_header(owner, owner_client, market, settings):
    from heatmaps.models import ShareLink

    settings.SITE_URL = "https://liq.example.org"
    settings.ALLOWED_HOSTS = ["*"]
    store_grid(market=market, close=100, bands=[])
    created = owner_client.post(reverse("heatmaps:share_create"), {"market": market.pk}, HTTP_HOST="evil.example", follow=True)
    link = ShareLink.objects.get()
    page = created.content.decode()
    assert f"Share link created: https://liq.example.org{link.get_absolute_url()}" in page and "evil.example" not in page
    first = Client().get(link.get_absolute_url(), HTTP_HOST="evil.example").content.decode()
    assert f'<meta property="og:url" content="https://liq.example.org{link.get_absolute_url()}">' in first
    assert "evil.example" not in Client().get(link.get_absolute_url()).content.decode()  # nor in the cached copy
    listing = owner_client.get(reverse("heatmaps:share_list"), HTTP_HOST="evil.example").content.decode()
    assert f"https://liq.example.org{link.get_absolute_url()}" in listing and "evil.example" not in listing


# --- Existing accounts when the migration runs -------------------------------------


@pytest.mark.django_db(transaction=True)
def test_existing_accounts_are_confirmed_except_later_duplicates(django_user_model):
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    executor.migrate([("accounts", None)])
    try:
        old = django_user_model.objects.create_user("first", "shared@example.com", PASSWORD)
        django_user_model.objects.filter(pk=old.pk).update(date_joined=T0)
        later = django_user_model.objects.create_user("second", "Shared@Example.com", PASSWORD)
        alone = django_user_model.objects.create_user("alone", "alone@example.com", PASSWORD)
        no_address = django_user_model.objects.create_user("none", "", PASSWORD)
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate([("accounts", "0002_confirm_existing_addresses")])
    finally:
        MigrationExecutor(connection).migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
    assert email_confirmed(user=old) and email_confirmed(user=alone)
    assert not email_confirmed(user=later) and not email_confirmed(user=no_address)
    assert ConfirmedEmail.objects.get(user=old).confirmed_at == T0
    assert ConfirmedEmail.objects.count() == 2
