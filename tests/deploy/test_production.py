"""The README's production deployment, run as written, end to end.

From a virtualenv holding requirements.txt only (no test tools), this runs the
command lines of the README's "Production" block: migrate, collectstatic, then
gunicorn, a Celery worker and Celery beat as separate processes, on a
PostgreSQL database and Redis db numbers of its own, with mail going to an
SMTP server on loopback. Beat's periodic refresh makes the worker ingest the
sample market and compute its grids; the heatmap page is read through
gunicorn (gzip, within the page budget), and the alert rule's email arrives
over SMTP. Everything is torn down afterwards.

Needs the services (DATABASE_URL=postgres://..., CELERY_BROKER_URL=redis://...):
skipped without them, a failure when LIQSITE_REQUIRE_SERVICES=1 (CI).
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import secrets
import shlex
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from django.conf import settings

from tests.conftest import skip_or_fail_without
from tests.deploy.processes import ROOT, Process, child_env, free_port, port_open, wait_for

pytestmark = pytest.mark.services

PAGE_BUDGET = 150 * 1024
SETUP = """
from django.contrib.auth.models import User
from alerts.models import AlertRule
from markets.models import Exchange, Market
from heatmaps.management.commands.setup_sample import SAMPLE_MARKETS

exchange = Exchange.objects.create(plugin="sample", enabled=True)
with exchange.client() as plugin:
    instrument = plugin.instrument("SOL-USDT-SWAP")
market = Market.objects.create(
    exchange=exchange, symbol="SOL-USDT-SWAP", base=instrument.base, quote=instrument.quote,
    contract_type=instrument.contract_type, contract_size=instrument.contract_size, tick_size=instrument.tick_size,
    intervals=SAMPLE_MARKETS["SOL-USDT-SWAP"],
)
from django.utils import timezone
from liqsite.accounts.models import ConfirmedEmail
trader = User.objects.create_user("trader", "trader@example.com", "correct horse battery")
# Alerts go only to confirmed addresses (a user confirms by the link emailed at sign-up).
ConfirmedEmail.objects.create(user=trader, email=trader.email, confirmed_at=timezone.now())
AlertRule.objects.create(user=trader, market=market, kind="cluster", within_pct=50, min_usd=1, interval="15m")
print("market", market.pk)
"""


def readme_commands() -> list[list[str]]:
    """The command lines of the README's production block (between the deploy markers)."""
    text = (ROOT / "README.md").read_text()
    block = re.search(r"<!-- deploy:start -->\s*```sh\n(.*?)```\s*<!-- deploy:end -->", text, re.S)
    assert block, "README.md has no <!-- deploy:start --> ... <!-- deploy:end --> block"
    lines = [line.split("  #")[0].strip() for line in block.group(1).splitlines()]
    return [shlex.split(line) for line in lines if line.startswith(".venv/bin/")]


def readme_variables() -> set[str]:
    text = (ROOT / "README.md").read_text()
    block = re.search(r"<!-- deploy:start -->(.*?)<!-- deploy:end -->", text, re.S).group(1)
    return set(re.findall(r"\b([A-Z][A-Z_]+)=", block))


def runtime_venv() -> Path:
    """A virtualenv with requirements.txt only, kept under var/ and rebuilt when the requirements change."""
    requirements = (ROOT / "requirements.txt").read_bytes()
    key = hashlib.sha256(requirements + sys.version.encode()).hexdigest()[:16]
    venv = ROOT / "var" / "deploy-venv" / key
    if not (venv / ".complete").exists():
        subprocess.run(
            [getattr(sys, "_base_executable", sys.executable), "-m", "venv", "--clear", str(venv)], check=True, timeout=300
        )
        subprocess.run(
            [
                str(venv / "bin" / "pip"),
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "-r",
                str(ROOT / "requirements.txt"),
            ],
            check=True,
            timeout=1200,
        )
        (venv / ".complete").touch()
    return venv


@pytest.fixture
def postgres_url():
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        skip_or_fail_without("PostgreSQL", "DATABASE_URL does not point at PostgreSQL")
    import psycopg

    db = settings.DATABASES["default"]
    name = f"liqsite_deploy_{secrets.token_hex(4)}"
    server = {
        "host": db["HOST"],
        "port": db["PORT"] or 5432,
        "user": db["USER"],
        "password": db["PASSWORD"],
        "dbname": "postgres",
    }
    with psycopg.connect(**server, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    auth = f"{db['USER']}:{db['PASSWORD']}@" if db["PASSWORD"] else f"{db['USER']}@"
    yield f"postgres://{auth}{db['HOST']}:{server['port']}/{name}"
    with psycopg.connect(**server, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def redis_urls():
    """The run's own broker and cache dbs (CELERY_BROKER_URL, CACHE_URL), flushed before and after.

    Taken from the run's settings rather than fixed numbers, so that runs given different dbs on one
    Redis server (CI beside another engineer's suite) never flush each other's queues.
    """
    if not settings.CELERY_BROKER_URL.startswith("redis"):
        skip_or_fail_without("Redis", f"the broker is {settings.CELERY_BROKER_URL} (set CELERY_BROKER_URL=redis://...)")
    cache_url = os.environ.get("CACHE_URL", "")
    if not cache_url.startswith("redis"):
        skip_or_fail_without("Redis", "CACHE_URL is not a redis:// URL (the production block shares its cache in Redis)")
    if cache_url == settings.CELERY_BROKER_URL:
        pytest.fail("CACHE_URL and CELERY_BROKER_URL name the same Redis db; give each its own")
    import redis

    urls = (settings.CELERY_BROKER_URL, cache_url)
    for url in urls:
        redis.Redis.from_url(url).flushdb()
    yield urls
    for url in urls:
        redis.Redis.from_url(url).flushdb()


@pytest.fixture
def smtp():
    from aiosmtpd.controller import Controller

    class Inbox:
        def __init__(self):
            self.messages = []

        async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's handler API
            self.messages.append(envelope)
            return "250 OK"

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield inbox, controller.port
    controller.stop()


def test_the_readme_production_deployment_refreshes_computes_serves_and_mails(tmp_path, postgres_url, redis_urls, smtp):
    commands = readme_commands()
    assert [c[:3] for c in commands] == [
        [".venv/bin/python", "manage.py", "migrate"],
        [".venv/bin/python", "manage.py", "collectstatic"],
        [".venv/bin/gunicorn", "--config", "deploy/gunicorn.conf.py"],
        [".venv/bin/celery", "-A", "liqsite"],
        [".venv/bin/celery", "-A", "liqsite"],
    ], commands
    venv = runtime_venv()
    inbox, smtp_port = smtp
    port = free_port()
    site = f"http://127.0.0.1:{port}"
    var = tmp_path / "var"
    var.mkdir()
    env = child_env(
        LIQSITE_ENV="production",
        SECRET_KEY=secrets.token_urlsafe(60),
        ALLOWED_HOSTS="127.0.0.1",
        SITE_URL=site,
        DATABASE_URL=postgres_url,
        CELERY_BROKER_URL=redis_urls[0],
        CACHE_URL=redis_urls[1],
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(smtp_port),
        DEFAULT_FROM_EMAIL="liqsite <alerts@liqsite.example>",
        LIQSITE_PROXY_HEADER="X-Forwarded-For",
        LIQSITE_TRUSTED_PROXIES="127.0.0.1,::1",
        LIQSITE_VAR_DIR=str(var),
        LIQSITE_BIND=f"127.0.0.1:{port}",
        LIQSITE_WEB_WORKERS="2",
        LIQSITE_REFRESH_SECONDS="10",
        PATH=f"{venv / 'bin'}:/usr/bin:/bin",
    )
    # The README's variables are the ones set here (the test only changes their values).
    assert readme_variables() <= set(env) | {"EMAIL_USE_TLS", "EMAIL_HOST_USER", "EMAIL_HOST_PASSWORD"}, readme_variables() - set(
        env
    )

    def local(command: list[str]) -> list[str]:
        return [str(venv / part.removeprefix(".venv/")) if part.startswith(".venv/") else part for part in command]

    for command in commands[:2]:
        subprocess.run(local(command), cwd=ROOT, env=env, check=True, timeout=600, capture_output=True)
    setup = subprocess.run(
        local([".venv/bin/python", "manage.py", "shell", "-c", SETUP]),
        cwd=ROOT,
        env=env,
        check=True,
        timeout=300,
        capture_output=True,
        text=True,
    )
    market_id = int(re.search(r"market (\d+)", setup.stdout).group(1))

    services = [
        Process(name, local(command), env=env, logs=tmp_path)
        for name, command in zip(("gunicorn", "worker", "beat"), commands[2:])
    ]
    try:
        wait_for(lambda: port_open(port), timeout=60, what="gunicorn to listen", processes=tuple(services))
        mail = wait_for(lambda: inbox.messages, timeout=600, what="the alert email", processes=tuple(services), interval=1)
        # Behind the TLS proxy the README asks for (X-Forwarded-Proto); production redirects plain HTTP.
        with httpx.Client(
            base_url=site, headers={"X-Forwarded-Proto": "https", "Accept-Encoding": "gzip"}, timeout=60
        ) as browser:
            assert browser.get("/").status_code == 200
            with browser.stream("GET", f"/markets/{market_id}/heatmap/") as raw:
                wire = b"".join(raw.iter_raw())  # the bytes as sent, not decoded
            static = browser.get("/static/liqsite/site.css")
        assert raw.status_code == 200 and raw.headers["Content-Encoding"] == "gzip"
        assert len(wire) <= PAGE_BUDGET, f"{len(wire)} bytes on the wire"
        page = gzip.decompress(wire).decode()
        assert "SOL-USDT-SWAP" in page and "not computed yet" not in page.lower() and "echarts" in page
        assert static.status_code == 200 and "max-age" in static.headers.get("Cache-Control", "")
        message = mail[0]
        assert message.rcpt_tos == ["trader@example.com"] and message.mail_from == "alerts@liqsite.example"
        body = message.content.decode(errors="replace")
        assert "SOL" in body and f"{site}/s/" in body and "List-Unsubscribe" in body
        for service in services:
            assert service.alive(), f"{service.name} stopped:\n{service.output()[-3000:]}"
        assert "Traceback" not in services[1].output(), services[1].output()[-5000:]
    finally:
        for service in services:
            service.stop()
