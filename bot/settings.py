"""Configuration: read once from the environment (and an optional ``.env``), typed, validated.

Every problem is reported at start-up naming the variable; a secret's value
is never echoed. With ``PAIRTIME_ENV=production`` every default that is only
safe on a developer's machine refuses to start instead.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from dotenv import dotenv_values

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///pairtime.db"
DEFAULT_BASE_URL = "http://127.0.0.1:3978"
DEFAULT_SLACK_API_URL = "https://slack.com/api/"


class Secret:
    """A string that prints masked, so it cannot leak through logs or ``repr``."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


class ConfigError(Exception):
    """Invalid configuration: one line per problem, each naming its variable."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class Settings:
    env: Literal["development", "production"] = "development"
    database_url: str = DEFAULT_DATABASE_URL
    base_url: str = DEFAULT_BASE_URL
    encryption_keys: tuple[Secret, ...] = ()
    slack_signing_secret: Secret | None = None
    slack_bot_token: Secret | None = None
    slack_api_url: str = DEFAULT_SLACK_API_URL
    microsoft_app_id: str | None = None
    microsoft_app_password: Secret | None = None

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def slack_enabled(self) -> bool:
        return self.slack_bot_token is not None

    @property
    def teams_enabled(self) -> bool:
        return self.microsoft_app_id is not None


def load_settings(
    environ: Mapping[str, str], *, dotenv_path: Path | None = Path(".env")
) -> Settings:
    """Settings from ``environ``, with ``.env`` filling only what the environment leaves unset."""
    values: dict[str, str] = {}
    if dotenv_path is not None and dotenv_path.is_file():
        values.update(_non_empty(dotenv_values(dotenv_path)))
    values.update(_non_empty(environ))
    return _validate(values)


def _non_empty(variables: Mapping[str, str | None]) -> dict[str, str]:
    """An empty variable means "not set", as in most twelve-factor tools."""
    return {key: value.strip() for key, value in variables.items() if value and value.strip()}


def _validate(values: dict[str, str]) -> Settings:
    problems: list[str] = []
    env = values.get("PAIRTIME_ENV", "development")
    if env not in ("development", "production"):
        problems.append(f"PAIRTIME_ENV must be 'development' or 'production', not {env!r}")
        env = "development"
    production = env == "production"

    base_url = values.get("PAIRTIME_BASE_URL", DEFAULT_BASE_URL).rstrip("/")
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        problems.append("PAIRTIME_BASE_URL must be an http(s) URL such as https://bot.example.org")
    elif production and parts.scheme != "https":
        problems.append("PAIRTIME_BASE_URL must use https in production")

    database_url = values.get("PAIRTIME_DATABASE_URL", DEFAULT_DATABASE_URL)
    if "://" not in database_url:
        problems.append(
            "PAIRTIME_DATABASE_URL must be a SQLAlchemy URL such as "
            "sqlite+aiosqlite:///pairtime.db or postgresql+asyncpg://user@host/db"
        )

    keys: list[Secret] = []
    for index, key in enumerate(values.get("PAIRTIME_ENCRYPTION_KEYS", "").split(","), start=1):
        if not key.strip():
            continue
        if not _is_fernet_key(key.strip()):
            problems.append(
                f"PAIRTIME_ENCRYPTION_KEYS: key {index} is not a Fernet key "
                "(32 url-safe base64 bytes; `pairtime keys generate` makes one)"
            )
        keys.append(Secret(key.strip()))

    slack_token = values.get("SLACK_BOT_TOKEN")
    slack_secret = values.get("SLACK_SIGNING_SECRET")
    if slack_token and not slack_token.startswith("xoxb-"):
        problems.append("SLACK_BOT_TOKEN must be a bot token (it starts with xoxb-)")
    if bool(slack_token) != bool(slack_secret):
        missing = "SLACK_SIGNING_SECRET" if slack_token else "SLACK_BOT_TOKEN"
        problems.append(f"{missing} is required when the other Slack credential is set")
    slack_api_url = values.get("SLACK_API_URL", DEFAULT_SLACK_API_URL)
    if urlsplit(slack_api_url).scheme not in ("http", "https"):
        problems.append("SLACK_API_URL must be an http(s) URL")
    elif not slack_api_url.endswith("/"):
        slack_api_url += "/"  # slack_sdk joins method names onto it

    app_id = values.get("MICROSOFT_APP_ID")
    app_password = values.get("MICROSOFT_APP_PASSWORD")
    if app_password and not app_id:
        problems.append("MICROSOFT_APP_ID is required when MICROSOFT_APP_PASSWORD is set")

    if production:
        for name, why in (
            ("PAIRTIME_BASE_URL", "the public https address people's browsers reach"),
            ("PAIRTIME_DATABASE_URL", "where Pairtime keeps its data"),
            ("PAIRTIME_ENCRYPTION_KEYS", "the keys that encrypt calendar tokens at rest"),
        ):
            if name not in values:
                problems.append(f"{name} must be set in production ({why})")

    if problems:
        raise ConfigError(problems)
    return Settings(
        env="production" if production else "development",
        database_url=database_url,
        base_url=base_url,
        encryption_keys=tuple(keys),
        slack_signing_secret=Secret(slack_secret) if slack_secret else None,
        slack_bot_token=Secret(slack_token) if slack_token else None,
        slack_api_url=slack_api_url,
        microsoft_app_id=app_id,
        microsoft_app_password=Secret(app_password) if app_password else None,
    )


def _is_fernet_key(key: str) -> bool:
    try:
        return len(base64.urlsafe_b64decode(key.encode("ascii"))) == 32
    except (binascii.Error, ValueError, UnicodeEncodeError):
        return False
