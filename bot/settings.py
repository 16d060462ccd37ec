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

    @property
    def google_enabled(self) -> bool:
        return self.google_client_id is not None

    @property
    def microsoft_enabled(self) -> bool:
        return self.microsoft_client_id is not None


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
    calendars: CalendarSettings = CalendarSettings()

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

    calendars = _calendar_settings(values, problems, production=production)
    if problems:
        raise ConfigError(problems)
    return Settings(
        calendars=calendars,
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


def _calendar_settings(
    values: dict[str, str], problems: list[str], *, production: bool
) -> CalendarSettings:
    defaults = CalendarSettings()
    for first, second in (
        ("GOOGLE_CLIENT_ID", "GOOGLE_CLIENT_SECRET"),
        ("MICROSOFT_CALENDAR_CLIENT_ID", "MICROSOFT_CALENDAR_CLIENT_SECRET"),
    ):
        if (first in values) != (second in values):
            missing = second if first in values else first
            problems.append(
                f"{missing} is required when {first if missing == second else second} is set"
            )
    urls = {}
    for name, default in (
        ("GOOGLE_AUTH_URL", defaults.google_auth_url),
        ("GOOGLE_TOKEN_URL", defaults.google_token_url),
        ("GOOGLE_REVOKE_URL", defaults.google_revoke_url),
        ("GOOGLE_CALENDAR_API_URL", defaults.google_api_url),
        ("MICROSOFT_AUTHORITY_URL", defaults.microsoft_authority_url),
        ("MICROSOFT_GRAPH_URL", defaults.microsoft_graph_url),
        ("PAIRTIME_CALDAV_URL", defaults.caldav_url),
    ):
        url = values.get(name, default)
        scheme = urlsplit(url).scheme
        if scheme not in ("http", "https") or not urlsplit(url).netloc:
            problems.append(f"{name} must be an http(s) URL")
        elif production and scheme != "https":
            problems.append(f"{name} must use https in production")
        urls[name] = url.rstrip("/") if name != "PAIRTIME_CALDAV_URL" else url
    ca_bundle = values.get("PAIRTIME_CA_BUNDLE")
    if ca_bundle and not Path(ca_bundle).is_file():
        problems.append("PAIRTIME_CA_BUNDLE must name a readable certificate file")
    timeout = defaults.timeout_seconds
    if "PAIRTIME_CALENDAR_TIMEOUT" in values:
        try:
            timeout = float(values["PAIRTIME_CALENDAR_TIMEOUT"])
        except ValueError:
            timeout = -1
        if not 0 < timeout <= 60:
            problems.append("PAIRTIME_CALENDAR_TIMEOUT must be a number of seconds from 0 to 60")
    google_secret = values.get("GOOGLE_CLIENT_SECRET")
    microsoft_secret = values.get("MICROSOFT_CALENDAR_CLIENT_SECRET")
    return CalendarSettings(
        google_client_id=values.get("GOOGLE_CLIENT_ID"),
        google_client_secret=Secret(google_secret) if google_secret else None,
        google_auth_url=urls["GOOGLE_AUTH_URL"],
        google_token_url=urls["GOOGLE_TOKEN_URL"],
        google_revoke_url=urls["GOOGLE_REVOKE_URL"],
        google_api_url=urls["GOOGLE_CALENDAR_API_URL"],
        microsoft_client_id=values.get("MICROSOFT_CALENDAR_CLIENT_ID"),
        microsoft_client_secret=Secret(microsoft_secret) if microsoft_secret else None,
        microsoft_authority_url=urls["MICROSOFT_AUTHORITY_URL"],
        microsoft_graph_url=urls["MICROSOFT_GRAPH_URL"],
        caldav_url=urls["PAIRTIME_CALDAV_URL"],
        ca_bundle=ca_bundle,
        timeout_seconds=timeout,
    )
