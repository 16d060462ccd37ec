"""Microsoft Teams' configuration, filled by ``bot.settings`` from the environment."""

from __future__ import annotations

from dataclasses import dataclass

from core.secret import Secret


@dataclass(frozen=True, slots=True)
class TeamsSettings:
    """The Azure Bot registration; authentication is off only when explicitly disabled."""

    app_id: str | None = None
    app_password: Secret | None = None
    tenant_id: str | None = None  # for single-tenant bots
    auth_disabled: bool = False  # PAIRTIME_TEAMS_AUTH=disabled, development tools only

    @property
    def enabled(self) -> bool:
        return self.app_id is not None or self.auth_disabled
