from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import DEFAULT_DATABASE_URL, ConfigError, Secret, load_settings

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
    assert settings.base_url == "http://127.0.0.1:3978"
    assert settings.slack_api_url == "https://slack.com/api/"
    assert not settings.slack_enabled
    assert not settings.teams_enabled


def test_dotenv_fills_what_the_environment_leaves_unset(tmp_path: Path):
    dotenv = tmp_path / ".env"
    dotenv.write_text("PAIRTIME_BASE_URL=https://from-file.example\nSLACK_API_URL=http://x/api\n")
    settings = load({"PAIRTIME_BASE_URL": "https://from-env.example/"}, dotenv)
    assert settings.base_url == "https://from-env.example"
    assert settings.slack_api_url == "http://x/api/"


def test_secrets_print_masked():
    settings = load({"SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": "s3cr3t-signing"})
    assert settings.slack_bot_token is not None
    assert settings.slack_bot_token.reveal() == TOKEN
    for text in (repr(settings), str(settings), repr(settings.slack_bot_token)):
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
        ({"PAIRTIME_ENCRYPTION_KEYS": f"{FERNET_KEY},nope"}, "PAIRTIME_ENCRYPTION_KEYS: key 2"),
        ({"SLACK_BOT_TOKEN": TOKEN}, "SLACK_SIGNING_SECRET is required"),
        ({"SLACK_SIGNING_SECRET": "x"}, "SLACK_BOT_TOKEN is required"),
        ({"SLACK_API_URL": "ftp://x"}, "SLACK_API_URL must be an http(s) URL"),
        ({"MICROSOFT_APP_PASSWORD": "pw"}, "MICROSOFT_APP_ID is required"),
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
