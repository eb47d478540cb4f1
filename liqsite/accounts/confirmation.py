"""Email confirmation links: a signed, expiring token naming the account and the address it was sent to.

The token is signed with ``SECRET_KEY`` (``django.core.signing``), so it cannot be
made up, and it names the address: once the account's address changes, links
sent to the old one stop working.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core import signing

SALT = "liqsite.accounts.email-confirm"
MAX_AGE_SECONDS = 3 * 24 * 60 * 60


@dataclass(frozen=True)
class ConfirmationToken:
    user_id: int
    email: str


def confirmation_token_make(*, user) -> str:
    return signing.dumps({"u": user.pk, "e": user.email}, salt=SALT)


def confirmation_token_read(token: str) -> ConfirmationToken | None:
    """The account and address in ``token``; None when it is forged, malformed or expired."""
    try:
        data = signing.loads(token, salt=SALT, max_age=MAX_AGE_SECONDS)
    except signing.BadSignature:  # SignatureExpired is a BadSignature too
        return None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int) or not isinstance(data.get("e"), str):
        return None
    return ConfirmationToken(data["u"], data["e"])
