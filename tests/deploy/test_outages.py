"""Outages seen through gunicorn: a database that is locked or down answers the plain 503 page
within 2 s, and a broker that is down never turns a request into a 500 (the outbox sends later)."""

from __future__ import annotations

import re
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.deploy.processes import ROOT, Process, child_env, free_port, port_open, wait_for


@pytest.fixture(scope="module")
def migrated(tmp_path_factory) -> Path:
    """A var folder whose SQLite database is migrated and holds one user with an email address."""
    var = tmp_path_factory.mktemp("var")
    env = child_env(LIQSITE_VAR_DIR=str(var))
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True, timeout=300)
    subprocess.run(
        [
            sys.executable,
            "manage.py",
            "shell",
            "-c",
            "from django.contrib.auth.models import User; "
            "User.objects.create_user('trader', 'trader@example.com', 'correct horse battery')",
        ],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=120,
    )
    return var


def gunicorn(tmp_path: Path, var: Path, **env: str) -> tuple[Process, str]:
    port = free_port()
    environment = child_env(LIQSITE_VAR_DIR=str(var), LIQSITE_BIND=f"127.0.0.1:{port}", LIQSITE_WEB_WORKERS="1", **env)
    web = Process(
        "gunicorn",
        [sys.executable, "-m", "gunicorn", "--config", "deploy/gunicorn.conf.py", "liqsite.wsgi"],
        env=environment,
        logs=tmp_path,
    )
    wait_for(lambda: port_open(port), timeout=60, what="gunicorn to listen", processes=(web,))
    base = f"http://127.0.0.1:{port}"
    # The master listens before its worker has loaded Django: a static file (no database) waits for the worker.
    assert httpx.get(f"{base}/static/liqsite/site.css", timeout=60).status_code == 200
    return web, base


def timed_get(url: str) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = httpx.get(url, timeout=30)
    return response, time.monotonic() - started


def assert_plain_503(response: httpx.Response, seconds: float, limit: float = 2.0):
    assert response.status_code == 503, response.text[:500]
    assert "temporarily unavailable" in response.text and response.headers["Retry-After"] == "30"
    assert seconds < limit, f"the 503 took {seconds:.2f} s"


def test_a_locked_sqlite_database_answers_503_within_2_s_and_pages_keep_reading(tmp_path, migrated):
    web, base = gunicorn(tmp_path, migrated)
    try:
        assert httpx.get(f"{base}/", timeout=30).status_code == 200
        with httpx.Client(base_url=base, timeout=30) as browser:
            form = browser.get("/accounts/password/reset/")
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
            lock = sqlite3.connect(migrated / "liqsite.sqlite3", isolation_level=None)
            lock.execute("BEGIN EXCLUSIVE")  # another process holds the write lock (a long write)
            try:
                read, read_seconds = timed_get(f"{base}/")  # write-ahead log: readers are not blocked
                started = time.monotonic()
                write = browser.post("/accounts/password/reset/", data={"csrfmiddlewaretoken": token, "email": "x@example.com"})
                write_seconds = time.monotonic() - started
            finally:
                lock.execute("ROLLBACK")
                lock.close()
        assert read.status_code == 200 and read_seconds < 2, read_seconds
        assert_plain_503(write, write_seconds)
        assert httpx.get(f"{base}/", timeout=30).status_code == 200
    finally:
        web.stop()


def test_a_postgresql_server_that_is_down_answers_503_within_2_s(tmp_path, migrated):
    closed = free_port()  # nothing listens there: connection refused, as when the server is stopped
    web, base = gunicorn(tmp_path, migrated, DATABASE_URL=f"postgres://liqsite@127.0.0.1:{closed}/liqsite")
    try:
        assert_plain_503(*timed_get(f"{base}/"))
    finally:
        web.stop()


def test_a_postgresql_server_that_does_not_answer_gives_up_after_the_connect_timeout(tmp_path, migrated):
    """A server that accepts but never answers: psycopg will not time out a connection in under 2 s,
    so this one is the 2 s connect timeout plus the page (a margin for a loaded machine), not 20 s."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)  # the kernel completes the handshake; nobody ever speaks
        port = silent.getsockname()[1]
        web, base = gunicorn(tmp_path, migrated, DATABASE_URL=f"postgres://liqsite@127.0.0.1:{port}/liqsite")
        try:
            assert_plain_503(*timed_get(f"{base}/"), limit=3.0)
        finally:
            web.stop()


def test_a_password_reset_with_the_broker_down_is_sent_later_not_a_500(tmp_path, migrated):
    web, base = gunicorn(tmp_path, migrated, CELERY_BROKER_URL="redis://127.0.0.1:1/0")
    try:
        with httpx.Client(base_url=base, timeout=30) as browser:
            form = browser.get("/accounts/password/reset/")
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
            started = time.monotonic()
            response = browser.post(
                "/accounts/password/reset/", data={"csrfmiddlewaretoken": token, "email": "trader@example.com"}
            )
            seconds = time.monotonic() - started
        assert response.status_code == 302 and response.headers["Location"] == "/accounts/password/reset/sent/", response.text[
            :500
        ]
        assert seconds < 3, f"the request took {seconds:.2f} s"
        assert "could not queue liqsite.accounts.tasks.password_reset_send" in web.output()
    finally:
        web.stop()
    with sqlite3.connect(migrated / "liqsite.sqlite3") as db:
        waiting = db.execute("select email from accounts_passwordresetrequest").fetchall()
    assert waiting == [("trader@example.com",)]  # kept for the sweep, not lost with its task

    # The broker is back: the periodic sweep (run here in-process, as a worker runs it) sends the reset.
    sweep = (
        "from datetime import timedelta; from django.utils import timezone; "
        "from liqsite.accounts.resets import password_reset_sweep; "
        "print('handled', password_reset_sweep(now=timezone.now() + timedelta(minutes=2)))"
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", sweep],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env=child_env(LIQSITE_VAR_DIR=str(migrated), CELERY_TASK_ALWAYS_EAGER="1"),
    )
    assert result.returncode == 0 and "handled 1" in result.stdout, result.stderr
    with sqlite3.connect(migrated / "liqsite.sqlite3") as db:
        assert db.execute("select count(*) from accounts_passwordresetrequest").fetchone() == (0,)
        rows = db.execute('select kind, status, "to" from alerts_outboxmessage').fetchall()
    assert rows == [("password_reset", "sent", "trader@example.com")]
