"""The calendar providers' configuration, filled by ``bot.settings`` from the environment."""

from __future__ import annotations

from dataclasses import dataclass

from core.commands import Provider
from core.secret import Secret


@dataclass(frozen=True, slots=True)
class CalendarSettings:
    """Calendar providers: app credentials and endpoints (the real services by default).

    Endpoints are settings so that tests, proxies and sovereign clouds can
    point the real client libraries elsewhere.
    """

    google_client_id: str | None = None
    google_client_secret: Secret | None = None
    google_auth_url: str = "https://accounts.google.com/o/oauth2/v2/auth"
    google_token_url: str = "https://oauth2.googleapis.com/token"  # noqa: S105 - a URL
    google_revoke_url: str = "https://oauth2.googleapis.com/revoke"
    google_api_url: str = "https://www.googleapis.com/calendar/v3"
    microsoft_client_id: str | None = None
    microsoft_client_secret: Secret | None = None
    microsoft_authority_url: str = "https://login.microsoftonline.com"
    microsoft_graph_url: str = "https://graph.microsoft.com/v1.0"
    caldav_url: str = "https://caldav.icloud.com/"
    ca_bundle: str | None = None  # extra trusted certificates for outbound HTTPS
    timeout_seconds: float = 5.0
    cache_seconds: float = 120.0  # how long busy times are reused; 0 reads every time

    @property
    def google_enabled(self) -> bool:
        return self.google_client_id is not None

    @property
    def microsoft_enabled(self) -> bool:
        return self.microsoft_client_id is not None

    @property
    def available(self) -> frozenset[Provider]:
        """The services this server can connect: CalDAV always, the others once their app
        is registered (as bot.services builds them)."""
        found = {Provider.ICLOUD}
        if self.google_enabled:
            found.add(Provider.GOOGLE)
        if self.microsoft_enabled:
            found.add(Provider.MICROSOFT)
        return frozenset(found)
