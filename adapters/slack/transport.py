"""Slack's :class:`~adapters.chat.Transport`: where one request's answers go.

A slash command answers through its response_url (ephemeral), a mention with an
ephemeral message, a direct message in the DM; a click replaces the clicked message
through its response_url when core says so. Private messages go to each person's DM,
updates of posted messages through the coalescer, a poll into its channel.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.chat import deliver
from adapters.slack import render, translate
from adapters.slack.messenger import (
    ConversationReply,
    JsonDict,
    Reply,
    ReplyFailed,
    SlackMessenger,
    slack_error,
)
from core.people import PersonId, ProgramId
from core.views import MessageUpdate, Notice, Outcome, Tone, View

log = logging.getLogger(__name__)

NOT_IN_CHANNEL = (
    "I can only post in a channel I'm a member of. Add me with `/invite @Pairtime`, then ask again."
)


class DirectReply:
    """Answers in the person's DM with the bot, opened when first needed."""

    def __init__(
        self, messenger: SlackMessenger, client: AsyncWebClient, team: str, user_id: str
    ) -> None:
        self._messenger = messenger
        self._client = client
        self._team = team
        self._user_id = user_id

    async def send(self, payload: JsonDict, *, replace: bool = False) -> None:
        del replace
        channel = await self._messenger.dm_channel(self._client, self._team, self._user_id)
        await ConversationReply(self._client, channel).send(payload)


class SlackTransport:
    """One conversation's answers in one workspace. Without ``reply`` (Pairtime speaking
    first) there is nowhere to answer: only private messages and updates go out."""

    def __init__(
        self,
        messenger: SlackMessenger,
        client: AsyncWebClient,
        program: ProgramId,
        *,
        team: str | None = None,
        user_id: str | None = None,
        reply: Reply | None = None,
        conversation: str | None = None,
    ) -> None:
        self._messenger = messenger
        self._client = client
        self._program = program
        self._reply = reply
        self._conversation = conversation
        self._dm = DirectReply(messenger, client, team, user_id) if team and user_id else None

    async def answer(self, view: View, *, replace: bool) -> None:
        if self._reply is None:
            log.info("an answer with no conversation to answer in; not sent")
            return
        await self._reply.send(render.message(view), replace=replace)

    async def direct(self, person: PersonId, view: View) -> None:
        await self._messenger.send_to(self._client, self._program, person, view)

    async def broadcast(self, view: View, channel: str | None) -> Mapping[str, str] | None:
        where = channel or self._conversation
        if where is None:
            log.warning("a message for everyone came without a channel; not posted")
            return None
        payload = render.message(view)
        try:
            posted = await self._client.chat_postMessage(
                channel=where, text=payload["text"], blocks=payload["blocks"]
            )
        except SlackApiError as error:
            if slack_error(error) not in {"not_in_channel", "channel_not_found"}:
                raise
            await self.answer(Notice(NOT_IN_CHANNEL, Tone.WARNING), replace=False)
            return None
        return {"channel": str(posted["channel"]), "ts": str(posted["ts"])}

    async def update(self, update: MessageUpdate) -> None:
        await self._messenger.update(self._client, update, translate.team_of(self._program))

    async def apologise(self) -> None:
        """Where the person spoke, else in their DM."""
        for where in (self._reply, self._dm):
            if where is None:
                continue
            try:
                await where.send(render.failure())
            except Exception as error:  # noqa: BLE001 - logged; the next way is tried
                log.warning("%s", self.describe(error) or "an apology could not be sent")
            else:
                return

    def describe(self, error: Exception) -> str | None:
        if isinstance(error, SlackApiError):
            return f"Slack refused a call: {slack_error(error)}"
        if isinstance(error, ReplyFailed):
            return f"Slack refused an answer: {error}"
        if isinstance(error, aiohttp.ClientError | TimeoutError):
            # Its type only: an error of the connection may name the URL, and a
            # response_url lets anyone who holds it answer for the person.
            return f"Slack could not be reached: {type(error).__name__}"
        return None


class SlackProactiveMessenger:
    """core's ``Messenger`` on Slack: what Pairtime says first (a calendar connected, a
    poll's reminder or its close), through the workspace's installation."""

    def __init__(self, messenger: SlackMessenger) -> None:
        self._messenger = messenger

    async def deliver(self, program: ProgramId, outcome: Outcome) -> bool:
        """Never raises: what was being done when Pairtime spoke (a calendar connection)
        stands, and a message that cannot be sent is logged; False when it may go if tried
        again."""
        if not outcome.direct and not outcome.updates:
            return True
        team = translate.team_of(program)
        try:
            client = await self._messenger.clients.for_team(team) if team else None
        except Exception:
            log.exception("no Slack client for %s", program)
            return False  # the database, most likely: later, it may answer
        if client is None:
            log.warning(
                "no Slack installation for %s: %d message(s) not sent", program, len(outcome.direct)
            )
            return True  # nothing to try again until someone installs the app
        return await deliver(outcome, SlackTransport(self._messenger, client, program))
