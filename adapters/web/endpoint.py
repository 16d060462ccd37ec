"""The playground's HTTP side: the page, its two static files, and a small JSON API.

    GET  /                                the page (``?as=USER&in=dm|CHANNEL`` picks who and where)
    GET  /playground/static/app.{css,js}  its style and script
    GET  /playground/api/messages         what changed since ``since``, rendered for ``person``
    POST /playground/api/say              {"person", "in", "text"}: a person says something
    POST /playground/api/act              {"person", "in", "message", "action", "value"?}: a click
    GET  /playground/api/inbox            ``person``'s emails (what the demo's SMTP server got)
    GET  /playground/api/mail             one of them (``id``), with its invitation
    POST /playground/api/mail             {"person", "id", "answer": "accept"|"decline"}
    GET  /playground/api/calendar         ``person``'s calendar, ``week`` = this|next

Nothing here decides anything: text and clicks go to the same ``Scheduler``
as Slack's and Teams', and what it answers is routed like a chat platform
would: replies where the person spoke (private to them in a channel, the
clicked message replaced when asked), direct messages to each person's own
conversation, broadcasts (polls) into the channel, updates in place.

There is no authentication, by design: ``bot.settings`` never enables the
playground in production. POSTs must be JSON, which a page on another site
cannot send here without a CORS preflight this server never grants.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web

from adapters.chat import ChatContext, ChatEndpoint, deliver
from adapters.web import conversations as talk
from adapters.web import desk as desk_html
from adapters.web.conversations import Conversations, Message
from adapters.web.inbox import Answer, DemoDesk
from adapters.web.page import DIRECT, page
from adapters.web.program import DEMO_PASSWORD, PROGRAM, identity
from adapters.web.render import Viewer, message, render, said
from core import logs
from core.people import CrowdedChannel, Person, PersonId, Platform, ProgramId, identity_in
from core.ports import ChannelMembers, Messenger
from core.scheduling import Context
from core.views import MessageUpdate, Notice, Outcome, Tone, View

log = logging.getLogger(__name__)

PAIRTIME = "Pairtime"
STATIC = Path(__file__).parent / "static"
STATIC_FILES = {"app.css", "app.js"}
LONGEST_TEXT = 1000
FAILURE = "Something went wrong on my side; please try again in a moment."
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


class Refused(Exception):
    """A request the API cannot serve; becomes a JSON error with ``status``."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Speaker:
    """Who acts on the page, and in which conversation."""

    ctx: Context
    user_id: str
    conversation: str

    @property
    def in_channel(self) -> bool:
        return not self.ctx.private


class WebTransport:
    """Shows an outcome on the page where a chat platform would: the answer where the
    person spoke (only to them in a channel, in place of the clicked message when asked),
    private messages in each person's own conversation, a poll into its channel, updates
    in place. Without a ``speaker`` (Pairtime speaking first), only private messages and
    updates."""

    def __init__(
        self,
        conversations: Conversations,
        chat: ChatContext,
        *,
        speaker: Speaker | None = None,
        clicked: Message | None = None,
    ) -> None:
        self._conversations = conversations
        self._chat = chat
        self._speaker = speaker
        self._clicked = clicked

    async def answer(self, view: View, *, replace: bool) -> None:
        speaker = self._speaker
        if speaker is None:
            log.info("an answer with no conversation to answer in; not shown")
            return
        if replace and self._clicked is not None:
            self._conversations.replace(self._clicked.conversation, self._clicked.id, view)
            return
        self._conversations.post(
            speaker.conversation,
            author=PAIRTIME,
            at=self._chat.clock.now(),
            view=view,
            only_for=speaker.user_id if speaker.in_channel else None,
        )

    async def direct(self, person: PersonId, view: View) -> None:
        found = identity_in(PROGRAM, await self._chat.ports.people.identities(person))
        if found is None:
            log.info("person %s has no playground identity; message not shown", person)
            return
        self._conversations.post(
            talk.direct(found.user_id), author=PAIRTIME, at=self._chat.clock.now(), view=view
        )

    async def broadcast(self, view: View, channel: str | None) -> Mapping[str, str] | None:
        """Into the channel core names (a circle's, for a poll asked for privately)."""
        if channel:
            place = talk.channel(channel)
        elif self._speaker is not None:
            place = self._speaker.conversation
        else:
            log.warning("a message for everyone with no conversation to post in; not shown")
            return None
        posted = self._conversations.post(
            place, author=PAIRTIME, at=self._chat.clock.now(), view=view
        )
        return {"conversation": place, "message": str(posted.id)}

    async def update(self, update: MessageUpdate) -> None:
        where = update.message.get("conversation", "")
        number = update.message.get("message", "")
        if number.isdigit():
            # A message from before a restart is gone: nothing to update then.
            self._conversations.replace(where, int(number), update.view)

    async def apologise(self) -> None:
        await self.answer(Notice(FAILURE, Tone.ERROR), replace=False)

    def describe(self, error: Exception) -> str | None:
        del error  # nothing on the page can refuse a message: any failure is unexpected
        return None


class WebMessenger:
    """Messages Pairtime sends first (a calendar connected, a poll closed), into the page."""

    def __init__(self, conversations: Conversations, chat: ChatContext) -> None:
        self._conversations = conversations
        self._chat = chat

    async def deliver(self, program: ProgramId, outcome: Outcome) -> bool:
        if program != PROGRAM:
            log.info(
                "the playground serves only %s; %d message(s) not shown",
                PROGRAM,
                len(outcome.direct),
            )
            return True
        return await deliver(outcome, WebTransport(self._conversations, self._chat))


class NoChannelMembers:
    """The playground lists no channel's members: each of its channels is a circle's, so a
    poll there invites the circle."""

    async def members(
        self, program: ProgramId, channel: str, *, limit: int
    ) -> Sequence[Person] | CrowdedChannel | None:
        del program, channel, limit
        return None


class WebPlayground:
    def __init__(self, chat: ChatContext, desk: DemoDesk | None = None) -> None:
        self._chat = chat
        self._desk = desk
        self._conversations = Conversations()
        self._messenger = WebMessenger(self._conversations, chat)
        self._channel_members = NoChannelMembers()
        self._requests = itertools.count(1)

    @property
    def messenger(self) -> Messenger:
        return self._messenger

    @property
    def desk(self) -> DemoDesk | None:
        """The demo people's inboxes and calendars, when the demo runs them."""
        return self._desk

    @property
    def channel_members(self) -> ChannelMembers:
        return self._channel_members

    async def close(self) -> None:
        """Nothing to release: the conversations live in memory and go with the process."""

    async def handle(self, request: web.Request) -> web.StreamResponse:
        path, method = request.path, request.method
        routes = {
            ("/", "GET"): self._page,
            ("/playground/api/messages", "GET"): self._messages,
            ("/playground/api/say", "POST"): self._say,
            ("/playground/api/act", "POST"): self._act,
            ("/playground/api/inbox", "GET"): self._inbox,
            ("/playground/api/mail", "GET"): self._mail,
            ("/playground/api/mail", "POST"): self._answer,
            ("/playground/api/calendar", "GET"): self._calendar,
        }
        if path == "/playground/":
            raise web.HTTPFound("/")
        if path.startswith("/playground/static/") and method in ("GET", "HEAD"):
            return self._static(path.removeprefix("/playground/static/"))
        route = routes.get((path, "GET" if method == "HEAD" else method))
        if route is None:
            known = {p for p, _ in routes}
            return _error(405 if path in known else 404, "Not here.")
        try:
            return await route(request)
        except Refused as refused:
            return _error(refused.status, refused.reason)

    # ------------------------------------------------------------ the page

    async def _page(self, request: web.Request) -> web.StreamResponse:
        roster = await self._chat.scheduler.roster(PROGRAM)
        text = page(
            roster,
            person=request.query.get("as"),
            place=request.query.get("in", DIRECT),
            password=DEMO_PASSWORD,
            desk=self._desk is not None,
        )
        return web.Response(text=text, content_type="text/html", headers=PAGE_HEADERS)

    def _static(self, name: str) -> web.StreamResponse:
        if name not in STATIC_FILES:
            return _error(404, "Not here.")
        return web.FileResponse(STATIC / name, headers={"Cache-Control": "no-cache"})

    # ------------------------------------------------------------ the API

    async def _messages(self, request: web.Request) -> web.StreamResponse:
        speaker = await self._speaker(request.query.get("person", ""), request.query.get("in", ""))
        try:
            since = max(int(request.query.get("since", "0")), 0)
        except ValueError:
            raise Refused(400, "since must be a number") from None
        places = [DIRECT, *await self._channels(speaker)]
        viewer = Viewer(speaker.ctx.zone, self._chat.base_url)
        # No await from here on: what is listed and the number returned belong together.
        changed = self._conversations.since(speaker.conversation, speaker.user_id, since)
        latest = {
            place: self._conversations.latest(
                _conversation(speaker.user_id, place), speaker.user_id
            )
            for place in places
        }
        return web.json_response(
            {
                "seq": self._conversations.seq,
                "messages": [
                    {"id": m.id, "html": self._html(m, viewer, speaker.in_channel)} for m in changed
                ],
                "latest": latest,
            },
            headers={"Cache-Control": "no-store"},
        )

    async def _say(self, request: web.Request) -> web.StreamResponse:
        with self._bound("say"):
            return await self._said(request)

    async def _said(self, request: web.Request) -> web.StreamResponse:
        body = await _json(request)
        speaker = await self._speaker(body.get("person"), body.get("in"))
        text = body.get("text")
        if not isinstance(text, str) or not text.strip():
            raise Refused(400, "Say something first.")
        if len(text) > LONGEST_TEXT:
            raise Refused(400, f"Keep it under {LONGEST_TEXT} characters.")
        self._conversations.post(
            speaker.conversation,
            author=speaker.ctx.person.name,
            at=self._chat.clock.now(),
            text=text.strip(),
        )
        try:
            outcome = await self._chat.scheduler.handle_text(speaker.ctx, text)
        except Exception:  # the page must get an answer; the text itself is never logged
            log.exception("the playground could not answer a message")
            outcome = Outcome(Notice(FAILURE, Tone.ERROR))
        await self._route(speaker, outcome, clicked=None)
        return web.json_response({"seq": self._conversations.seq})

    async def _act(self, request: web.Request) -> web.StreamResponse:
        with self._bound("act"):
            return await self._acted(request)

    def _bound(self, kind: str) -> AbstractContextManager[None]:
        """Log lines about one request to the page's API name it: ``say-12``, ``act-13``."""
        return logs.bound(
            platform=Platform.WEB.value, program=PROGRAM, event=f"{kind}-{next(self._requests)}"
        )

    async def _acted(self, request: web.Request) -> web.StreamResponse:
        body = await _json(request)
        speaker = await self._speaker(body.get("person"), body.get("in"))
        reference, value, number = body.get("action"), body.get("value"), body.get("message")
        if not isinstance(reference, str) or not reference:
            raise Refused(400, "A click needs its action.")
        if value is not None and not isinstance(value, str):
            raise Refused(400, "A field's value is text.")
        clicked = (
            self._conversations.get(speaker.conversation, number)
            if isinstance(number, int)
            else None
        )
        if clicked is not None and not clicked.visible_to(speaker.user_id):
            clicked = None
        try:
            outcome = await self._chat.scheduler.act(speaker.ctx, reference, value=value)
        except Exception:
            log.exception("the playground could not handle a click")
            outcome = Outcome(Notice(FAILURE, Tone.ERROR))
        await self._route(speaker, outcome, clicked=clicked)
        return web.json_response({"seq": self._conversations.seq})

    async def _route(self, speaker: Speaker, outcome: Outcome, *, clicked: Message | None) -> None:
        """Show ``outcome`` where a chat platform would."""
        transport = WebTransport(self._conversations, self._chat, speaker=speaker, clicked=clicked)
        await deliver(
            outcome,
            transport,
            speaker=speaker.ctx.person.id,
            posted=self._chat.scheduler.posted,
        )

    # ------------------------------------------------------------ inbox and calendar

    async def _owner(self, user_id: object) -> tuple[DemoDesk, Speaker, str]:
        """The desk, and the person whose inbox or calendar is asked for, with their email."""
        if self._desk is None:
            raise Refused(404, "The demo's inboxes and calendars are not running.")
        speaker = await self._speaker(user_id, DIRECT)
        address = speaker.ctx.person.email
        if not address:
            raise Refused(404, "This person has no email address.")
        return self._desk, speaker, address

    async def _inbox(self, request: web.Request) -> web.StreamResponse:
        desk, speaker, address = await self._owner(request.query.get("person"))
        items = await desk.inbox(address)
        shown = desk_html.inbox(
            items, name=speaker.ctx.person.name, zone=speaker.ctx.zone, local_mail=desk.local_mail
        )
        unread = sum(not item.seen for item in items)
        return _html(shown, unread=unread)

    async def _mail(self, request: web.Request) -> web.StreamResponse:
        desk, speaker, address = await self._owner(request.query.get("person"))
        return await self._opened(desk, speaker, address, request.query.get("id", ""))

    async def _answer(self, request: web.Request) -> web.StreamResponse:
        body = await _json(request)
        desk, speaker, address = await self._owner(body.get("person"))
        key, answer = body.get("id"), body.get("answer")
        if not isinstance(key, str) or answer not in ("accept", "decline"):
            raise Refused(400, "Say which email, and accept or decline.")
        chosen = Answer.ACCEPTED if answer == "accept" else Answer.DECLINED
        try:
            said = await desk.answer(address, key, chosen)
        except Exception:  # the CalDAV server's trouble: the page says so
            log.exception("the playground's mail client could not answer an invitation")
            said = "Your calendar could not be changed; please try again in a moment."
        return await self._opened(desk, speaker, address, key, said=said)

    async def _opened(
        self, desk: DemoDesk, speaker: Speaker, address: str, key: str, *, said: str = ""
    ) -> web.StreamResponse:
        opened = await desk.open(address, key) if key else None
        if opened is None:
            raise Refused(404, "There is no such email in this inbox.")
        shown = desk_html.opened(opened, name=speaker.ctx.person.name, zone=speaker.ctx.zone)
        return _html(shown, said=said)

    async def _calendar(self, request: web.Request) -> web.StreamResponse:
        desk, speaker, address = await self._owner(request.query.get("person"))
        which = request.query.get("week", "next")
        if which not in ("this", "next"):
            raise Refused(400, "week is this or next.")
        zone = speaker.ctx.zone
        today = self._chat.clock.now().astimezone(zone).date()
        monday = today - timedelta(days=today.weekday()) + timedelta(weeks=which == "next")
        start = datetime.combine(monday, datetime.min.time(), zone)
        try:
            entries = await desk.week(address, zone, start, start + timedelta(days=7))
        except Exception:
            log.exception("the playground could not read a demo calendar")
            raise Refused(502, "The demo calendar server did not answer.") from None
        shown = desk_html.week(
            entries, monday=monday, name=speaker.ctx.person.name, zone=zone, which=which
        )
        return _html(shown)

    async def _speaker(self, user_id: object, place: object) -> Speaker:
        if not isinstance(user_id, str) or not user_id:
            raise Refused(400, "Say who you are: person.")
        person = await self._chat.scheduler.identify(identity(user_id), None)
        if person is None:
            raise Refused(404, "There is no such person in the demo program.")
        if place in (None, "", DIRECT):
            ctx = await self._chat.scheduler.context(PROGRAM, person, identity(user_id))
            return Speaker(ctx, user_id, talk.direct(user_id))
        if (
            not isinstance(place, str)
            or await self._chat.ports.groups.by_channel(PROGRAM, place) is None
        ):
            raise Refused(404, "There is no such channel in the demo program.")
        ctx = await self._chat.scheduler.context(
            PROGRAM, person, identity(user_id), private=False, channel=place
        )
        return Speaker(ctx, user_id, talk.channel(place))

    async def _channels(self, speaker: Speaker) -> list[str]:
        groups = await self._chat.ports.groups.groups_of(PROGRAM, speaker.ctx.person.id)
        return [group.channel for group in groups if group.channel]

    def _html(self, shown: Message, viewer: Viewer, in_channel: bool) -> str:
        key = f"m{shown.id}"
        body = render(shown.view, viewer, key=key) if shown.view else said(shown.text or "")
        return message(
            key=key,
            author=shown.author,
            at=shown.at,
            body=body,
            viewer=viewer,
            from_pairtime=shown.view is not None,
            private=in_channel and shown.only_for is not None,
        )


def _conversation(user_id: str, place: str) -> str:
    return talk.direct(user_id) if place == DIRECT else talk.channel(place)


async def _json(request: web.Request) -> dict[str, Any]:
    if request.content_type != "application/json":
        raise Refused(415, "Send JSON.")
    try:
        body = await request.json()
    except ValueError:
        raise Refused(400, "Send JSON.") from None
    if not isinstance(body, dict):
        raise Refused(400, "Send a JSON object.")
    return body


def _html(shown: str, **extra: object) -> web.Response:
    return web.json_response({"html": shown, **extra}, headers={"Cache-Control": "no-store"})


def _error(status: int, reason: str) -> web.Response:
    return web.json_response({"error": reason}, status=status)


async def start_web(chat: ChatContext, desk: DemoDesk | None = None) -> ChatEndpoint:
    """The playground endpoint. ``bot.server`` starts it only when settings allow it
    (never in production: it lets anyone act as anyone). ``desk`` is the demo people's
    inboxes and calendars, shown beside the chat."""
    return WebPlayground(chat, desk)
