"""What can go wrong with a provider, in terms safe to show a person."""

from __future__ import annotations

from core.errors import CalendarError


class ProviderError(CalendarError):
    """A provider failed; ``str()`` is a short reason safe to show (no token, no event)."""


class GrantRevoked(ProviderError):
    """The person's grant was revoked or has expired: they must connect again."""


class ProviderUnavailable(ProviderError):
    """The provider did not answer usefully in time (timeouts, 429s, 5xx after retries)."""


class ConsentDenied(ProviderError):
    """The person declined to give access on the provider's consent page."""


class WrongCredentials(ProviderError):
    """An Apple ID and app-specific password that the CalDAV server refused."""


class BadAnswer(ProviderError):
    """A provider answered, but not as its documentation says (a proxy's HTML page,
    truncated JSON, another shape, a broken XML body).

    ``str()`` stays safe to show; ``service``, ``status`` (None when no HTTP reply
    was reached) and ``detail`` (what was wrong, never the body) are for the log.
    """

    def __init__(self, service: str, status: int | None, detail: str) -> None:
        super().__init__(f"{service} sent an answer I couldn't read")
        self.service = service
        self.status = status
        self.detail = detail
