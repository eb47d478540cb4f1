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
    assert pg["OPTIONS"] == {"sslmode": "require"}
    sqlite = database_from_url("DATABASE_URL", None, tmp_path / "x.sqlite3")
    assert sqlite["ENGINE"] == "django.db.backends.sqlite3" and sqlite["NAME"] == tmp_path / "x.sqlite3"
    with pytest.raises(EnvError, match="^DATABASE_URL: names no database"):
        database_from_url("DATABASE_URL", "postgres://db.example:5432/", tmp_path / "x.sqlite3")


def _manage(*args, **overrides):
    environment = {key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}}
    environment.update(overrides)
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(
    ("overrides", "variable"),
    [
        ({"DEBUG": "maybe"}, "DEBUG"),
        ({"LIQSITE_ENV": "staging"}, "LIQSITE_ENV"),
        ({"LIQSITE_ENV": "production"}, "SECRET_KEY"),
        ({"DATABASE_URL": "mysql://localhost/liqsite"}, "DATABASE_URL"),
        ({"CELERY_BROKER_URL": "kafka://localhost"}, "CELERY_BROKER_URL"),
        ({"LIQSITE_REFRESH_SECONDS": "often"}, "LIQSITE_REFRESH_SECONDS"),
    ],
)
def test_start_up_stops_on_a_bad_variable(overrides, variable, tmp_path):
    result = _manage("check", LIQSITE_VAR_DIR=str(tmp_path), **overrides)
    assert result.returncode != 0
    assert f"configuration error: {variable}:" in result.stderr


PRODUCTION = {"LIQSITE_ENV": "production", "SECRET_KEY": "k" * 20 + "x9Q!-" * 8, "ALLOWED_HOSTS": "liqsite.example"}


def test_production_settings_pass_check_deploy(tmp_path):
    result = _manage(
        "check", "--deploy", "--fail-level", "WARNING",
        **PRODUCTION, EMAIL_HOST="smtp.liqsite.example", LIQSITE_VAR_DIR=str(tmp_path),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_without_an_smtp_server_is_flagged(tmp_path):
    result = _manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION, LIQSITE_VAR_DIR=str(tmp_path))
    assert result.returncode != 0
    assert "liqsite.W001" in result.stderr and "EMAIL_HOST is not set" in result.stderr
