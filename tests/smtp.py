"""A real SMTP server on loopback (aiosmtpd) for the mail tests: what it received, parsed."""

from __future__ import annotations

import email
import re
import socket
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default

from aiosmtpd.controller import Controller


@dataclass
class Inbox:
    """Messages the server accepted, in order; ``refuse`` makes it answer 451 to the next N messages."""

    messages: list[EmailMessage] = field(default_factory=list)
    refuse: int = 0

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.refuse:
            self.refuse -= 1
            return "451 Try again later"
        self.messages.append(email.message_from_bytes(envelope.content, policy=default))
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address in m["To"]]

    def wait_for(self, address: str, count: int = 1, timeout: float = 10.0) -> list[EmailMessage]:
        """The messages to ``address`` once there are ``count`` (they may arrive from a worker)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.to(address)
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise AssertionError(f"{count} message(s) to {address} expected; got {len(self.to(address))}")


def text_of(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def html_of(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("html",)).get_content()


def link_in(message: EmailMessage, fragment: str) -> str:
    """The first absolute URL in the plain-text part that contains ``fragment``."""
    for url in re.findall(r"https?://\S+", text_of(message)):
        if fragment in url:
            return url
    raise AssertionError(f"no link with {fragment!r} in: {text_of(message)}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def smtp_start() -> tuple[Controller, Inbox]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    return controller, inbox


def smtp_settings(settings, port: int, site_url: str) -> None:
    """Point Django's mail at the loopback server on ``port``; links in mails start with ``site_url``."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.ARENA_SITE_URL = site_url
