"""Settings come from the environment and a bad value names its variable."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from liqsite.env import Env, EnvError, database_from_url

ROOT = Path(__file__).resolve().parents[2]


def env(**values):
    return Env(values)


@pytest.mark.parametrize(
    ("call", "variable", "fragment"),
    [
        (lambda: env(DEBUG="maybe").bool("DEBUG"), "DEBUG", "'maybe'"),
        (lambda: env(N="ten").int("N", 1), "N", "whole number"),
        (lambda: env(N="3").int("N", 1, minimum=10), "N", "at least 10"),
        (lambda: env(MODE="prod").choice("MODE", ("local", "production"), "local"), "MODE", "local, production"),
        (lambda: env(HOSTS="a,,b").list("HOSTS"), "HOSTS", "empty items"),
        (lambda: env(URL="mysql://x/y").url("URL", ("postgres",)), "URL", "postgres://"),
        (lambda: env(URL="postgres://h:notaport/db").url("URL", ("postgres",)), "URL", "invalid port"),
        (lambda: env().str("SECRET", required=True), "SECRET", "required"),
    ],
)
def test_bad_values_name_the_variable(call, variable, fragment):
    with pytest.raises(EnvError) as caught:
        call()
    assert str(caught.value).startswith(f"{variable}: ")
    assert fragment in str(caught.value)
    assert caught.value.variable == variable


def test_good_values_parse():
    values = env(DEBUG="yes", N="42", HOSTS="a.example, b.example", URL="redis://127.0.0.1:6379/1")
    assert values.bool("DEBUG") is True
    assert values.int("N", 1) == 42
    assert values.list("HOSTS") == ["a.example", "b.example"]
    assert values.url("URL", ("redis",)) == "redis://127.0.0.1:6379/1"
    assert values.bool("UNSET", default=True) is True


def test_url_errors_never_print_the_password():
    with pytest.raises(EnvError) as caught:
        env(URL="mysql://user:hunter2@db/x").url("URL", ("postgres",))
    assert "hunter2" not in str(caught.value)


def test_database_url_selects_postgresql_or_sqlite(tmp_path):
    pg = database_from_url("DATABASE_URL", "postgres://liq:pw%21@db.example:5433/liqsite?sslmode=require", tmp_path / "x.sqlite3")
    assert pg["ENGINE"] == "django.db.backends.postgresql"
    assert (pg["NAME"], pg["USER"], pg["PASSWORD"], pg["HOST"], pg["PORT"]) == ("liqsite", "liq", "pw!", "db.example", "5433")
    assert pg["OPTIONS"] == {"sslmode": "require", "connect_timeout": "2"}
    slow = database_from_url("DATABASE_URL", "postgres://db.example/liqsite?connect_timeout=10", tmp_path / "x.sqlite3")
    assert slow["OPTIONS"] == {"connect_timeout": "10"}
    sqlite = database_from_url("DATABASE_URL", None, tmp_path / "x.sqlite3")
    assert sqlite["ENGINE"] == "django.db.backends.sqlite3" and sqlite["NAME"] == tmp_path / "x.sqlite3"
    # A sqlite:// URL is the same database setup as the default file, at another path.
    named = database_from_url("DATABASE_URL", f"sqlite://{tmp_path}/y.sqlite3", tmp_path / "x.sqlite3")
    assert named == {**sqlite, "NAME": f"{tmp_path}/y.sqlite3"}
    assert named["OPTIONS"]["transaction_mode"] == "IMMEDIATE" and named["CONN_MAX_AGE"] > 0
    with pytest.raises(EnvError, match="^DATABASE_URL: names no database"):
        database_from_url("DATABASE_URL", "postgres://db.example:5432/", tmp_path / "x.sqlite3")


def _manage(*args, **overrides):
    environment = {key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}}
    environment.update(overrides)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(
    ("overrides", "variable"),
    [
        ({"DEBUG": "maybe"}, "DEBUG"),
        ({"LIQSITE_ENV": "staging"}, "LIQSITE_ENV"),
        ({"LIQSITE_ENV": "production"}, "SECRET_KEY"),
        ({"DATABASE_URL": "mysql://localhost/liqsite"}, "DATABASE_URL"),
        ({"CELERY_BROKER_URL": "kafka://localhost"}, "CELERY_BROKER_URL"),
        ({"LIQSITE_REFRESH_SECONDS": "often"}, "LIQSITE_REFRESH_SECONDS"),
        ({"LIQSITE_PROXY_HEADER": "X Forwarded For", "LIQSITE_TRUSTED_PROXIES": "127.0.0.1"}, "LIQSITE_PROXY_HEADER"),
        ({"LIQSITE_PROXY_HEADER": "X-Forwarded-For", "LIQSITE_TRUSTED_PROXIES": "10.0.0.0/33"}, "LIQSITE_TRUSTED_PROXIES"),
        ({"LIQSITE_PROXY_HEADER": "X-Forwarded-For"}, "LIQSITE_TRUSTED_PROXIES"),
        ({"LIQSITE_TRUSTED_PROXIES": "127.0.0.1"}, "LIQSITE_PROXY_HEADER"),
        ({"LIQSITE_TASK_TIME_LIMIT": "1200"}, "LIQSITE_TASK_TIME_LIMIT"),  # shorter than the accuracy limit
        ({"LIQSITE_TASK_TIME_LIMIT": "5000", "LIQSITE_BROKER_VISIBILITY_TIMEOUT": "4000"}, "LIQSITE_BROKER_VISIBILITY_TIMEOUT"),
    ],
)
def test_start_up_stops_on_a_bad_variable(overrides, variable, tmp_path):
    result = _manage("check", LIQSITE_VAR_DIR=str(tmp_path), **overrides)
    assert result.returncode != 0
    assert f"configuration error: {variable}:" in result.stderr


PRODUCTION = {"LIQSITE_ENV": "production", "SECRET_KEY": "k" * 20 + "x9Q!-" * 8, "ALLOWED_HOSTS": "liqsite.example"}
# Everything a production deployment sets besides the secrets (the checks only parse these URLs, never connect).
COMPLETE = {
    "EMAIL_HOST": "smtp.liqsite.example",
    "SITE_URL": "https://liqsite.example",
    "CACHE_URL": "redis://127.0.0.1:6379/1",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
    "LIQSITE_PROXY_HEADER": "X-Forwarded-For",
    "LIQSITE_TRUSTED_PROXIES": "127.0.0.1,::1",
}


def test_production_settings_pass_check_deploy(tmp_path):
    result = _manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION, **COMPLETE, LIQSITE_VAR_DIR=str(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_without_an_smtp_server_is_flagged(tmp_path):
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        **PRODUCTION,
        **(COMPLETE | {"EMAIL_HOST": ""}),
        LIQSITE_VAR_DIR=str(tmp_path),
    )
    assert result.returncode != 0
    assert "liqsite.W001" in result.stderr and "EMAIL_HOST is not set" in result.stderr


@pytest.mark.parametrize(
    ("missing", "check", "fragment"),
    [
        ({"SITE_URL": ""}, "liqsite.W002", "SITE_URL is http://127.0.0.1:8000"),
        ({"SITE_URL": "http://localhost:8000"}, "liqsite.W002", "point at this machine"),
        ({"CELERY_BROKER_URL": ""}, "liqsite.W003", "CELERY_BROKER_URL is not set"),
        ({"CACHE_URL": ""}, "liqsite.W004", "each web process keeps its own"),
        ({"LIQSITE_PROXY_HEADER": "", "LIQSITE_TRUSTED_PROXIES": ""}, "liqsite.W005", "LIQSITE_PROXY_HEADER is not set"),
    ],
)
def test_production_without_what_links_throttles_and_tasks_need_is_flagged(tmp_path, missing, check, fragment):
    # The report: check --deploy stayed silent without SITE_URL, without CACHE_URL, or on the filesystem broker.
    result = _manage(
        "check", "--deploy", "--fail-level", "WARNING", **PRODUCTION, **(COMPLETE | missing), LIQSITE_VAR_DIR=str(tmp_path)
    )
    assert result.returncode != 0
    assert check in result.stderr and fragment in result.stderr
    assert result.stderr.count("liqsite.W0") == 1, result.stderr  # only the one thing missing is named


def test_proxy_settings_parse():
    assert env(H="X-Real-IP").header("H") == "HTTP_X_REAL_IP" and env().header("H") is None
    networks = env(P="127.0.0.1, 10.0.0.0/8,::1").networks("P")
    assert [str(network) for network in networks] == ["127.0.0.1/32", "10.0.0.0/8", "::1/128"]
    with pytest.raises(EnvError, match="^P: expected IP addresses"):
        env(P="10.0.0.1/8").networks("P")  # host bits set: almost certainly a typo for 10.0.0.0/8


def test_a_bad_var_dir_is_a_configuration_error_not_a_traceback(tmp_path):
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    for value, fragment in (
        (str(a_file), "exists and is not a directory"),
        ("relative/var", "must be an absolute path"),
        (str(a_file / "sub"), "cannot create the directory"),
    ):
        result = _manage("check", LIQSITE_VAR_DIR=value)
        assert result.returncode != 0
        assert "configuration error: LIQSITE_VAR_DIR: " in result.stderr and fragment in result.stderr, result.stderr
        assert "Traceback" not in result.stderr


def test_var_dir_is_created_locally_and_only_checked_in_production(tmp_path):
    assert env(V=str(tmp_path / "new")).directory("V", tmp_path, create=True) == tmp_path / "new"
    assert (tmp_path / "new").is_dir()
    assert env().directory("V", tmp_path / "default", create=False) == tmp_path / "default"
    assert not (tmp_path / "default").exists()


def test_both_brokers_get_a_visibility_timeout_longer_than_any_task(tmp_path):
    show = (
        "from django.conf import settings as s; print(s.CELERY_TASK_TIME_LIMIT, "
        "s.CELERY_BROKER_TRANSPORT_OPTIONS.get('visibility_timeout'), s.CELERY_TASK_REJECT_ON_WORKER_LOST)"
    )
    for broker in ("redis://127.0.0.1:6379/0", ""):
        result = _manage("shell", "-c", show, CELERY_BROKER_URL=broker, LIQSITE_VAR_DIR=str(tmp_path))
        assert result.returncode == 0, result.stderr
        assert result.stdout.splitlines()[-1].split() == ["3600", "7200", "True"]
