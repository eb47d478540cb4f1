"""Reads about accounts' email addresses."""

from __future__ import annotations

from liqsite.accounts.models import ConfirmedEmail


def email_confirmed(*, user) -> bool:
    """True when ``user`` has confirmed the address it has now."""
    return bool(user.email) and ConfirmedEmail.objects.filter(user=user, email__iexact=user.email).exists()


def email_owner(*, email: str, exclude=None):
    """The account that confirmed ``email`` and still uses it, other than ``exclude``; or None."""
    confirmed = ConfirmedEmail.objects.filter(email__iexact=email, user__email__iexact=email).select_related("user")
    if exclude is not None:
        confirmed = confirmed.exclude(user=exclude)
    found = confirmed.order_by("confirmed_at").first()
    return found.user if found else None
