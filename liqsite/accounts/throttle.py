"""Login throttling: a rate limit on failed log-ins, per username and per client address.

Counters live in the Django cache (Redis in production, process memory
locally). That is right for a rate limit: losing a counter only forgives a few
failures; nothing relies on it for correctness, unlike a lock. Each counter
is a fixed window: the first failure starts it, and it expires whole.

Only ``REMOTE_ADDR`` is used as the address. Behind a reverse proxy that is
the proxy's address, which makes the per-address limit shared by everyone;
the per-username limit still protects each account. Trusting
``X-Forwarded-For`` would let a guesser pick a new address for every try.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.core.cache import cache

USERNAME_LIMIT = 5      # failed log-ins per username ...
ADDRESS_LIMIT = 20      # ... and per client address ...
WINDOW_SECONDS = 15 * 60  # ... within this window

MESSAGE = (
    "Too many failed log-in attempts. To stop password guessing we allow {username} failed attempts per "
    "account and {address} per network address within {minutes} minutes. Please wait up to {minutes} minutes "
    "and try again, or reset your password."
)


def _key(kind: str, value: str) -> str:
    # Hashed: usernames are user input and cache backends limit key characters.
    return f"login-fail:{kind}:{hashlib.sha256(value.encode()).hexdigest()[:32]}"


def _bump(key: str, window: int) -> int:
    """Count one more event in a fixed window; returns the new count."""
    if cache.add(key, 1, window):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, window)
        return 1


@dataclass(frozen=True)
class LoginThrottle:
    username: str
    address: str

    @classmethod
    def for_request(cls, request, username: str | None) -> LoginThrottle:
        address = (request.META.get("REMOTE_ADDR") or "unknown") if request is not None else "unknown"
        return cls((username or "").strip().casefold(), address)

    @property
    def _keys(self) -> dict[str, str]:
        return {"username": _key("user", self.username), "address": _key("addr", self.address)}

    def blocked(self) -> bool:
        counts = cache.get_many(list(self._keys.values()))
        return (
            counts.get(self._keys["username"], 0) >= USERNAME_LIMIT
            or counts.get(self._keys["address"], 0) >= ADDRESS_LIMIT
        )

    def record_failure(self) -> None:
        for key in self._keys.values():
            _bump(key, WINDOW_SECONDS)

    def record_success(self) -> None:
        # Forget the account's failures once its password was given; the
        # address counter stays, or a guesser could reset it with an account of their own.
        cache.delete(self._keys["username"])

    @staticmethod
    def message() -> str:
        return MESSAGE.format(username=USERNAME_LIMIT, address=ADDRESS_LIMIT, minutes=WINDOW_SECONDS // 60)


# Password-reset emails: a rate limit so the form cannot flood an inbox or be
# used to send mail at volume from this server.
RESET_EMAIL_LIMIT = 3      # reset emails per address ...
RESET_ADDRESS_LIMIT = 10   # ... and requests per client address ...
RESET_WINDOW_SECONDS = 60 * 60  # ... within an hour

RESET_MESSAGE = (
    "Too many password-reset requests from your network: we allow {address} per hour. "
    "Please wait and try again; an email already sent stays valid."
)


def reset_request_allowed(request) -> bool:
    """Count a reset request from the client's address; False past the limit."""
    address = request.META.get("REMOTE_ADDR") or "unknown"
    return _bump(_key("reset-addr", address), RESET_WINDOW_SECONDS) <= RESET_ADDRESS_LIMIT


def reset_email_allowed(email: str) -> bool:
    """Count a reset email to ``email``; False past the limit (then none is sent, and the page says the same)."""
    return _bump(_key("reset-mail", email.strip().casefold()), RESET_WINDOW_SECONDS) <= RESET_EMAIL_LIMIT


def reset_message() -> str:
    return RESET_MESSAGE.format(address=RESET_ADDRESS_LIMIT)
