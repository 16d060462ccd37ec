"""Sending to Slack: direct messages, answers where someone spoke, coalesced updates.

Every Web API client retries after ``Retry-After`` when Slack answers 429
(``ratelimited``), and after connection errors (slack_sdk's retry handlers).
Updates of one message are coalesced: while one is on its way, later ones
wait and only the newest is sent. Slack error codes are logged; payloads and
tokens never are.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, Protocol

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncRateLimitErrorRetryHandler,
    async_default_handlers,
)
from slack_sdk.http_retry.request import HttpRequest as RetryHttpRequest
from slack_sdk.http_retry.response import HttpResponse as RetryHttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.internal_utils import get_user_agent

from adapters.chat import Inbox
from adapters.slack import render
from adapters.slack.config import SlackSettings
from adapters.slack.installations import SealedInstallationStore
from core.errors import ChatRefused
from core.jobs import Job, Json
from core.people import PersonId, ProgramId, identity_in
from core.ports import People
from core.views import Confirmation, MessageUpdate, View

log = logging.getLogger(__name__)

JsonDict = dict[str, Any]
RATE_LIMIT_RETRIES = 3
CARD_JOB = "slack.card"  # a posted message's newest render, to send
CARD_EVENT = "pairtime_card"  # the card's message metadata: {"version": n}
SENT_CARDS_KEPT = 10_000  # cards whose last version sent this process remembers


def retry_handlers() -> list[AsyncRetryHandler]:
    """Wait out ``Retry-After`` on 429 and retry; retry dropped connections too."""
    return [
        AsyncRateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES),
        *async_default_handlers(),
    ]


@functools.cache
def _webhook_retry_handlers() -> list[AsyncRetryHandler]:
    """The response_url posts' handlers, made once: they keep no state between requests
    (each request's is its own ``RetryState``), and every answer posts once."""
    return retry_handlers()


@functools.cache
def _webhook_headers() -> dict[str, str]:
    """slack_sdk's webhook headers, its User-Agent worked out once (it asks the platform
    module on every post otherwise)."""
    return {
        "Content-Type": "application/json;charset=utf-8",
        "User-Agent": str(get_user_agent()),
    }


def web_client(
    settings: SlackSettings, http: aiohttp.ClientSession, token: str | None = None
) -> AsyncWebClient:
    """A Web API client on the shared session; bolt's per-request clients copy its settings."""
    return AsyncWebClient(
        token=token,
        base_url=settings.api_url,
        session=http,
        retry_handlers=retry_handlers(),
        logger=library_logger("adapters.slack.web"),
    )


def library_logger(name: str) -> logging.Logger:
    """A logger for slack_sdk or bolt, held at INFO whatever the level above it.

    At DEBUG they log whole requests and answers: one-time connect links,
    response URLs, what people wrote. Pairtime's own DEBUG must not bring those.
    """
    logger = logging.getLogger(name)
    logger.setLevel(logging.INFO)
    return logger


@functools.cache
def slack_error(error: SlackApiError) -> str:
    """The error code Slack gave (``channel_not_found``), never the payload."""
    response = error.response
    code = response.get("error") if response is not None else None
    return str(code or "unknown")


NOT_SENT = "the sender stopped before this went out"


class Coalescer:
    """Per key, one send at a time; while it runs, only the newest next send is kept.

    Each :meth:`submit` returns once its send went out, or a newer one of its key in its
    place (the newer state replaces it anyway): only then may the caller record it as sent
    (``adapters.chat.Sent``). A refusal Slack explains is logged here (the message was
    deleted: an update of it is not worth an apology); anything else a send raises, the
    network failing included, is raised to those waiting on it, so that an answer that
    replaces the clicked message and never arrived goes to the person's DM instead.
    """

    def __init__(self) -> None:
        self._running: set[Hashable] = set()
        self._next: dict[Hashable, _Queued] = {}

    async def submit(self, key: Hashable, send: Callable[[], Awaitable[None]]) -> None:
        """Send now, or leave ``send`` to the running sender (replacing any older one) and
        wait until it, or a newer send of ``key``, went out."""
        if key in self._running:
            waiting = asyncio.get_running_loop().create_future()
            earlier = self._next.get(key)
            self._next[key] = _Queued(send, [*(earlier.waiting if earlier else ()), waiting])
            await waiting
            return
        self._running.add(key)
        failed: BaseException | None = None
        queued: _Queued | None = None
        try:
            failed = await self._send(send)
            while (queued := self._next.pop(key, None)) is not None:
                error = await self._send(queued.send)
                for waiting in queued.waiting:
                    if waiting.done():
                        continue
                    if error is None:
                        waiting.set_result(None)
                    else:
                        waiting.set_exception(error)
        finally:
            self._running.discard(key)
            left = self._next.pop(key, None)
            for stopped in (queued, left):  # the sender was cancelled: these never went out
                for waiting in stopped.waiting if stopped is not None else ():
                    if not waiting.done():
                        waiting.set_exception(ReplyFailed(NOT_SENT))
        if failed is not None:
            raise failed

    @staticmethod
    async def _send(send: Callable[[], Awaitable[None]]) -> Exception | None:
        """Send; what it raised, unless that was logged here."""
        try:
            await send()
        except SlackApiError as error:
            log.warning("a message update failed: %s", slack_error(error))
        except Exception as error:  # noqa: BLE001 - raised to whoever waits on this send
            return error
        return None


@dataclass
class _Queued:
    send: Callable[[], Awaitable[None]]
    waiting: list[asyncio.Future[None]]


class ReplyFailed(ChatRefused):
    """A response_url refused the answer (expired, or used too often)."""


class Reply(Protocol):
    """Where the person spoke: their answer goes back there."""

    async def send(self, payload: JsonDict, *, replace: bool = False) -> None: ...


class ResponseUrlReply:
    """Answers through a slash command's or a click's response_url (ephemeral by default).

    ``replace`` updates the clicked message in place; updates of one message
    (``key``) go through the coalescer.
    """

    def __init__(
        self,
        url: str,
        http: aiohttp.ClientSession,
        coalescer: Coalescer,
        *,
        key: Hashable | None = None,
    ) -> None:
        self._url = url
        self._http = http
        self._coalescer = coalescer
        self._key = key or url

    async def send(self, payload: JsonDict, *, replace: bool = False) -> None:
        if replace:
            body = {**payload, "replace_original": True}
            await self._coalescer.submit(self._key, lambda: self._post(body))
            return
        await self._post({**payload, "response_type": "ephemeral", "replace_original": False})

    async def _post(self, body: JsonDict) -> None:
        status = await post_json(self._http, self._url, body)
        if status >= 400:
            raise ReplyFailed(f"the response_url answered HTTP {status}")


async def post_json(http: aiohttp.ClientSession, url: str, body: JsonDict) -> int:
    """POST ``body`` to ``url`` as slack_sdk's webhook client does (top-level None values
    dropped, its headers, its retry handlers: ``Retry-After`` on 429, a dropped connection
    once) and answer the final HTTP status; raise what the last attempt raised.

    Every answer to a slash command or a click goes through here: the client built for each
    one, with its body walked for Block Kit objects and a response object built, cost more
    CPU than the HTTP request itself. Nothing is logged, as before (the URL answers for the
    person who asked).
    """
    data = json.dumps({key: value for key, value in body.items() if value is not None})
    headers = _webhook_headers()
    handlers = _webhook_retry_handlers()
    state = RetryState()
    for _ in range(100):  # as slack_sdk: a bound however the handlers answer
        state.next_attempt_requested = False
        response: RetryHttpResponse | None = None
        error: Exception | None = None
        try:
            async with http.post(url, data=data, headers=headers) as answer:
                text = await answer.text()
                if answer.status < 400:
                    return answer.status
                response = RetryHttpResponse(
                    status_code=answer.status,
                    headers=answer.headers,  # type: ignore[arg-type] # as slack_sdk passes it
                    data=text.encode(),
                )
        except Exception as failed:  # noqa: BLE001 - the retry handlers decide, as in slack_sdk
            error = failed
        sent: dict[str, str | list[str]] = dict(headers)
        request = RetryHttpRequest(method="POST", url=url, headers=sent, body_params=body)
        for handler in handlers:
            if await handler.can_retry_async(
                state=state, request=request, response=response, error=error
            ):
                await handler.prepare_for_next_attempt_async(
                    state=state, request=request, response=response, error=error
                )
                break
        if not state.next_attempt_requested:
            if error is not None:
                raise error
            assert response is not None
            return response.status_code
    raise ReplyFailed("the response_url was retried too often")


class EphemeralReply:
    """Only the requester sees it, in the channel where they mentioned the bot."""

    def __init__(
        self, client: AsyncWebClient, channel: str, user: str, thread_ts: str | None = None
    ) -> None:
        self._client = client
        self._channel = channel
        self._user = user
        self._thread_ts = thread_ts

    async def send(self, payload: JsonDict, *, replace: bool = False) -> None:
        del replace  # an ephemeral message cannot be edited through the Web API
        await self._client.chat_postEphemeral(
            channel=self._channel,
            user=self._user,
            text=payload["text"],
            blocks=payload["blocks"],
            thread_ts=self._thread_ts,
        )


class ConversationReply:
    """A message in a conversation (the person's DM with the bot)."""

    def __init__(self, client: AsyncWebClient, channel: str, thread_ts: str | None = None) -> None:
        self._client = client
        self._channel = channel
        self._thread_ts = thread_ts

    async def send(self, payload: JsonDict, *, replace: bool = False) -> None:
        del replace  # a new message; clicks update theirs through the response_url
        await self._client.chat_postMessage(
            channel=self._channel,
            text=payload["text"],
            blocks=payload["blocks"],
            thread_ts=self._thread_ts,
        )


class WorkspaceClients:
    """A Web API client for a workspace, for messages Pairtime sends first."""

    def __init__(
        self,
        settings: SlackSettings,
        http: aiohttp.ClientSession,
        *,
        single: AsyncWebClient | None,
        installations: SealedInstallationStore | None,
    ) -> None:
        self._settings = settings
        self._http = http
        self._single = single
        self._installations = installations

    async def for_team(self, team_id: str) -> AsyncWebClient | None:
        if self._single is not None:
            return self._single
        if self._installations is None:
            return None
        bot = await self._installations.find_bot_for_team(team_id)
        if bot is None or not bot.bot_token:
            return None
        return web_client(self._settings, self._http, bot.bot_token)


@dataclass
class _Pending:
    version: int
    card: Callable[[], Json]  # rendered once, when written
    kept: list[asyncio.Future[None]] = field(default_factory=list)


class CardWrites:
    """Each card's job written by group commit: renders that come while one is being written
    wait, and only the newest of them is written next, once for all. Each caller returns once
    a render of its version or a newer one is kept (so the request that drew it is complete
    only then, and one run again after a crash draws it again); under a burst of votes on
    one card that is one write for many, idle it is one write each, at once. A render is made
    only when it is written: one for the many votes a write carries."""

    def __init__(self, inbox: Inbox) -> None:
        self._inbox = inbox
        self._pending: dict[str, _Pending] = {}
        self._writers: dict[str, asyncio.Task[None]] = {}

    async def keep(self, key: str, card: Callable[[], Json], version: int) -> None:
        kept: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        pending = self._pending.get(key)
        if pending is None:
            pending = self._pending[key] = _Pending(version, card)
        elif version > pending.version:
            pending.version, pending.card = version, card
        pending.kept.append(kept)
        writer = self._writers.get(key)
        if writer is None or writer.done():
            self._writers[key] = asyncio.create_task(self._write(key))
        await kept

    async def _write(self, key: str) -> None:
        try:
            while (pending := self._pending.pop(key, None)) is not None:
                try:
                    card = pending.card()
                    await self._inbox.keep_newest(CARD_JOB, key, card, pending.version)
                except Exception as error:  # noqa: BLE001 - each caller raises it, as keep would
                    for kept in pending.kept:
                        if not kept.done():
                            kept.set_exception(error)
                    continue
                for kept in pending.kept:
                    if not kept.done():
                        kept.set_result(None)
        finally:
            self._writers.pop(key, None)


class SlackMessenger:
    """Writes to Slack outside any request's answer: private messages to people, through
    their DM with the bot, and updates of messages posted before, coalesced."""

    def __init__(
        self,
        people: People,
        clients: WorkspaceClients,
        coalescer: Coalescer,
        inbox: Inbox | None = None,
    ) -> None:
        self._people = people
        self.clients = clients
        self.coalescer = coalescer
        self._inbox = inbox
        self._cards = CardWrites(inbox) if inbox is not None else None
        self._dm_channels: dict[tuple[str, str], str] = {}
        self._sent: OrderedDict[tuple[str, str, str], int] = OrderedDict()  # card -> version

    async def update(self, client: AsyncWebClient, update: MessageUpdate, team: str | None) -> None:
        """Replace a message posted earlier (``{"channel", "ts"}``).

        A versioned update (a poll's card) is kept as the message's one card job with its
        version (see :meth:`adapters.chat.Inbox.keep`): an older render than one kept is
        dropped, a newer one replaces it, and one process at a time sends it, so the card
        never goes backwards, whichever process rendered what. Others are coalesced here.
        """
        channel, ts = update.message.get("channel"), update.message.get("ts")
        if not channel or not ts:
            log.warning("a message update names no Slack message; not sent")
            return
        if self._cards is not None and update.version > 0 and team:
            card = {"team": team, "channel": channel, "ts": ts, "version": update.version}
            view = update.view
            await self._cards.keep(
                f"{CARD_JOB}:{team}:{channel}:{ts}",
                lambda: card | render.message(view),
                update.version,
            )
            return
        payload = render.message(update.view)

        async def send() -> None:
            await client.chat_update(
                channel=channel, ts=ts, text=payload["text"], blocks=payload["blocks"]
            )

        await self.coalescer.submit(("message", channel, ts), send)

    async def send_card(self, job: Job) -> None:
        """The card job's handler: the render it holds, sent. A refusal Slack explains (the
        message was deleted) is logged and not retried; the network failing is."""
        card = job.payload
        key = (str(card["team"]), str(card["channel"]), str(card["ts"]))
        version = int(card["version"])
        if self._sent.get(key, 0) >= version:
            return  # this state went out already (renders of one state replace each other)
        client = await self.clients.for_team(key[0])
        if client is None:
            log.warning("no Slack installation for a card's workspace; update not sent")
            return
        try:
            await client.chat_update(
                channel=card["channel"],
                ts=card["ts"],
                text=card["text"],
                blocks=card["blocks"],
                # Which state the card shows, for anyone reading it back (and the tests).
                metadata={"event_type": CARD_EVENT, "event_payload": {"version": card["version"]}},
            )
        except SlackApiError as error:
            log.warning("a message update failed: %s", slack_error(error))
            return
        self._sent[key] = version
        self._sent.move_to_end(key)
        while len(self._sent) > SENT_CARDS_KEPT:
            self._sent.popitem(last=False)

    async def send_to(
        self, client: AsyncWebClient, program: ProgramId, person: PersonId, view: View
    ) -> None:
        identity = identity_in(program, await self._people.identities(person))
        if identity is None:
            log.info("person %s has no Slack identity in %s; message not sent", person, program)
            return
        channel = await self.dm_channel(client, identity.workspace, identity.user_id)
        await self.post(client, channel, view)

    async def dm_channel(self, client: AsyncWebClient, team_id: str, user_id: str) -> str:
        key = (team_id, user_id)
        channel = self._dm_channels.get(key)
        if channel is None:
            opened = await client.conversations_open(users=user_id)
            channel = str(opened["channel"]["id"])
            self._dm_channels[key] = channel
        return channel

    async def post(self, client: AsyncWebClient, channel: str, view: View) -> None:
        """Post ``view``; a confirmation's invitation follows as an .ics file."""
        payload = render.message(view)
        await client.chat_postMessage(
            channel=channel, text=payload["text"], blocks=payload["blocks"]
        )
        if isinstance(view, Confirmation) and view.invitation is not None:
            invitation = view.invitation
            await client.files_upload_v2(
                channel=channel,
                content=invitation.content,
                filename=invitation.filename,
                title=f"{'Cancellation' if view.cancelled else 'Invitation'}: {view.title}",
            )
