"""Email settings come from the environment; without EMAIL_HOST mail is written to var/mail/."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRINT = (
    "import json, django; from django.conf import settings as s; "
    "print(json.dumps({k: str(getattr(s, k, None)) for k in "
    "('EMAIL_BACKEND','EMAIL_HOST','EMAIL_PORT','EMAIL_HOST_USER','EMAIL_HOST_PASSWORD','EMAIL_USE_TLS','EMAIL_USE_SSL',"
    "'DEFAULT_FROM_EMAIL','EMAIL_FILE_PATH','EMAIL_TIMEOUT')}))"
)


def settings_with(tmp_path, **variables):
    env = {k: v for k, v in os.environ.items() if not k.startswith("EMAIL_") and k != "DEFAULT_FROM_EMAIL"}
    env |= {"DJANGO_SETTINGS_MODULE": "liqsite.settings", "LIQSITE_VAR_DIR": str(tmp_path), **variables}
    result = subprocess.run([sys.executable, "-c", PRINT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    return result


def test_without_email_host_mail_goes_to_files_under_var_mail(tmp_path):
    values = json.loads(settings_with(tmp_path).stdout)
    assert values["EMAIL_BACKEND"] == "django.core.mail.backends.filebased.EmailBackend"
    assert values["EMAIL_FILE_PATH"] == str(tmp_path / "mail")


def test_smtp_settings_are_read_from_the_environment(tmp_path):
    values = json.loads(
        settings_with(
            tmp_path,
            EMAIL_HOST="smtp.example.com",
            EMAIL_USE_TLS="yes",
            EMAIL_HOST_USER="liq",
            EMAIL_HOST_PASSWORD="s3cret",
            DEFAULT_FROM_EMAIL="liqsite <alerts@example.com>",
        ).stdout
    )
    assert values["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert (values["EMAIL_HOST"], values["EMAIL_PORT"], values["EMAIL_USE_TLS"]) == ("smtp.example.com", "587", "True")
    assert (values["EMAIL_HOST_USER"], values["EMAIL_HOST_PASSWORD"]) == ("liq", "s3cret")
    assert values["DEFAULT_FROM_EMAIL"] == "liqsite <alerts@example.com>"


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"EMAIL_HOST": "h", "EMAIL_PORT": "smtp"}, "EMAIL_PORT: expected a whole number"),
        ({"EMAIL_HOST": "h", "EMAIL_USE_TLS": "sometimes"}, "EMAIL_USE_TLS: expected one of"),
        (
            {"EMAIL_HOST": "h", "EMAIL_USE_TLS": "1", "EMAIL_USE_SSL": "1"},
            "EMAIL_USE_SSL: cannot be on together with EMAIL_USE_TLS",
        ),
    ],
)
def test_bad_email_settings_stop_start_up_naming_the_variable(tmp_path, variables, message):
    result = settings_with(tmp_path, **variables)
    assert result.returncode != 0 and message in result.stderr
