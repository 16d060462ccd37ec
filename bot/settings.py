"""Configuration: read once from the environment (and an optional ``.env``), typed, validated.

Every problem is reported at start-up naming the variable; a secret's value
is never echoed. With ``PAIRTIME_ENV=production`` every default that is only
safe on a developer's machine refuses to start instead.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.utils import parseaddr
from pathlib import Path
from typing import Literal
from urllib.parse import SplitResult, parse_qs, unquote, urlsplit

from dotenv import dotenv_values

from adapters.calendars.config import CalendarSettings
from adapters.mail.config import MailSettings, Security
from adapters.slack.config import DEFAULT_API_URL as DEFAULT_SLACK_API_URL
from adapters.slack.config import SlackSettings
from adapters.teams.config import TeamsSettings
from core.invitations import Mailbox
from core.secret import Secret

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///pairtime.db"
DEFAULT_BASE_URL = "http://127.0.0.1:3978"
DEFAULT_POOL_SIZE = 10  # PostgreSQL connections a process keeps (and as many more at a peak)


class ConfigError(Exception):
    """Invalid configuration: one line per problem, each naming its variable."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class Settings:
    env: Literal["development", "production"] = "development"
    database_url: str = DEFAULT_DATABASE_URL
    # PostgreSQL: connections this process keeps open, and as many more at a peak (so at
    # most twice this many); the sum over processes must stay under the server's
    # max_connections. SQLite: the reading connections.
    database_pool_size: int = DEFAULT_POOL_SIZE
    base_url: str = DEFAULT_BASE_URL
    encryption_keys: tuple[Secret, ...] = ()
    slack: SlackSettings = field(default_factory=SlackSettings)
    teams: TeamsSettings = field(default_factory=TeamsSettings)
    playground: bool = True  # the local web playground (see playground_enabled)
    calendars: CalendarSettings = field(default_factory=CalendarSettings)
    log_format: Literal["text", "json"] = "text"  # one JSON object per line, for a pipeline
    # PAIRTIME_COUNT_SQL=1: count SQL statements and serve the count at /debug/sql, for the
    # benchmarks (statements per request); refused in production.
    count_sql: bool = False
    mail: MailSettings | None = None  # None: invitations are not emailed

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def playground_enabled(self) -> bool:
        """The playground has no authentication: never in production, off beside chat apps.

        ``PAIRTIME_PLAYGROUND=1`` keeps it on next to Slack or Teams (development only),
        ``PAIRTIME_PLAYGROUND=0`` turns it off.
        """
        return not self.is_production and self.playground


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

    pool = values.get("PAIRTIME_DATABASE_POOL_SIZE", str(DEFAULT_POOL_SIZE))
    pool_size = int(pool) if pool.strip().isdigit() else 0
    if not 1 <= pool_size <= 1000:
        problems.append(
            "PAIRTIME_DATABASE_POOL_SIZE must be a whole number from 1 to 1000 (connections "
            "a process keeps; at most twice as many are open at a peak)"
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

    slack = _slack_settings(values, problems)
    teams = _teams_settings(values, problems, production=production)
    playground_flag = values.get("PAIRTIME_PLAYGROUND")
    if playground_flag not in (None, "0", "1"):
        problems.append("PAIRTIME_PLAYGROUND must be 1 (on) or 0 (off)")
    if production and playground_flag == "1":
        problems.append(
            "PAIRTIME_PLAYGROUND=1 is refused in production: the playground lets anyone act "
            "as anyone"
        )
    playground = (
        playground_flag == "1"
        if playground_flag in ("0", "1")
        else not (slack.enabled or teams.enabled)
    )

    if production:
        for name, why in (
            ("PAIRTIME_BASE_URL", "the public https address people's browsers reach"),
            ("PAIRTIME_DATABASE_URL", "where Pairtime keeps its data"),
            ("PAIRTIME_ENCRYPTION_KEYS", "the keys that encrypt calendar tokens at rest"),
        ):
            if name not in values:
                problems.append(f"{name} must be set in production ({why})")

    calendars = _calendar_settings(values, problems, production=production)
    log_format = values.get("PAIRTIME_LOG_FORMAT", "text")
    if log_format not in ("text", "json"):
        problems.append(f"PAIRTIME_LOG_FORMAT must be 'text' or 'json', not {log_format!r}")
        log_format = "text"
    count_sql = values.get("PAIRTIME_COUNT_SQL", "0")
    if count_sql not in ("0", "1"):
        problems.append("PAIRTIME_COUNT_SQL must be 1 (on) or 0 (off)")
    elif production and count_sql == "1":
        problems.append("PAIRTIME_COUNT_SQL=1 is for benchmarks, and refused in production")
    mail = _mail_settings(values, problems, production=production)
    if problems:
        raise ConfigError(problems)
    return Settings(
        calendars=calendars,
        env="production" if production else "development",
        database_url=database_url,
        database_pool_size=pool_size,
        base_url=base_url,
        encryption_keys=tuple(keys),
        slack=slack,
        teams=teams,
        playground=playground,
        log_format="json" if log_format == "json" else "text",
        count_sql=count_sql == "1",
        mail=mail,
    )


SMTP_PORTS = {"smtp": 25, "smtps": 465}
SMTP_URL_HELP = (
    "PAIRTIME_SMTP_URL must look like smtp://user:password@host:587 (STARTTLS), "
    "smtps://user:password@host:465 (TLS) or smtp://host:25 (a local relay, no password)"
)


def _mail_settings(
    values: dict[str, str], problems: list[str], *, production: bool
) -> MailSettings | None:
    """PAIRTIME_SMTP_URL and PAIRTIME_MAIL_FROM; no problem ever repeats the password."""
    url = values.get("PAIRTIME_SMTP_URL")
    sender_text = values.get("PAIRTIME_MAIL_FROM")
    if url is None:
        if sender_text is not None:
            problems.append("PAIRTIME_SMTP_URL is required when PAIRTIME_MAIL_FROM is set")
        return None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # a port that is not a number; the URL itself is never echoed
        problems.append(SMTP_URL_HELP)
        return None
    if parts.scheme not in SMTP_PORTS or not parts.hostname or parts.path not in ("", "/"):
        problems.append(SMTP_URL_HELP)
        return None
    security = _smtp_security(parts, problems, production=production)
    sender = _mailbox(sender_text)
    if sender is None:
        problems.append(
            "PAIRTIME_MAIL_FROM must be set with PAIRTIME_SMTP_URL, as an address such as "
            '"Mentoring Program <mentoring@example.org>": invitations come from it'
        )
        return None
    password = unquote(parts.password) if parts.password else None
    return MailSettings(
        host=parts.hostname,
        port=port or (587 if security is Security.STARTTLS else SMTP_PORTS[parts.scheme]),
        security=security,
        sender=sender,
        username=unquote(parts.username) if parts.username else None,
        password=Secret(password) if password else None,
        ca_bundle=values.get("PAIRTIME_CA_BUNDLE"),
    )


def _smtp_security(parts: SplitResult, problems: list[str], *, production: bool) -> Security:
    if parts.scheme == "smtps":
        return Security.TLS
    tls = parse_qs(parts.query).get("tls", [""])[-1]
    if tls not in ("", "none"):
        problems.append("PAIRTIME_SMTP_URL: tls=none is the only option it takes")
    if not parts.username:
        return Security.NONE
    if tls == "none":
        # Local mail catchers accept a login in plain text; a real server must not see one.
        if production:
            problems.append(
                "PAIRTIME_SMTP_URL with a password must use TLS in production "
                "(smtps://, or smtp:// without tls=none for STARTTLS)"
            )
        return Security.NONE
    return Security.STARTTLS


def _mailbox(text: str | None) -> Mailbox | None:
    if not text:
        return None
    name, address = parseaddr(text)
    if "@" not in address:
        return None
    try:
        checked = Address(display_name=name, addr_spec=address)
    except (ValueError, IndexError):
        return None
    return Mailbox(checked.display_name or checked.username, checked.addr_spec)


def _is_fernet_key(key: str) -> bool:
    try:
        return len(base64.urlsafe_b64decode(key.encode("ascii"))) == 32
    except (binascii.Error, ValueError, UnicodeEncodeError):
        return False


def _seconds(
    values: Mapping[str, str],
    name: str,
    default: float,
    *,
    accepted: Callable[[float], bool],
    what: str,
    problems: list[str],
) -> float:
    """``name`` as seconds (``default`` when unset); a problem saying it must be ``what``
    when it is not a number ``accepted`` allows."""
    if name not in values:
        return default
    try:
        seconds = float(values[name])
    except ValueError:
        seconds = -1
    if not accepted(seconds):
        problems.append(f"{name} must be {what}")
    return seconds


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
        url = _service_url(values, name, default, production, problems)
        urls[name] = url.rstrip("/") if name != "PAIRTIME_CALDAV_URL" else url
    ca_bundle = values.get("PAIRTIME_CA_BUNDLE")
    if ca_bundle and not Path(ca_bundle).is_file():
        problems.append("PAIRTIME_CA_BUNDLE must name a readable certificate file")
    timeout = _seconds(
        values,
        "PAIRTIME_CALENDAR_TIMEOUT",
        defaults.timeout_seconds,
        accepted=lambda seconds: 0 < seconds <= 60,
        what="a number of seconds from 0 to 60",
        problems=problems,
    )
    cache_seconds = _seconds(
        values,
        "PAIRTIME_CALENDAR_CACHE_SECONDS",
        defaults.cache_seconds,
        accepted=lambda seconds: 0 <= seconds <= 3600,
        what="a number of seconds from 0 (no cache) to 3600",
        problems=problems,
    )
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
        cache_seconds=cache_seconds,
    )


def _slack_settings(values: dict[str, str], problems: list[str]) -> SlackSettings:
    token = values.get("SLACK_BOT_TOKEN")
    signing = values.get("SLACK_SIGNING_SECRET")
    client_id = values.get("SLACK_CLIENT_ID")
    client_secret = values.get("SLACK_CLIENT_SECRET")
    if token and not token.startswith("xoxb-"):
        problems.append("SLACK_BOT_TOKEN must be a bot token (it starts with xoxb-)")
    if (token or client_id) and not signing:
        problems.append("SLACK_SIGNING_SECRET is required when Slack is configured")
    if signing and not (token or client_id):
        problems.append(
            "SLACK_BOT_TOKEN (one workspace) or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET "
            "(many workspaces) is required when SLACK_SIGNING_SECRET is set"
        )
    if token and client_id:
        problems.append(
            "set SLACK_BOT_TOKEN (one workspace) or SLACK_CLIENT_ID (many workspaces), not both"
        )
    if bool(client_id) != bool(client_secret):
        missing = "SLACK_CLIENT_SECRET" if client_id else "SLACK_CLIENT_ID"
        problems.append(f"{missing} is required when the other Slack OAuth credential is set")
    api_url = values.get("SLACK_API_URL", DEFAULT_SLACK_API_URL)
    if urlsplit(api_url).scheme not in ("http", "https"):
        problems.append("SLACK_API_URL must be an http(s) URL")
    elif not api_url.endswith("/"):
        api_url += "/"  # slack_sdk joins method names onto it
    return SlackSettings(
        signing_secret=Secret(signing) if signing else None,
        bot_token=Secret(token) if token else None,
        client_id=client_id,
        client_secret=Secret(client_secret) if client_secret else None,
        api_url=api_url,
    )


def _teams_settings(
    values: dict[str, str], problems: list[str], *, production: bool
) -> TeamsSettings:
    app_id = values.get("MICROSOFT_APP_ID")
    password = values.get("MICROSOFT_APP_PASSWORD")
    if bool(app_id) != bool(password):
        missing = "MICROSOFT_APP_PASSWORD" if app_id else "MICROSOFT_APP_ID"
        problems.append(f"{missing} is required when the other Teams credential is set")
    auth = values.get("PAIRTIME_TEAMS_AUTH", "enabled")
    if auth not in ("enabled", "disabled"):
        problems.append("PAIRTIME_TEAMS_AUTH must be 'enabled' or 'disabled'")
    elif auth == "disabled" and production:
        problems.append(
            "PAIRTIME_TEAMS_AUTH=disabled is refused in production: anyone could speak as "
            "the Bot Framework"
        )
    defaults = TeamsSettings()
    urls = {}
    for name, default in (
        ("MICROSOFT_BOT_OPENID_METADATA_URL", defaults.openid_metadata_url),
        ("MICROSOFT_BOT_LOGIN_URL", defaults.login_url),
    ):
        urls[name] = _service_url(values, name, default, production, problems)
    return TeamsSettings(
        app_id=app_id,
        app_password=Secret(password) if password else None,
        tenant_id=values.get("MICROSOFT_APP_TENANT_ID"),
        auth_disabled=auth == "disabled",
        openid_metadata_url=urls["MICROSOFT_BOT_OPENID_METADATA_URL"],
        login_url=urls["MICROSOFT_BOT_LOGIN_URL"].rstrip("/"),
        # Trusted for an authority of one's own only: for Microsoft's, msal keeps its own CAs.
        ca_bundle=values.get("PAIRTIME_CA_BUNDLE")
        if urls["MICROSOFT_BOT_LOGIN_URL"] != defaults.login_url
        else None,
    )


def _service_url(
    values: Mapping[str, str], name: str, default: str, production: bool, problems: list[str]
) -> str:
    """``name``'s URL (or ``default``), with a problem noted unless it is http(s), and https
    in production."""
    url = values.get(name, default)
    scheme = urlsplit(url).scheme
    if scheme not in ("http", "https") or not urlsplit(url).netloc:
        problems.append(f"{name} must be an http(s) URL")
    elif production and scheme != "https":
        problems.append(f"{name} must use https in production")
    return url
