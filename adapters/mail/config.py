"""The SMTP server invitations go through, filled by ``bot.settings`` from the environment."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from core.invitations import Mailbox
from core.secret import Secret


class Security(StrEnum):
    TLS = "tls"  # smtps://: TLS from the first byte (port 465)
    STARTTLS = "starttls"  # smtp:// with a user: the connection must upgrade before AUTH
    NONE = "none"  # smtp:// without a user: a local relay, in plain text


@dataclass(frozen=True, slots=True)
class MailSettings:
    """Where and how to send, and as whom. ``password`` prints masked."""

    host: str
    port: int
    security: Security
    sender: Mailbox  # PAIRTIME_MAIL_FROM: the From of every message and the ORGANIZER
    username: str | None = None
    password: Secret | None = None
    ca_bundle: str | None = None  # extra trusted certificates (PAIRTIME_CA_BUNDLE)
    timeout_seconds: float = 30.0

    def describe(self) -> str:
        """The server for logs and errors: never the user or the password."""
        return f"{self.host}:{self.port} ({self.security.value})"
