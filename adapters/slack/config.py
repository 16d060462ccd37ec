"""Slack's configuration, filled by ``bot.settings`` from the environment."""

from __future__ import annotations

from dataclasses import dataclass

from core.secret import Secret

DEFAULT_API_URL = "https://slack.com/api/"


@dataclass(frozen=True, slots=True)
class SlackSettings:
    """One workspace (bot token) or many (OAuth client id and secret), never both."""

    signing_secret: Secret | None = None
    bot_token: Secret | None = None
    client_id: str | None = None
    client_secret: Secret | None = None
    api_url: str = DEFAULT_API_URL

    @property
    def enabled(self) -> bool:
        return self.signing_secret is not None

    @property
    def multi_workspace(self) -> bool:
        return self.client_id is not None
