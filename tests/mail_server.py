"""A real SMTP server for tests: aiosmtpd, in the test's own event loop, on a free port.

``security`` picks what a mail provider would run: ``none`` (a local relay),
``starttls`` (port 587: STARTTLS required, then AUTH) or ``tls`` (port 465: TLS first,
then AUTH). Messages are kept as the bytes the server received, and parsed with
``email`` for the tests. ``stop()`` and ``start()`` again on the same port make an outage.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import warnings
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any, Literal
from urllib.parse import quote

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from tests.fakes.server import TestCertificate

Security = Literal["none", "starttls", "tls"]


@dataclass(frozen=True)
class Received:
    sender: str
    recipients: tuple[str, ...]
    content: bytes  # as it arrived, CRLF line ends

    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class _Handler:
    received: list[Received]
    arrived: asyncio.Event
    refuse: set[str] = field(default_factory=set)  # addresses answered 550

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self,
        _server: SMTP,
        _session: Session,
        envelope: Envelope,
        address: str,
        _options: list[str],
    ) -> str:
        if address.lower() in self.refuse:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, _server: SMTP, _session: Session, envelope: Envelope
    ) -> str:
        content = envelope.original_content or b""
        self.received.append(
            Received(envelope.mail_from or "", tuple(envelope.rcpt_tos), bytes(content))
        )
        self.arrived.set()
        return "250 Message accepted for delivery"


class MailServer:
    """An SMTP server with one user (``user`` / ``password``) when it has TLS."""

    def __init__(
        self,
        security: Security = "none",
        *,
        certificate: TestCertificate | None = None,
        user: str = "mentoring@example.org",
        password: str = "app-password-ülß",
    ) -> None:
        self.security = security
        self.certificate = certificate
        self.user = user
        self.password = password
        self.received: list[Received] = []
        self.logins: list[str] = []
        self.port = 0
        self._arrived = asyncio.Event()
        self._handler = _Handler(self.received, self._arrived)
        self._server: asyncio.AbstractServer | None = None

    @property
    def url(self) -> str:
        """PAIRTIME_SMTP_URL for this server (the password percent-encoded)."""
        credentials = f"{quote(self.user, safe='')}:{quote(self.password, safe='')}@"
        match self.security:
            case "none":
                return f"smtp://127.0.0.1:{self.port}"
            case "starttls":
                return f"smtp://{credentials}127.0.0.1:{self.port}"
            case "tls":
                return f"smtps://{credentials}127.0.0.1:{self.port}"

    def refuse(self, address: str) -> None:
        self._handler.refuse.add(address.lower())

    def messages(self) -> list[EmailMessage]:
        return [each.message() for each in self.received]

    async def wait_for(self, count: int) -> None:
        """Return once ``count`` messages arrived (the sender awaits the server's 250 anyway:
        this is for senders running elsewhere, such as another process)."""
        while len(self.received) < count:
            self._arrived.clear()
            await self._arrived.wait()

    async def start(self) -> MailServer:
        tls = self.certificate.server_context() if self.certificate else None
        kwargs: dict[str, Any] = {"hostname": "mail.test"}
        if self.security == "starttls":
            assert tls is not None
            kwargs |= {
                "tls_context": tls,
                "require_starttls": True,
                "auth_required": True,
                "authenticator": self._authenticate,
            }
        elif self.security == "tls":
            # aiosmtpd counts only STARTTLS as TLS; this connection is TLS from its first byte.
            kwargs |= {
                "auth_required": True,
                "auth_require_tls": False,
                "authenticator": self._authenticate,
            }

        def factory() -> SMTP:
            with warnings.catch_warnings():
                # Its warning about AUTH without STARTTLS: this server's TLS came first.
                warnings.filterwarnings("ignore", "Requiring AUTH while not requiring TLS")
                return SMTP(self._handler, **kwargs)

        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            factory,
            "127.0.0.1",
            self.port,
            ssl=tls if self.security == "tls" else None,
        )
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    def _authenticate(
        self,
        _server: SMTP,
        _session: Session,
        _envelope: Envelope,
        _mechanism: str,
        data: Any,
    ) -> AuthResult:
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login, password = data.login.decode(), data.password.decode()
        ok = login == self.user and password == self.password
        if ok:
            self.logins.append(login)
        return AuthResult(success=ok, handled=False)
