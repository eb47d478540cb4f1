"""Rate limits on log-in, sign-up and account emails, counted in the Django cache.

Counters live in the cache: Redis (``CACHE_URL``) in production, so every web
process counts together; process memory locally, where each process counts on
its own (``check --deploy`` warns about that in production). That is right for
a rate limit: losing a counter only forgives a few failures; nothing relies on
it for correctness, unlike a lock. Each counter is a fixed window: the first
event starts it, and it expires whole.

Client addresses come from ``client_address`` (the proxy setting decides which
header carries them). An account is never locked on its own: failed log-ins are
counted per account *and address* together, so a stranger's guesses lock only
the stranger out, and the account's owner, from their own address, still gets
in. Guessing from one address at many accounts is capped by the per-address count.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.core.cache import cache

from liqsite.accounts.client_address import client_address, rate_limit_key

USERNAME_LIMIT = 5  # failed log-ins per account from one address ...
ADDRESS_LIMIT = 20  # ... and per client address, whatever the account ...
WINDOW_SECONDS = 15 * 60  # ... within this window

MESSAGE = (
    "Too many failed log-in attempts. To stop password guessing we allow {username} failed attempts per "
    "account from one network address and {address} per network address within {minutes} minutes. Please wait up to "
    "{minutes} minutes and try again, or reset your password."
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
        return cls((username or "").strip().casefold(), rate_limit_key(client_address(request)))

    @property
    def _keys(self) -> dict[str, str]:
        # The account's counter is keyed on the account and the address together.
        return {"username": _key("user-addr", f"{self.address} {self.username}"), "address": _key("addr", self.address)}

    def blocked(self) -> bool:
        counts = cache.get_many(list(self._keys.values()))
        return counts.get(self._keys["username"], 0) >= USERNAME_LIMIT or counts.get(self._keys["address"], 0) >= ADDRESS_LIMIT

    def record_failure(self) -> None:
        for key in self._keys.values():
            _bump(key, WINDOW_SECONDS)

    def record_success(self) -> None:
        # Forget this address's failures on the account once its password was given;
        # the address counter stays, or a guesser could reset it with an account of their own.
        cache.delete(self._keys["username"])

    @staticmethod
    def message() -> str:
        return MESSAGE.format(username=USERNAME_LIMIT, address=ADDRESS_LIMIT, minutes=WINDOW_SECONDS // 60)


# Password-reset emails: a rate limit so the form cannot flood an inbox or be
# used to send mail at volume from this server.
RESET_EMAIL_LIMIT = 3  # reset emails per address ...
RESET_ADDRESS_LIMIT = 10  # ... and requests per client address ...
RESET_WINDOW_SECONDS = 60 * 60  # ... within an hour

RESET_MESSAGE = (
    "Too many password-reset requests from your network: we allow {address} per hour. "
    "Please wait and try again; an email already sent stays valid."
)


def reset_request_allowed(request) -> bool:
    """Count a reset request from the client's address; False past the limit."""
    address = rate_limit_key(client_address(request))
    return _bump(_key("reset-addr", address), RESET_WINDOW_SECONDS) <= RESET_ADDRESS_LIMIT


def reset_email_allowed(email: str) -> bool:
    """Count a reset email to ``email``; False past the limit (then none is sent, and the page says the same)."""
    return _bump(_key("reset-mail", email.strip().casefold()), RESET_WINDOW_SECONDS) <= RESET_EMAIL_LIMIT


def reset_message() -> str:
    return RESET_MESSAGE.format(address=RESET_ADDRESS_LIMIT)


# Sign-up: every attempt counts, not only the accounts made, so the form can
# neither mint accounts in bulk nor be used to test usernames quickly.
SIGNUP_ADDRESS_LIMIT = 10  # sign-up attempts per client address ...
SIGNUP_WINDOW_SECONDS = 60 * 60  # ... within an hour

SIGNUP_MESSAGE = "Too many sign-up attempts from your network: we allow {address} per hour. Please wait and try again."

# Emails about an address (confirmation links, "someone signed up with your
# address" notices): few per hour, so nobody can flood an inbox through us.
ADDRESS_EMAIL_LIMIT = 3
ADDRESS_EMAIL_WINDOW_SECONDS = 60 * 60


def signup_allowed(request) -> bool:
    """Count a sign-up attempt from the client's address; False past the limit."""
    address = rate_limit_key(client_address(request))
    return _bump(_key("signup-addr", address), SIGNUP_WINDOW_SECONDS) <= SIGNUP_ADDRESS_LIMIT


def signup_message() -> str:
    return SIGNUP_MESSAGE.format(address=SIGNUP_ADDRESS_LIMIT)


def address_email_allowed(email: str) -> bool:
    """Count an account email to ``email``; False past the limit (then it is not sent)."""
    return _bump(_key("account-mail", email.strip().casefold()), ADDRESS_EMAIL_WINDOW_SECONDS) <= ADDRESS_EMAIL_LIMIT
