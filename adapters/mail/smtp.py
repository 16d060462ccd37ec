"""Sends invitations through an SMTP server with aiosmtplib: core's mail port.

One connection per message: invitations are few (a handful per booking), and a fresh
connection never finds a server that timed out an idle one. STARTTLS is required before
AUTH (``smtp://user:password@host:587``), TLS comes first with ``smtps://``; the password
never travels in plain text, is never logged, and no error carries it.
"""

from __future__ import annotations

import logging
import ssl

import aiosmtplib

from adapters.mail.config import MailSettings, Security
from adapters.mail.message import compose
from core.errors import MailRefused
from core.invitations import InvitationEmail, Mailbox
from core.ports import Clock

log = logging.getLogger(__name__)


class SmtpMailer:
    def __init__(self, settings: MailSettings, clock: Clock) -> None:
        self._settings = settings
        self._clock = clock
        # Loading the system's certificates costs tens of milliseconds of a start-up: only
        # for a server that speaks TLS (the playground's own SMTP server does not).
        self._tls: ssl.SSLContext | None = None
        if settings.security is not Security.NONE:
            self._tls = ssl.create_default_context()
            if settings.ca_bundle:
                self._tls.load_verify_locations(settings.ca_bundle)

    @property
    def sender(self) -> Mailbox:
        return self._settings.sender

    async def send(self, email: InvitationEmail) -> None:
        """Hand ``email`` to the server; :class:`MailRefused` when it was not accepted."""
        settings = self._settings
        message = compose(email, settings.sender, self._clock.now())
        password = settings.password.reveal() if settings.password is not None else None
        try:
            await aiosmtplib.send(
                message,
                hostname=settings.host,
                port=settings.port,
                username=settings.username,
                password=password,
                use_tls=settings.security is Security.TLS,
                start_tls=settings.security is Security.STARTTLS,
                tls_context=self._tls,
                timeout=settings.timeout_seconds,
            )
        except aiosmtplib.SMTPRecipientsRefused as error:
            codes = ", ".join(str(each.code) for each in error.recipients)
            raise MailRefused(
                f"{settings.describe()} refused the recipient ({codes})",
                permanent=all(each.code >= 500 for each in error.recipients),
            ) from None
        except aiosmtplib.SMTPAuthenticationError as error:
            # The server's words may repeat what it was sent: keep only its code.
            raise MailRefused(
                f"{settings.describe()} did not accept the user and password ({error.code})"
            ) from None
        except aiosmtplib.SMTPResponseException as error:
            permanent = error.code >= 500 and not isinstance(
                error, aiosmtplib.SMTPConnectResponseError | aiosmtplib.SMTPHeloError
            )
            raise MailRefused(
                f"{settings.describe()} answered {error.code} ({type(error).__name__})",
                permanent=permanent,
            ) from None
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            raise MailRefused(
                f"{settings.describe()} could not be reached ({type(error).__name__})"
            ) from None
        log.info(
            "invitation %s (sequence %d, %s) handed to %s",
            email.meeting,
            email.sequence,
            email.method.value,
            settings.describe(),
        )
