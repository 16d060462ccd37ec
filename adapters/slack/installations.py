"""Slack installations (multi-workspace OAuth) in Pairtime's own database, tokens sealed.

slack_sdk's ``AsyncSQLAlchemyInstallationStore`` does the SQL over the
``slack_installations`` and ``slack_bots`` tables of Pairtime's migrations;
this wrapper seals every token field (and the incoming webhook URL, which
also lets its holder post) with ``storage.vault`` before saving and opens
them after reading, so a copy of the database gives away no token.
Found installations are kept for a short while, so a busy workspace does not
read and decrypt its installation on every request.
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Awaitable, Callable
from logging import Logger
from typing import TypeVar

import sqlalchemy
from cachetools import TTLCache
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.installation_store.models.bot import Bot
from slack_sdk.oauth.installation_store.models.installation import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import (
    AsyncSQLAlchemyInstallationStore,
    SQLAlchemyInstallationStore,
)
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore

from storage.crypto import SecretUnavailable, Vault
from storage.database import Database

log = logging.getLogger(__name__)

INSTALLATION_SECRETS = (
    "bot_token",
    "bot_refresh_token",
    "user_token",
    "user_refresh_token",
    "incoming_webhook_url",
)
BOT_SECRETS = ("bot_token", "bot_refresh_token")
OAUTH_STATE_SECONDS = 600
FOUND_MEMORY = 10_000  # installations and bots kept opened, the least recently used out first

FindKey = tuple[str, str | None, str | None, str | None, bool]
Stored = TypeVar("Stored", Installation, Bot)


class SealedInstallationStore(AsyncInstallationStore):
    def __init__(
        self,
        client_id: str,
        database: Database,
        vault: Vault,
        *,
        ttl_seconds: float = 30,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._inner = AsyncSQLAlchemyInstallationStore(
            client_id=client_id, engine=database.engine, logger=log
        )
        self._client_id = client_id
        self._database = database
        self._vault = vault
        self._found: TTLCache[FindKey, Installation | Bot] = TTLCache(
            FOUND_MEMORY, ttl_seconds, timer=clock
        )

    @property
    def logger(self) -> Logger:
        return log

    # ------------------------------------------------------------------ saving

    async def async_save(self, installation: Installation) -> None:
        await self._inner.async_save(self._seal(installation, INSTALLATION_SECRETS))
        self._found.clear()

    async def async_save_bot(self, bot: Bot) -> None:
        await self._inner.async_save_bot(self._seal(bot, BOT_SECRETS))
        self._found.clear()

    # ------------------------------------------------------------------ finding

    async def async_find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        key: FindKey = ("bot", enterprise_id, team_id, None, bool(is_enterprise_install))
        return await self._find(
            key,
            Bot,
            BOT_SECRETS,
            lambda: self._inner.async_find_bot(
                enterprise_id=enterprise_id,
                team_id=team_id,
                is_enterprise_install=is_enterprise_install,
            ),
        )

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        key: FindKey = (
            "installation",
            enterprise_id,
            team_id,
            user_id,
            bool(is_enterprise_install),
        )
        return await self._find(
            key,
            Installation,
            INSTALLATION_SECRETS,
            lambda: self._inner.async_find_installation(
                enterprise_id=enterprise_id,
                team_id=team_id,
                user_id=user_id,
                is_enterprise_install=is_enterprise_install,
            ),
        )

    async def find_bot_for_team(self, team_id: str) -> Bot | None:
        """The newest bot of a workspace, whether or not it belongs to an Enterprise Grid org
        (messages Pairtime sends first know the workspace only)."""
        bots = self._inner.bots
        query = (
            bots.select()
            .where(
                sqlalchemy.and_(
                    bots.c.client_id == self._client_id,
                    bots.c.team_id == team_id,
                    bots.c.bot_token.is_not(None),
                )
            )
            .order_by(sqlalchemy.desc(bots.c.installed_at))
            .limit(1)
        )
        async with self._database.engine.connect() as connection:
            row = (await connection.execute(query)).mappings().first()
        if row is None:
            return None
        return self._open(SQLAlchemyInstallationStore.build_bot_entity(row), BOT_SECRETS)

    # ------------------------------------------------------------------ deleting

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await self._inner.async_delete_bot(enterprise_id=enterprise_id, team_id=team_id)
        self._found.clear()

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        await self._inner.async_delete_installation(
            enterprise_id=enterprise_id, team_id=team_id, user_id=user_id
        )
        self._found.clear()

    # ------------------------------------------------------------------ sealing

    def _seal(self, item: Stored, fields: tuple[str, ...]) -> Stored:
        sealed = copy.copy(item)
        for name in fields:
            value = getattr(item, name, None)
            if value:
                setattr(sealed, name, self._vault.seal(value))
        return sealed

    def _open(self, item: Stored, fields: tuple[str, ...]) -> Stored | None:
        opened = copy.copy(item)
        try:
            for name in fields:
                value = getattr(item, name, None)
                if value:
                    setattr(opened, name, self._vault.open(value))
        except SecretUnavailable:
            # Logged without the value; the workspace must reinstall (or the key be restored).
            log.error(  # noqa: TRY400 - the traceback would add nothing but noise
                "a Slack installation of team %s cannot be opened with the configured keys",
                item.team_id,
            )
            return None
        return opened

    async def _find(
        self,
        key: FindKey,
        kind: type[Stored],
        fields: tuple[str, ...],
        find: Callable[[], Awaitable[Stored | None]],
    ) -> Stored | None:
        """What ``find()`` finds, opened, and kept for a while; what is kept when it can."""
        kept = self._found.get(key)
        if isinstance(kept, kind):
            return kept
        found = await find()
        opened = self._open(found, fields) if found is not None else None
        # Only what was found is kept: a workspace installing a moment later is seen at once.
        if opened is not None:
            self._found[key] = opened
        return opened


def oauth_state_store(database: Database) -> AsyncSQLAlchemyOAuthStateStore:
    """Single-use OAuth ``state`` values for /slack/install, in the same database."""
    return AsyncSQLAlchemyOAuthStateStore(
        expiration_seconds=OAUTH_STATE_SECONDS, engine=database.engine, logger=log
    )
