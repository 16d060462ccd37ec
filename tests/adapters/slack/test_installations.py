"""Slack installations in Pairtime's database: every token sealed, opened only with the keys."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from slack_sdk.oauth.installation_store.models.installation import Installation
from sqlalchemy import text

from adapters.slack.installations import SealedInstallationStore
from storage import migrate
from storage.crypto import Vault, generate_key
from storage.store import Storage
from tests.storage.conftest import BACKENDS, drop_schema, make_database

BOT_TOKEN = "xoxb-1111-secret-bot-token"
USER_TOKEN = "xoxp-2222-secret-user-token"
REFRESH = "xoxe-1-refresh-secret"
WEBHOOK = "https://hooks.slack.com/services/T1/B1/secret-webhook"


@pytest.fixture(params=BACKENDS)
async def storage(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Storage]:
    """SQLite, and PostgreSQL when PAIRTIME_TEST_POSTGRES_URL is set (as storage's tests)."""
    database, schema = await make_database(request.param, tmp_path)
    await migrate.upgrade(database)
    opened = Storage.over(database, Vault([generate_key()]))
    yield opened
    await opened.close()
    if schema:
        await drop_schema(schema)


def installation(team: str = "T1", *, enterprise: str | None = None) -> Installation:
    return Installation(
        app_id="A1",
        enterprise_id=enterprise,
        team_id=team,
        team_name="Team One",
        bot_token=BOT_TOKEN,
        bot_id="B1",
        bot_user_id="U0BOT",
        bot_scopes="chat:write,commands",
        bot_refresh_token=REFRESH,
        user_id="U0INSTALLER",
        user_token=USER_TOKEN,
        user_scopes="identify",
        incoming_webhook_url=WEBHOOK,
        installed_at=1_764_000_000.0,
    )


async def raw_rows(storage: Storage) -> str:
    async with storage.database.transaction() as db:
        rows = [*(await db.execute(text("SELECT * FROM slack_installations"))).all()]
        rows += (await db.execute(text("SELECT * FROM slack_bots"))).all()
    return repr(rows)


async def test_tokens_are_sealed_at_rest_and_opened_when_found(storage: Storage):
    store = SealedInstallationStore("1111.2222", storage.database, storage.vault)

    await store.async_save(installation())

    stored = await raw_rows(storage)
    for secret in (BOT_TOKEN, USER_TOKEN, REFRESH, WEBHOOK):
        assert secret not in stored
    assert "T1" in stored  # the rest is plain, for slack_sdk's queries
    found = await store.async_find_installation(enterprise_id=None, team_id="T1")
    assert found is not None
    assert (found.bot_token, found.user_token, found.bot_refresh_token) == (
        BOT_TOKEN,
        USER_TOKEN,
        REFRESH,
    )
    assert found.incoming_webhook_url == WEBHOOK
    bot = await store.async_find_bot(enterprise_id=None, team_id="T1")
    assert bot is not None
    assert bot.bot_token == BOT_TOKEN


async def test_another_process_with_the_same_keys_reads_them(storage: Storage):
    await SealedInstallationStore("1111.2222", storage.database, storage.vault).async_save(
        installation()
    )
    other = SealedInstallationStore("1111.2222", storage.database, storage.vault)

    bot = await other.find_bot_for_team("T1")

    assert bot is not None
    assert bot.bot_token == BOT_TOKEN
    assert await other.find_bot_for_team("T2") is None


async def test_grid_workspaces_are_found_by_team_alone(storage: Storage):
    store = SealedInstallationStore("1111.2222", storage.database, storage.vault)
    await store.async_save(installation("T3", enterprise="E1"))

    assert await store.async_find_bot(enterprise_id=None, team_id="T3") is None
    bot = await store.find_bot_for_team("T3")
    assert bot is not None
    assert (bot.enterprise_id, bot.bot_token) == ("E1", BOT_TOKEN)


async def test_without_the_key_nothing_opens_and_nothing_leaks(
    storage: Storage, caplog: pytest.LogCaptureFixture
):
    await SealedInstallationStore("1111.2222", storage.database, storage.vault).async_save(
        installation()
    )
    stranger = SealedInstallationStore("1111.2222", storage.database, Vault([generate_key()]))

    assert await stranger.async_find_installation(enterprise_id=None, team_id="T1") is None
    assert await stranger.async_find_bot(enterprise_id=None, team_id="T1") is None
    assert "cannot be opened with the configured keys" in caplog.text
    assert BOT_TOKEN not in caplog.text


async def test_deleting_forgets_at_once(storage: Storage):
    store = SealedInstallationStore("1111.2222", storage.database, storage.vault)
    await store.async_save(installation())
    assert await store.async_find_bot(enterprise_id=None, team_id="T1") is not None

    await store.async_delete_installation(enterprise_id=None, team_id="T1")
    await store.async_delete_bot(enterprise_id=None, team_id="T1")

    assert await store.async_find_bot(enterprise_id=None, team_id="T1") is None
    assert await store.async_find_installation(enterprise_id=None, team_id="T1") is None
    assert "T1" not in await raw_rows(storage)
