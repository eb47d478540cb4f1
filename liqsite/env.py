"""Strict parsing of configuration from environment variables.

Every reader names the variable in its error, so a typo in a deployment stops
start-up with a message that says which variable to fix instead of running with
a silently wrong value.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_HEADER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*")
_FALSE = {"0", "false", "no", "off", ""}


class EnvError(ImproperlyConfigured):
    """A configuration variable is missing or malformed."""

    def __init__(self, name: str, problem: str):
        super().__init__(f"{name}: {problem}")
        self.variable = name


@dataclass(frozen=True)
class Env:
    """Typed access to a mapping of environment variables (``os.environ`` by default)."""

    values: Mapping[str, str]

    @classmethod
    def from_os(cls) -> Env:
        return cls(os.environ)

    def raw(self, name: str) -> str | None:
        value = self.values.get(name)
        return None if value is None else value.strip()

    def str(self, name: str, default: str | None = None, *, required: bool = False) -> str | None:
        value = self.raw(name)
        if value:
            return value
        if required:
            raise EnvError(name, "is required but not set")
        return default

    def bool(self, name: str, default: bool = False) -> bool:
        value = self.raw(name)
        if value is None:
            return default
        lowered = value.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise EnvError(name, f"expected one of 1/0, true/false, yes/no, on/off, got {value!r}")

    def int(self, name: str, default: int, *, minimum: int | None = None) -> int:
        value = self.raw(name)
        if not value:
            return default
        try:
            number = int(value)
        except ValueError:
            raise EnvError(name, f"expected a whole number, got {value!r}") from None
        if minimum is not None and number < minimum:
            raise EnvError(name, f"must be at least {minimum}, got {number}")
        return number

    def choice(self, name: str, choices: tuple[str, ...], default: str) -> str:
        value = self.raw(name)
        if not value:
            return default
        if value not in choices:
            raise EnvError(name, f"expected one of {', '.join(choices)}, got {value!r}")
        return value

    def list(self, name: str, default: tuple[str, ...] = ()) -> list[str]:
        value = self.raw(name)
        if value is None:
            return list(default)
        items = [item.strip() for item in value.split(",")]
        if any(not item for item in items):
            raise EnvError(name, f"expected a comma-separated list without empty items, got {value!r}")
        return items

    def header(self, name: str) -> str | None:
        """An HTTP header name (``X-Forwarded-For``) as Django's ``request.META`` key (``HTTP_X_FORWARDED_FOR``)."""
        value = self.raw(name)
        if not value:
            return None
        if not _HEADER_NAME.fullmatch(value):
            raise EnvError(name, f"expected an HTTP header name such as X-Forwarded-For, got {value!r}")
        return "HTTP_" + value.upper().replace("-", "_")

    def networks(self, name: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        """Comma-separated IP addresses or networks (``10.0.0.0/8,::1``); a bare address is a network of one."""
        if not self.raw(name):
            return ()
        networks = []
        for item in self.list(name):
            try:
                networks.append(ipaddress.ip_network(item, strict=True))
            except ValueError:
                raise EnvError(name, f"expected IP addresses or networks such as 10.0.0.0/8, got {item!r}") from None
        return tuple(networks)

    def url(self, name: str, schemes: tuple[str, ...]) -> str | None:
        value = self.raw(name)
        if not value:
            return None
        parts = urlsplit(value)
        if parts.scheme not in schemes:
            raise EnvError(
                name, f"expected a URL starting with {' or '.join(s + '://' for s in schemes)}, got {_redact(value)!r}"
            )
        try:
            parts.port  # noqa: B018 - a malformed port raises ValueError here
        except ValueError:
            raise EnvError(name, f"has an invalid port in {_redact(value)!r}") from None
        return value

    def directory(self, name: str, default: Path, *, create: bool) -> Path:
        """An absolute directory path; with ``create``, made if missing and checked writable."""
        value = self.raw(name)
        path = Path(value) if value else default
        # A relative path would depend on the directory each process starts in,
        # so the web server and the worker could use different data.
        if not path.is_absolute():
            raise EnvError(name, f"must be an absolute path, got {value!r}")
        if path.exists() and not path.is_dir():
            raise EnvError(name, f"{str(path)!r} exists and is not a directory")
        if create:
            try:
                path.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise EnvError(name, f"cannot create the directory {str(path)!r}: {error.strerror or error}") from None
            if not os.access(path, os.W_OK | os.X_OK):
                raise EnvError(name, f"the directory {str(path)!r} is not writable by this user")
        return path


def _redact(url: str) -> str:
    """The URL without its password, so error messages never leak secrets."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return parts._replace(netloc=netloc).geturl()


# Write-ahead logging: pages keep reading while the worker writes a grid (in the
# default rollback journal a writer blocks every reader), and a commit syncs the
# log only at checkpoints, which is durable against a crash of the process.
SQLITE_INIT = "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"


def _sqlite(path) -> dict:
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": path,
        # Kept open between requests: opening SQLite and running the pragmas took
        # about 1.9 ms of a cached share page's 2.3 ms (in-process, this machine; 0.43 ms kept open).
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
        # SQLite serialises writers; waiting beats failing when the worker and
        # the web server write at the same moment.
        "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": SQLITE_INIT},
    }


def database_from_url(name: str, url: str | None, sqlite_path: Path) -> dict:
    """Django ``DATABASES['default']`` from a ``postgres://`` URL, or SQLite at ``sqlite_path``."""
    if url is None:
        return _sqlite(sqlite_path)
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        path = unquote(parts.path)
        if not path or path == "/":
            raise EnvError(name, "a sqlite:// URL needs a file path, e.g. sqlite:////srv/liqsite/db.sqlite3")
        return _sqlite(path)
    database = unquote(parts.path.lstrip("/"))
    if not database:
        raise EnvError(name, f"names no database in {_redact(url)!r} (expected postgres://user@host:5432/dbname)")
    options = dict(parse_qsl(parts.query))
    # A server that does not answer fails a connection after 2 s (psycopg's
    # minimum), so a page answers 503 quickly instead of hanging; workers retry.
    options.setdefault("connect_timeout", "2")
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": database,
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "",
        "PORT": str(parts.port or ""),
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": options,
    }
