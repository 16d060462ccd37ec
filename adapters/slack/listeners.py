"""Bolt listeners: thin. Each keeps the request, acknowledges Slack, and later answers.

Slack wants every request answered within 3 seconds, never resends a click or a
command, and reading calendars can take longer. So each listener only keeps the
request in the durable inbox (one row, ``INBOX_JOB``) and acknowledges (the modal's
also checks the form, which is pure and fast). The row is stored leased to this
process, whose worker then does the listener's work, after the acknowledgement. Should
that fail, or the process die (its lease expires), the worker of some process claims
the row and dispatches it through bolt again, marked as kept (``KEPT`` in bolt's
context): the same listener then does the work. A click handled twice counts once
(core keys it by its trigger_id).
Not bolt's lazy listeners: bolt deep-copies each request for them, Web API client
included, and that client holds the process's shared aiohttp session, which cannot be
copied (``TypeError: cannot pickle '_contextvars.Context'``).

Where answers go: a slash command answers through its response_url,
ephemeral, unless it was typed in the DM with the bot; a mention in a
channel answers with an ephemeral message to the requester (a slot picker is
private to a pair); a direct message answers in the DM. A click replaces the
clicked message when core says so, else answers ephemerally. Core's direct
messages go to each person's DM. ``adapters.chat.deliver`` does the rest, through
:class:`~adapters.slack.transport.SlackTransport`. Any failure becomes a friendly
message, never silence or a traceback.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

import aiohttp
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_internals import build_async_context
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.chat import UNKEPT, ChatContext, Sent, deliver
from adapters.slack import render, translate
from adapters.slack.messenger import (
    CARD_JOB,
    ConversationReply,
    EphemeralReply,
    Reply,
    ResponseUrlReply,
    SlackMessenger,
    slack_error,
)
from adapters.slack.people import SlackPeople
from adapters.slack.transport import DirectReply, SlackTransport
from core import logs
from core.jobs import Job
from core.people import ChatIdentity, Platform, program_of
from core.scheduling import Context
from core.views import (
    Outcome,
)

log = logging.getLogger(__name__)

JsonDict = dict[str, Any]
Work = Callable[[Context], Awaitable[Outcome]]

INBOX_JOB = "slack.inbox"  # a request acknowledged to Slack, to process
KEPT = "pairtime_kept"  # in bolt's context: the request is the kept row being processed
SENT = "pairtime_sent"  # in bolt's context: what the row's earlier attempts sent (chat.Sent)
# Slack takes answers at a response_url for 30 minutes: a request kept longer ago than this
# (its process died, or a long backlog) answers in the person's DM instead.
RESPONSE_URL_LIFE = timedelta(minutes=25)


@dataclass(frozen=True, slots=True)
class Kept:
    """The inbox row a request came from: when it was kept, and which attempt this is."""

    at: datetime
    attempts: int


class SlackBot:
    def __init__(
        self,
        chat: ChatContext,
        people: SlackPeople,
        messenger: SlackMessenger,
    ) -> None:
        self.chat = chat
        self.people = people
        self.messenger = messenger
        self.coalescer = messenger.coalescer

    def register(self, app: AsyncApp) -> None:
        self._app = app
        self.chat.inbox.handle(INBOX_JOB, self.process)
        self.chat.inbox.handle(CARD_JOB, self.messenger.send_card)
        app.middleware(self.bind_logs)
        app.command(translate.COMMAND)(self.command)
        app.event("app_mention")(self.event)
        app.event("message", matchers=[self.is_direct_message])(self.event)
        # Other messages (edits, the bot's own files, other bots): acknowledged, nothing more.
        app.event("message")(self.acknowledge)
        app.event("app_home_opened")(self.event)
        app.action(re.compile(f"^{re.escape(translate.ACTION_PREFIX)}"))(self.click)
        app.shortcut(translate.FIND_TIME_CALLBACK)(self.shortcut)
        app.view(translate.FIND_TIME_CALLBACK)(self.form)
        app.error(self.on_error)

    # ------------------------------------------------------------------ acknowledging

    async def bind_logs(
        self, body: JsonDict, context: AsyncBoltContext, next_: Callable[[], Awaitable[None]]
    ) -> None:
        """Every log line of the request says what it is about. (Slack's resent events need
        nothing here: the inbox keeps one row per ``event_id``, so a resent one is
        acknowledged and dropped by the listener, in whichever process it arrives.)"""
        with self._bound(body, context):
            await next_()

    def _bound(self, body: JsonDict, context: AsyncBoltContext) -> AbstractContextManager[None]:
        """Log lines about this request name Slack, the workspace's program and the event
        (its ``event_id``, else the ``trigger_id`` of a command or a click)."""
        event = body.get("event_id") or body.get("trigger_id")
        return logs.bound(
            platform=Platform.SLACK.value,
            program=translate.program_for(_team(context, body)),
            event=str(event) if event else None,
        )

    async def _accept(
        self, body: JsonDict, context: AsyncBoltContext, work: Callable[[], Awaitable[None]]
    ) -> None:
        """Keep the request in the inbox (the acknowledgement goes out only after this
        returns); when it is the kept row being processed, do ``work`` now."""
        if KEPT in context:
            with self._bound(body, context):
                await work()
            return

        async def bound(sent: Sent) -> None:
            context[SENT] = sent
            with self._bound(body, context):
                await work()

        # One row per event_id or trigger_id, whichever process keeps it first: a replay of
        # a signed request within its five minutes (or an event Slack resent) is dropped.
        # This process works on the row itself (no second dispatch through bolt) unless its
        # worker is full; the row is there for another process should this one die.
        kept = await self.chat.inbox.keep(
            INBOX_JOB, _inbox_key(body), {"body": _kept(body)}, work=bound
        )
        if not kept:
            log.info("dropped a replayed Slack request (kept once already)")

    async def process(self, job: Job) -> None:
        """Run a kept request through bolt again (authorization resolves its workspace's
        client), its listener doing the work instead of keeping it."""
        body = job.payload.get("body")
        if not isinstance(body, dict):
            raise TypeError("an inbox row without its request")
        request = AsyncBoltRequest(body="", headers={"content-type": ["application/json"]})
        request.body = dict(body)
        kept = {KEPT: Kept(job.created_at, job.attempts), SENT: self.chat.inbox.sent(job)}
        request.context = build_async_context(AsyncBoltContext(kept), request.body)
        response = await self._app.async_dispatch(request)
        if response.status >= 500:
            log.warning("a kept Slack request could not be processed (%d)", response.status)

    def _sent(self, context: AsyncBoltContext) -> Sent:
        """What the request's inbox row sent before (nothing for a request never kept)."""
        sent = context.get(SENT)
        return cast("Sent", sent) if sent is not None else UNKEPT

    def _late(self, context: AsyncBoltContext) -> bool:
        """Whether this request was kept so long ago that its response_url may be gone."""
        kept = context.get(KEPT)
        return isinstance(kept, Kept) and self.chat.clock.now() - kept.at > RESPONSE_URL_LIFE

    async def acknowledge(self, ack: AsyncAck) -> None:
        await ack()

    async def is_direct_message(self, event: JsonDict) -> bool:
        return translate.is_direct_message(event)

    async def command(
        self, ack: AsyncAck, body: JsonDict, client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        await self._accept(body, context, lambda: self.on_command(body, client, context))
        await ack()

    async def event(
        self,
        ack: AsyncAck,
        body: JsonDict,
        event: JsonDict,
        client: AsyncWebClient,
        context: AsyncBoltContext,
    ) -> None:
        """A mention, a direct message (the only messages it is registered for) or the App
        Home opened."""
        match event.get("type"):
            case "app_mention":
                on = self.on_mention
            case "app_home_opened":
                on = self.on_home_opened
            case _:
                on = self.on_direct_message
        await self._accept(body, context, lambda: on(body, event, client, context))
        await ack()

    async def click(
        self, ack: AsyncAck, body: JsonDict, client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        await self._accept(body, context, lambda: self.on_click(body, client, context))
        await ack()

    async def shortcut(
        self, ack: AsyncAck, body: JsonDict, client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        await self._accept(body, context, lambda: self.on_shortcut(body, client, context))
        await ack()

    async def form(
        self,
        ack: AsyncAck,
        body: JsonDict,
        view: JsonDict,
        client: AsyncWebClient,
        context: AsyncBoltContext,
    ) -> None:
        """Slack shows these errors under the fields; a valid form closes and work begins."""
        if KEPT not in context:
            errors = self._form_errors(body, view)
            if errors:
                await ack(response_action="errors", errors=errors)
                return
        await self._accept(body, context, lambda: self.on_form(body, view, client, context))
        await ack()

    async def on_error(self, error: Exception, body: JsonDict) -> None:
        del body  # never logged: it may hold what people wrote
        if isinstance(error, SlackApiError):
            log.warning("Slack refused a call: %s", slack_error(error))
        else:
            log.error("a Slack request failed", exc_info=error)

    # ------------------------------------------------------------------ the work

    async def on_command(
        self, body: JsonDict, client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        command = translate.slash_command(body)
        team = _team(context, body)
        private = await self._in_bot_dm(client, team, command.user_id, command.channel_id)
        reply: Reply
        if private:
            reply = ConversationReply(client, command.channel_id)
        elif self._late(context):
            reply = DirectReply(self.messenger, client, team, command.user_id)
        elif command.response_url:
            reply = ResponseUrlReply(command.response_url, self.chat.http, self.coalescer)
        else:
            reply = EphemeralReply(client, command.channel_id, command.user_id)
        await self._serve_text(
            client, team, command.user_id, channel=command.channel_id, text=command.text,
            reply=reply, private=private, bot=context.bot_user_id, sent=self._sent(context),
        )  # fmt: skip

    async def on_mention(
        self, body: JsonDict, event: JsonDict, client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        said = translate.message(event)
        reply = EphemeralReply(client, said.channel_id, said.user_id, said.thread_ts)
        await self._serve_text(
            client, _team(context, body), said.user_id, channel=said.channel_id, text=said.text,
            reply=reply, private=False, bot=context.bot_user_id, sent=self._sent(context),
        )  # fmt: skip

    async def on_direct_message(
        self, body: JsonDict, event: JsonDict, client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        said = translate.message(event)
        reply = ConversationReply(client, said.channel_id, said.thread_ts)
        await self._serve_text(
            client, _team(context, body), said.user_id, channel=said.channel_id, text=said.text,
            reply=reply, private=True, bot=context.bot_user_id, sent=self._sent(context),
        )  # fmt: skip

    async def on_home_opened(
        self, body: JsonDict, event: JsonDict, client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        if event.get("tab") != "home":
            return
        try:
            ctx = await self._context(
                client, _team(context, body), str(event["user"]), private=True
            )
            await self.publish_home(client, ctx)
        except Exception as error:  # noqa: BLE001 - logged; the tab keeps its last view
            _log_failure(error)

    async def on_click(
        self, body: JsonDict, client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        clicked = translate.click(body)
        if clicked is None or clicked.action_id.startswith(translate.LINK_ACTION):
            return  # a link button: the browser opened it, nothing to do here
        team = _team(context, body)
        if clicked.action_id.startswith(translate.HOME_FIND):
            await self._open_form(client, team, clicked.user_id, clicked.trigger_id, clicked.value)
            return
        private = clicked.in_view or (clicked.channel_id or "").startswith("D")
        reply: Reply
        if clicked.in_view or self._late(context):  # App Home, or too late to answer there
            reply = DirectReply(self.messenger, client, team, clicked.user_id)
        elif clicked.response_url:
            reply = ResponseUrlReply(
                clicked.response_url,
                self.chat.http,
                self.coalescer,
                key=(team, clicked.channel_id, clicked.message_ts),
            )
        else:
            reply = EphemeralReply(client, clicked.channel_id or "", clicked.user_id)

        scheduler = self.chat.scheduler

        async def work(ctx: Context) -> Outcome:
            if clicked.action_id == translate.HOME_CONNECT:
                return await scheduler.connect(ctx, None)
            if clicked.action_id == translate.HOME_CONSOLE:
                return await scheduler.admin_console(ctx)
            reference = clicked.reference
            if reference is None:
                return scheduler.help()
            picked = clicked.picked
            value = translate.local_value(picked, ctx.zone) if picked is not None else clicked.typed
            return await scheduler.act(ctx, reference, value=value)

        ctx = await self._serve(
            client,
            team,
            clicked.user_id,
            reply,
            private=private,
            conversation=None if clicked.in_view else clicked.channel_id,
            work=work,
            clicked=(clicked.sent_at, clicked.trigger_id),
            sent=self._sent(context),
        )
        if clicked.in_view and ctx is not None:
            await self.publish_home(client, ctx)

    async def on_shortcut(
        self, body: JsonDict, client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        trigger = body.get("trigger_id")
        await self._open_form(client, _team(context, body), translate.user_of(body), trigger, None)

    async def on_form(
        self, body: JsonDict, view: JsonDict, client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        team = _team(context, body)
        user = translate.user_of(body)
        form = translate.find_time_form(view.get("state", {}).get("values", {}))
        zone = translate.modal_zone(view.get("private_metadata", ""))
        command = translate.find_time_command(
            form, submitter=user, zone=zone, now=self.chat.clock.now()
        )
        await self._serve(
            client,
            team,
            user,
            DirectReply(self.messenger, client, team, user),
            private=True,
            conversation=None,
            mentions=list(form.people),
            work=lambda ctx: self.chat.scheduler.handle(ctx, command),
            sent=self._sent(context),
        )

    # ------------------------------------------------------------------ shared

    async def _serve_text(
        self,
        client: AsyncWebClient,
        team: str,
        user_id: str,
        *,
        channel: str,
        text: str,
        reply: Reply,
        private: bool,
        bot: str | None,
        sent: Sent,
    ) -> None:
        """What a person wrote in ``channel`` (a command, a mention, a direct message)."""
        await self._serve(
            client,
            team,
            user_id,
            reply,
            private=private,
            conversation=channel,
            mentions=translate.mentioned_users(text, bot_user_id=bot),
            work=lambda ctx: self.chat.scheduler.handle_text(ctx, text, bot_user_id=bot),
            sent=sent,
        )

    async def _serve(
        self,
        client: AsyncWebClient,
        team: str,
        user_id: str,
        reply: Reply,
        *,
        private: bool,
        conversation: str | None,
        work: Work,
        mentions: Sequence[str] = (),
        clicked: tuple[datetime | None, str | None] = (None, None),
        sent: Sent = UNKEPT,
    ) -> Context | None:
        """Resolve the speaker, do ``work``, deliver what core decided; on any failure,
        apologise.

        ``conversation`` is the channel spoken in: where a broadcast (a poll) is posted;
        ``clicked`` is when Slack says the person acted, and the interaction's id; ``sent``
        what earlier attempts of the request's inbox row sent.
        """
        transport = SlackTransport(
            self.messenger,
            client,
            translate.program_for(team),
            team=team,
            user_id=user_id,
            reply=reply,
            conversation=conversation,
        )
        try:
            if mentions:
                # People mentioned become known to Pairtime (name, email, zone) before core
                # looks them up.
                await self.people.many(client, team, [m for m in mentions if m != user_id])
            ctx = await self._context(
                client, team, user_id, private=private, channel=conversation, clicked=clicked
            )
            outcome = await work(ctx)
        except Exception as error:  # noqa: BLE001 - logged, and the person is told
            _log_failure(error)
            await transport.apologise()
            return None
        await deliver(
            outcome,
            transport,
            speaker=ctx.person.id,
            posted=self.chat.scheduler.posted,
            sent=sent,
        )
        return ctx

    async def _context(
        self,
        client: AsyncWebClient,
        team: str,
        user_id: str,
        *,
        private: bool,
        channel: str | None = None,
        clicked: tuple[datetime | None, str | None] = (None, None),
    ) -> Context:
        person = await self.people.speaker(client, team, user_id)
        identity = ChatIdentity(Platform.SLACK, team, user_id)
        return await self.chat.scheduler.context(
            program_of(identity),
            person,
            identity,
            private=private,
            channel=None if private else channel,
            sent_at=clicked[0],
            event_id=clicked[1],
        )

    async def _in_bot_dm(
        self, client: AsyncWebClient, team: str, user_id: str, channel_id: str
    ) -> bool:
        if not channel_id.startswith("D"):
            return False
        try:
            return await self.messenger.dm_channel(client, team, user_id) == channel_id
        except SlackApiError as error:
            log.warning("conversations.open failed: %s", slack_error(error))
            return False

    def _form_errors(self, body: JsonDict, view: JsonDict) -> dict[str, str]:
        form = translate.find_time_form(view.get("state", {}).get("values", {}))
        zone = translate.modal_zone(view.get("private_metadata", ""))
        today = self.chat.clock.now().astimezone(zone).date()
        return translate.form_errors(form, submitter=translate.user_of(body), today=today)

    async def _open_form(
        self,
        client: AsyncWebClient,
        team: str,
        user_id: str,
        trigger_id: str | None,
        partner: str | None,
    ) -> None:
        try:
            ctx = await self._context(client, team, user_id, private=True)
            settings = await self.chat.ports.programs.settings(ctx.program)
            modal = render.find_time_modal(
                zone=ctx.zone,
                today=self.chat.clock.now().astimezone(ctx.zone).date(),
                default_duration=settings.default_duration_minutes,
                people=[partner] if partner else [],
            )
            await client.views_open(trigger_id=trigger_id, view=modal)
        except Exception as error:  # noqa: BLE001 - logged, and the person is told
            _log_failure(error)
            await SlackTransport(
                self.messenger, client, translate.program_for(team), team=team, user_id=user_id
            ).apologise()

    async def publish_home(self, client: AsyncWebClient, ctx: Context) -> None:
        view = render.home(await self.chat.scheduler.home(ctx))
        user_id = ctx.identity.user_id

        async def publish() -> None:
            await client.views_publish(user_id=user_id, view=view)

        # Several refreshes of one person's tab in a row: only the newest is sent. The
        # network failing leaves the tab at its last view until it is opened again.
        try:
            await self.coalescer.submit(("home", ctx.identity.workspace, user_id), publish)
        except (aiohttp.ClientError, TimeoutError) as error:
            log.warning("the Home tab was not refreshed: %s", type(error).__name__)


def _team(context: AsyncBoltContext, body: JsonDict) -> str:
    """The workspace the app is installed in (the program), as bolt resolved it."""
    team = context.team_id or context.enterprise_id
    if not team:
        team = body.get("team_id") or (body.get("team") or {}).get("id")
    return str(team or "")


def _log_failure(error: Exception) -> None:
    if isinstance(error, SlackApiError):
        log.warning("Slack refused a call: %s", slack_error(error))
    else:
        log.error("a Slack request failed", exc_info=error)


def _inbox_key(body: JsonDict) -> str:
    """What names the request once: an event's ``event_id``, a command's or an
    interaction's ``trigger_id`` (both checked unseen before the listener runs)."""
    named = body.get("event_id") or body.get("trigger_id")
    return f"{INBOX_JOB}:{named}" if named else f"{INBOX_JOB}:{secrets.token_hex(12)}"


# What is kept of the message a click came from: Slack repeats the whole message in each
# click (a poll's card: every block), and only these are read (by bolt: its thread).
_CLICKED_MESSAGE = ("type", "ts", "thread_ts", "user", "bot_id")


def _kept(body: JsonDict) -> JsonDict:
    """The request as kept: without Slack's deprecated verification token, and a click's
    message without its blocks (every vote on a poll would store the whole card again)."""
    kept = {name: value for name, value in body.items() if name != "token"}
    message = kept.get("message")
    if kept.get("type") == "block_actions" and isinstance(message, dict):
        kept["message"] = {name: message[name] for name in _CLICKED_MESSAGE if name in message}
    return kept
