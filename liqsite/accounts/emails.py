"""Account emails queued in the outbox: address confirmation, the notice to an address's owner, password reset."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.tokens import default_token_generator
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from liqsite.accounts.confirmation import MAX_AGE_SECONDS, confirmation_token_make
from liqsite.outbox.models import OutboxMessage
from liqsite.outbox.services import outbox_message_queue


def _queue(*, kind: str, to: str, template: str, context: dict, sensitive: bool) -> OutboxMessage:
    context = {**context, "site_url": settings.SITE_URL}
    return outbox_message_queue(
        kind=kind,
        to=to,
        sensitive=sensitive,
        subject=render_to_string(f"accounts/emails/{template}_subject.txt", context),
        text=render_to_string(f"accounts/emails/{template}_body.txt", context),
        html=render_to_string(f"accounts/emails/{template}_body.html", context),
    )


def email_confirmation_queue(*, user) -> OutboxMessage:
    """The link that confirms ``user``'s address; a credential, so its body is blanked once sent."""
    link = settings.SITE_URL + reverse("email_confirm", args=[confirmation_token_make(user=user)])
    return _queue(
        kind=OutboxMessage.Kind.EMAIL_CONFIRM,
        to=user.email,
        template="email_confirm",
        sensitive=True,
        context={"user": user, "link": link, "days": MAX_AGE_SECONDS // 86400},
    )


def signup_notice_queue(*, owner, username: str) -> OutboxMessage:
    """Tell the owner of an address that someone else signed up with it (instead of a link to them)."""
    return _queue(
        kind=OutboxMessage.Kind.SIGNUP_NOTICE,
        to=owner.email,
        template="signup_notice",
        sensitive=False,
        context={
            "owner": owner,
            "username": username,
            "login_url": settings.SITE_URL + reverse("login"),
            "reset_url": settings.SITE_URL + reverse("password_reset"),
        },
    )


def password_reset_queue(*, email: str) -> int:
    """A reset email for each active account with ``email`` and a usable password; returns how many."""
    queued = 0
    for user in PasswordResetForm().get_users(email):
        context = {
            "email": email,
            "user": user,
            "uid": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        }
        _queue(
            kind=OutboxMessage.Kind.PASSWORD_RESET,
            to=getattr(user, user.get_email_field_name()),
            template="password_reset",
            context=context,
            sensitive=True,
        )
        queued += 1
    return queued
