"""A real SMTP server on loopback (aiosmtpd), started by the test that needs it."""

from __future__ import annotations

import email
import socket
from email import policy

import pytest
from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Recorder:
    """Accepts messages and keeps them, or answers every DATA with ``reply`` (e.g. a 554)."""

    def __init__(self):
        self.reply = "250 Message accepted for delivery"
        self.messages: list[email.message.EmailMessage] = []
        self.refused = 0

    async def handle_DATA(self, server, session, envelope):
        if not self.reply.startswith("250"):
            self.refused += 1
            return self.reply
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return self.reply


def use_smtp(settings, port: int) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 10


@pytest.fixture
def smtp_server(settings):
    """An SMTP server on 127.0.0.1 at a free port; Django's SMTP backend pointed at it."""
    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=free_port())
    controller.start()
    use_smtp(settings, controller.port)
    try:
        yield recorder
    finally:
        controller.stop()


def bodies(message: email.message.EmailMessage) -> tuple[str, str]:
    """The text/plain and text/html bodies of a received message."""
    return (message.get_body(("plain",)).get_content(), message.get_body(("html",)).get_content())
