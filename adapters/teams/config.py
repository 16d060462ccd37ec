"""Microsoft Teams' configuration, filled by ``bot.settings`` from the environment."""

from __future__ import annotations

from dataclasses import dataclass

from core.secret import Secret

# The Bot Framework's public cloud. Tests (and a proxy or a national cloud) point these elsewhere.
PUBLIC_OPENID_METADATA_URL = "https://login.botframework.com/v1/.well-known/openidconfiguration"
PUBLIC_LOGIN_URL = "https://login.microsoftonline.com"


@dataclass(frozen=True, slots=True)
class TeamsSettings:
    """The Azure Bot registration; authentication is off only when explicitly disabled."""

    app_id: str | None = None
    app_password: Secret | None = None
    tenant_id: str | None = None  # for single-tenant bots
    auth_disabled: bool = False  # PAIRTIME_TEAMS_AUTH=disabled, development tools only
    # Where the channel publishes the keys that sign incoming requests.
    openid_metadata_url: str = PUBLIC_OPENID_METADATA_URL
    # The authority that issues the bot's outgoing tokens; the tenant ("botframework.com",
    # or tenant_id for a single-tenant bot) is appended.
    login_url: str = PUBLIC_LOGIN_URL
    # Extra certificates to trust for login_url (a proxy's CA, or a test's self-signed one).
    ca_bundle: str | None = None

    @property
    def enabled(self) -> bool:
        return self.app_id is not None or self.auth_disabled
