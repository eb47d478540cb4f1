"""Writes about accounts: sign-up, and confirming an account's email address."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from liqsite.accounts import throttle
from liqsite.accounts.emails import email_confirmation_queue, signup_notice_queue
from liqsite.accounts.models import ConfirmedEmail
from liqsite.accounts.selectors import email_confirmed, email_owner


def account_signup(*, form):
    """Create the account from a valid sign-up form and ask it to confirm its address."""
    with transaction.atomic():
        user = form.save()
        email_confirmation_request(user=user)
    return user


def email_confirmation_request(*, user) -> str:
    """Send ``user``'s address a confirmation link, or a notice to the account that already confirmed it.

    Whichever is sent, the person signing up sees the same thing, so sign-up
    does not tell who has an account. Returns what happened: "sent", "notice",
    "limited" (too many emails to that address this hour), "confirmed" or "none".
    """
    if not user.email:
        return "none"
    if email_confirmed(user=user):
        return "confirmed"
    owner = email_owner(email=user.email, exclude=user)
    if not throttle.address_email_allowed(user.email):
        return "limited"
    if owner is not None:
        signup_notice_queue(owner=owner, username=user.get_username())
        return "notice"
    email_confirmation_queue(user=user)
    return "sent"


def email_confirm(*, user, email: str) -> bool:
    """Record that ``user`` receives mail at ``email``; False when another account confirmed it first."""
    with transaction.atomic():
        if user.email != email or email_owner(email=email, exclude=user) is not None:
            return False
        ConfirmedEmail.objects.update_or_create(user=user, defaults={"email": email, "confirmed_at": timezone.now()})
    return True
