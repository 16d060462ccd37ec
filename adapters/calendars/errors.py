"""What can go wrong with a provider, in terms safe to show a person."""

from __future__ import annotations


class ProviderError(Exception):
    """A provider failed; ``str()`` is a short reason safe to show (no token, no event)."""


class GrantRevoked(ProviderError):
    """The person's grant was revoked or has expired: they must connect again."""


class ProviderUnavailable(ProviderError):
    """The provider did not answer usefully in time (timeouts, 429s, 5xx after retries)."""


class ConsentDenied(ProviderError):
    """The person declined to give access on the provider's consent page."""


class WrongCredentials(ProviderError):
    """An Apple ID and app-specific password that the CalDAV server refused."""
