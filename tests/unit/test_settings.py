from __future__ import annotations

from pathlib import Path

import pytest

from adapters.mail.config import Security
from bot.settings import DEFAULT_DATABASE_URL, ConfigError, load_settings
from core.secret import Secret

FERNET_KEY = "k" * 43 + "="  # 32 bytes in url-safe base64
TOKEN = "xoxb-1234-5678-very-secret-token"


def load(env: dict[str, str], dotenv: Path | None = None):
    return load_settings(env, dotenv_path=dotenv)


def problems(env: dict[str, str]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load(env)
    return caught.value.problems


def test_defaults_run_locally_with_nothing_set():
    settings = load({})
    assert settings.env == "development"
    assert settings.database_url == DEFAULT_DATABASE_URL
    assert settings.database_pool_size == 10
    assert load({"PAIRTIME_DATABASE_POOL_SIZE": "4"}).database_pool_size == 4
    assert settings.base_url == "http://127.0.0.1:3978"
    assert settings.slack.api_url == "https://slack.com/api/"
    assert not settings.slack.enabled
    assert not settings.teams.enabled
    assert settings.playground_enabled


def test_dotenv_fills_what_the_environment_leaves_unset(tmp_path: Path):
    dotenv = tmp_path / ".env"
    dotenv.write_text("PAIRTIME_BASE_URL=https://from-file.example\nSLACK_API_URL=http://x/api\n")
    settings = load({"PAIRTIME_BASE_URL": "https://from-env.example/"}, dotenv)
    assert settings.base_url == "https://from-env.example"
    assert settings.slack.api_url == "http://x/api/"


def test_secrets_print_masked():
    settings = load({"SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": "s3cr3t-signing"})
    assert settings.slack.bot_token is not None
    assert settings.slack.bot_token.reveal() == TOKEN
    for text in (repr(settings), str(settings), repr(settings.slack.bot_token)):
        assert TOKEN not in text
        assert "s3cr3t-signing" not in text
    assert Secret("a") == Secret("a") != Secret("b")


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"PAIRTIME_ENV": "staging"}, "PAIRTIME_ENV must be 'development' or 'production'"),
        ({"PAIRTIME_BASE_URL": "bot.example.org"}, "PAIRTIME_BASE_URL must be an http(s) URL"),
        (
            {"PAIRTIME_DATABASE_URL": "pairtime.db"},
            "PAIRTIME_DATABASE_URL must be a SQLAlchemy URL",
        ),
        ({"PAIRTIME_DATABASE_POOL_SIZE": "0"}, "PAIRTIME_DATABASE_POOL_SIZE must be a whole"),
        ({"PAIRTIME_DATABASE_POOL_SIZE": "ten"}, "PAIRTIME_DATABASE_POOL_SIZE must be a whole"),
        ({"PAIRTIME_ENCRYPTION_KEYS": f"{FERNET_KEY},nope"}, "PAIRTIME_ENCRYPTION_KEYS: key 2"),
        ({"SLACK_BOT_TOKEN": TOKEN}, "SLACK_SIGNING_SECRET is required"),
        ({"SLACK_SIGNING_SECRET": "x"}, "SLACK_BOT_TOKEN (one workspace) or SLACK_CLIENT_ID"),
        (
            {"SLACK_SIGNING_SECRET": "x", "SLACK_BOT_TOKEN": TOKEN, "SLACK_CLIENT_ID": "1.2"},
            "set SLACK_BOT_TOKEN (one workspace) or SLACK_CLIENT_ID",
        ),
        (
            {"SLACK_SIGNING_SECRET": "x", "SLACK_CLIENT_ID": "1.2"},
            "SLACK_CLIENT_SECRET is required",
        ),
        ({"SLACK_API_URL": "ftp://x"}, "SLACK_API_URL must be an http(s) URL"),
        ({"MICROSOFT_APP_PASSWORD": "pw"}, "MICROSOFT_APP_ID is required"),
        ({"MICROSOFT_APP_ID": "id"}, "MICROSOFT_APP_PASSWORD is required"),
        ({"PAIRTIME_TEAMS_AUTH": "off"}, "PAIRTIME_TEAMS_AUTH must be 'enabled' or 'disabled'"),
        ({"PAIRTIME_PLAYGROUND": "yes"}, "PAIRTIME_PLAYGROUND must be 1 (on) or 0 (off)"),
        ({"PAIRTIME_LOG_FORMAT": "xml"}, "PAIRTIME_LOG_FORMAT must be 'text' or 'json', not 'xml'"),
        ({"GOOGLE_CLIENT_ID": "g"}, "GOOGLE_CLIENT_SECRET is required"),
        (
            {"PAIRTIME_CALDAV_URL": "caldav.icloud.com"},
            "PAIRTIME_CALDAV_URL must be an http(s) URL",
        ),
        ({"PAIRTIME_CALENDAR_TIMEOUT": "soon"}, "PAIRTIME_CALENDAR_TIMEOUT must be a number"),
    ],
)
def test_each_problem_names_its_variable(env: dict[str, str], expected: str):
    assert any(problem.startswith(expected) for problem in problems(env))


def test_a_bad_secret_is_named_but_never_echoed():
    found = problems({"SLACK_BOT_TOKEN": "xoxp-user-token-value", "SLACK_SIGNING_SECRET": "x"})
    assert found == ["SLACK_BOT_TOKEN must be a bot token (it starts with xoxb-)"]
    found = problems({"PAIRTIME_ENCRYPTION_KEYS": "not-a-key-but-secret"})
    assert "not-a-key-but-secret" not in "\n".join(found)


def test_production_refuses_every_unsafe_default():
    found = problems({"PAIRTIME_ENV": "production"})
    assert {problem.split()[0] for problem in found} == {
        "PAIRTIME_BASE_URL",
        "PAIRTIME_DATABASE_URL",
        "PAIRTIME_ENCRYPTION_KEYS",
    }
    found = problems(
        {
            "PAIRTIME_ENV": "production",
            "PAIRTIME_BASE_URL": "http://bot.example.org",
            "PAIRTIME_DATABASE_URL": "postgresql+asyncpg://db/pairtime",
            "PAIRTIME_ENCRYPTION_KEYS": FERNET_KEY,
        }
    )
    assert found == ["PAIRTIME_BASE_URL must use https in production"]


def test_production_starts_when_everything_is_explicit():
    settings = load(
        {
            "PAIRTIME_ENV": "production",
            "PAIRTIME_BASE_URL": "https://bot.example.org",
            "PAIRTIME_DATABASE_URL": "postgresql+asyncpg://db/pairtime",
            "PAIRTIME_ENCRYPTION_KEYS": f"{FERNET_KEY}, {FERNET_KEY}",
        }
    )
    assert settings.is_production
    assert len(settings.encryption_keys) == 2


def test_the_log_is_text_unless_json_is_asked_for():
    assert load({}).log_format == "text"
    assert load({"PAIRTIME_LOG_FORMAT": "json"}).log_format == "json"


def test_the_playground_is_off_beside_chat_apps_unless_asked_and_never_in_production():
    slack = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": "s"}
    assert not load(slack).playground_enabled
    assert load({**slack, "PAIRTIME_PLAYGROUND": "1"}).playground_enabled
    assert not load({"PAIRTIME_PLAYGROUND": "0"}).playground_enabled
    production = {
        "PAIRTIME_ENV": "production",
        "PAIRTIME_BASE_URL": "https://bot.example.org",
        "PAIRTIME_DATABASE_URL": "postgresql+asyncpg://db/pairtime",
        "PAIRTIME_ENCRYPTION_KEYS": FERNET_KEY,
    }
    assert not load(production).playground_enabled
    assert problems({**production, "PAIRTIME_PLAYGROUND": "1"}) == [
        "PAIRTIME_PLAYGROUND=1 is refused in production: the playground lets anyone act as anyone"
    ]


def test_teams_authentication_can_be_disabled_in_development_only():
    assert load({"PAIRTIME_TEAMS_AUTH": "disabled"}).teams.auth_disabled
    production = {
        "PAIRTIME_ENV": "production",
        "PAIRTIME_BASE_URL": "https://bot.example.org",
        "PAIRTIME_DATABASE_URL": "postgresql+asyncpg://db/pairtime",
        "PAIRTIME_ENCRYPTION_KEYS": FERNET_KEY,
        "PAIRTIME_TEAMS_AUTH": "disabled",
    }
    assert problems(production)[0].startswith(
        "PAIRTIME_TEAMS_AUTH=disabled is refused in production"
    )


def test_the_calendar_cache_can_be_shortened_or_turned_off():
    assert load({}).calendars.cache_seconds == 120
    assert load({"PAIRTIME_CALENDAR_CACHE_SECONDS": "0"}).calendars.cache_seconds == 0
    assert problems({"PAIRTIME_CALENDAR_CACHE_SECONDS": "soon"}) == [
        "PAIRTIME_CALENDAR_CACHE_SECONDS must be a number of seconds from 0 (no cache) to 3600"
    ]


def test_counting_sql_statements_is_for_benchmarks_never_production():
    assert not load({}).count_sql
    assert load({"PAIRTIME_COUNT_SQL": "1"}).count_sql
    production = {
        "PAIRTIME_ENV": "production",
        "PAIRTIME_BASE_URL": "https://bot.example.org",
        "PAIRTIME_DATABASE_URL": "postgresql+asyncpg://bot@db/pairtime",
        "PAIRTIME_ENCRYPTION_KEYS": FERNET_KEY,
    }
    assert not load(production).count_sql
    assert problems({**production, "PAIRTIME_COUNT_SQL": "1"}) == [
        "PAIRTIME_COUNT_SQL=1 is for benchmarks, and refused in production"
    ]


def test_the_bot_framework_endpoints_can_point_elsewhere_with_their_own_ca(tmp_path: Path):
    bundle = tmp_path / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    public = load({"PAIRTIME_CA_BUNDLE": str(bundle)}).teams
    assert public.login_url == "https://login.microsoftonline.com"
    assert public.ca_bundle is None  # Microsoft's own authority keeps msal's own CAs

    teams = load(
        {
            "MICROSOFT_BOT_OPENID_METADATA_URL": "http://127.0.0.1:9/v1/.well-known/openid",
            "MICROSOFT_BOT_LOGIN_URL": "https://localhost:8443/",
            "PAIRTIME_CA_BUNDLE": str(bundle),
        }
    ).teams
    assert teams.openid_metadata_url == "http://127.0.0.1:9/v1/.well-known/openid"
    assert teams.login_url == "https://localhost:8443"
    assert teams.ca_bundle == str(bundle)
    assert "MICROSOFT_BOT_LOGIN_URL must be an http(s) URL" in problems(
        {"MICROSOFT_BOT_LOGIN_URL": "login.example"}
    )


# ---------------------------------------------------------------- email


SMTP_PASSWORD = "p@ss:w/rd-very-secret"
QUOTED = "p%40ss%3Aw%2Frd-very-secret"
MAIL_FROM = '"Mentoring Program" <mentoring@example.org>'


def test_without_smtp_invitations_are_not_emailed():
    assert load({}).mail is None


@pytest.mark.parametrize(
    ("url", "host", "port", "security"),
    [
        (f"smtp://mentoring%40example.org:{QUOTED}@smtp.example.org:587", "smtp.example.org",
         587, Security.STARTTLS),
        (f"smtp://bot:{QUOTED}@smtp.example.org", "smtp.example.org", 587, Security.STARTTLS),
        (f"smtps://bot:{QUOTED}@smtp.example.org", "smtp.example.org", 465, Security.TLS),
        ("smtp://relay.internal:25", "relay.internal", 25, Security.NONE),
        ("smtp://relay.internal", "relay.internal", 25, Security.NONE),
        (f"smtp://bot:{QUOTED}@127.0.0.1:1025?tls=none", "127.0.0.1", 1025, Security.NONE),
    ],
)  # fmt: skip
def test_the_smtp_url_says_where_and_how_to_send(url, host, port, security):
    mail = load({"PAIRTIME_SMTP_URL": url, "PAIRTIME_MAIL_FROM": MAIL_FROM}).mail
    assert mail is not None
    assert (mail.host, mail.port, mail.security) == (host, port, security)
    assert mail.sender.name == "Mentoring Program"
    assert mail.sender.address == "mentoring@example.org"
    if "@" in url.split("//")[1]:
        assert mail.password is not None
        assert mail.password.reveal() == SMTP_PASSWORD
        assert SMTP_PASSWORD not in repr(mail)
        assert SMTP_PASSWORD not in mail.describe()


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"PAIRTIME_SMTP_URL": "smtp://relay:25"}, "PAIRTIME_MAIL_FROM must be set"),
        ({"PAIRTIME_MAIL_FROM": MAIL_FROM}, "PAIRTIME_SMTP_URL is required"),
        ({"PAIRTIME_SMTP_URL": f"http://bot:{QUOTED}@smtp.example.org",
          "PAIRTIME_MAIL_FROM": MAIL_FROM}, "PAIRTIME_SMTP_URL must look like"),
        ({"PAIRTIME_SMTP_URL": f"smtp://bot:{QUOTED}@smtp.example.org:port",
          "PAIRTIME_MAIL_FROM": MAIL_FROM}, "PAIRTIME_SMTP_URL must look like"),
        ({"PAIRTIME_SMTP_URL": "smtp://relay:25", "PAIRTIME_MAIL_FROM": "not an address"},
         "PAIRTIME_MAIL_FROM must be set"),
    ],
)  # fmt: skip
def test_bad_mail_settings_are_named_without_the_password(env, expected):
    found = problems(env)
    assert any(expected in problem for problem in found), found
    assert not any(SMTP_PASSWORD in p or QUOTED in p for p in found)


def test_production_refuses_a_password_sent_without_tls():
    production = {
        "PAIRTIME_ENV": "production",
        "PAIRTIME_BASE_URL": "https://bot.example.org",
        "PAIRTIME_DATABASE_URL": "postgresql+asyncpg://db/pairtime",
        "PAIRTIME_ENCRYPTION_KEYS": FERNET_KEY,
        "PAIRTIME_MAIL_FROM": MAIL_FROM,
    }
    found = problems({**production, "PAIRTIME_SMTP_URL": f"smtp://bot:{QUOTED}@mx:25?tls=none"})
    assert any("must use TLS in production" in problem for problem in found)
    assert not any(QUOTED in problem for problem in found)
    for url in (f"smtp://bot:{QUOTED}@mx:587", f"smtps://bot:{QUOTED}@mx", "smtp://relay:25"):
        mail = load({**production, "PAIRTIME_SMTP_URL": url}).mail
        assert mail is not None
