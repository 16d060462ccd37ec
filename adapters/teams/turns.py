"""What Pairtime does with each Teams activity: who is speaking, what they asked, what to
send back. No botbuilder type appears here: activities arrive parsed (``translate``), views
leave as cards (``cards``), outcomes are delivered by ``adapters.chat.deliver`` through a
:class:`~adapters.teams.transport.TeamsTransport`, and the
:class:`~adapters.teams.messenger.Outbox` does the I/O.

Teams wants an HTTP answer fast and resends what it does not get answered, so messages are
kept as a row (the durable inbox, ``INBOX_JOB``) that this process holds (see
:meth:`adapters.chat.Inbox.hold`), acknowledged at once and handled in a background task,
which completes the row when done; a row left by a process that died is handled by another
once its lease runs out, within seconds (``bot.worker.LEASE``), its answers sent as
messages, and none that the dead process sent already. A card
click (``adaptiveCard/action``) is answered with the updated card when it is ready within
the invoke budget (``timing.InvokeBudget``), and otherwise with a "Working on it…" card
that the finished answer then replaces.

Shared conversations (team channels, group chats) have no message only one person sees, so:
a poll's draft goes to the organiser's personal chat, and so do connect links; a click on a
card everyone shares is answered with a short text only the clicker sees (the invoke's
message response: a vote's receipt, with the voter's own calendar clashes), never by
replacing that card for them. Clicks on one shared card are counted one at a time, each
ending its turn once counted; the card is then drawn once for the clicks counted meanwhile
(``core.scheduling.recent``), and kept as the card's job with the poll's version, so the
newest update shows the exact tally whatever order the drawings end in. A poll is posted into
the channel core names, through the reference kept for it (``channel:{id}``) when the bot
last heard from that channel.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator, Awaitable, Coroutine
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from typing import Any

from adapters.chat import BackgroundWork, ChatContext, Deduplicator, Held, Sent, deliver
from adapters.flight import InFlight
from adapters.teams import cards, translate
from adapters.teams.members import TeamsChannelMembers
from adapters.teams.messenger import DeliveryFailed, Outbox, TeamsMessenger
from adapters.teams.timing import TeamsTiming, Timer
from adapters.teams.translate import Account, Click, Incoming, JsonDict
from adapters.teams.transport import POSTED_ELSEWHERE, Conversation, LateTransport, TeamsTransport
from core import logs
from core.jobs import Job
from core.people import ChatIdentity, Person, Platform
from core.scheduling import Context
from core.scheduling.recent import taking_turns
from core.views import ConnectPrompt, DirectMessage, Notice, Outcome, PollDraftView

log = logging.getLogger(__name__)

# Messages handled at once. More would only queue on the database (SQLite takes one writer
# at a time, and its busy handler sleeps), and on the calendar services' rate limits.
CONCURRENT_MESSAGES = 8
ROSTER_TTL = 3600.0  # seconds a roster lookup (email, AAD id) is trusted
PEOPLE_TTL = 60.0  # seconds a speaker's stored profile is reused without reading it again
DRAFT_SENT = (
    "I've sent you the draft poll in our personal chat: change it there if you like, then post "
    "it, and it will appear here for everyone."
)
LINKS_SENT = "I've sent you a private message with the links to connect your calendar."
COUNTING = "Got it. The card will show it in a moment."  # see timing.InvokeBudget
INBOX_JOB = "teams.inbox"  # an activity acknowledged to Teams, in case its process dies
ANSWER = "answer"  # what adapters.chat.deliver records an answer as
NOTHING_TICKED = "Tick the people to make required (or no longer required) first."


class Turns:
    def __init__(
        self,
        chat: ChatContext,
        outbox: Outbox,
        messenger: TeamsMessenger,
        *,
        channel_members: TeamsChannelMembers | None = None,
        timing: TeamsTiming | None = None,
        concurrency: int = CONCURRENT_MESSAGES,
    ) -> None:
        timing = timing or TeamsTiming()
        self._chat = chat
        self._channel_members = channel_members
        self._outbox = outbox
        self._messenger = messenger
        self._timer = timing.timer
        self._budget = timing.budget
        self._work = BackgroundWork("Teams", limit=concurrency)
        self._seen = Deduplicator(chat.events, chat.clock)
        self._roster: dict[tuple[str, str], tuple[float, JsonDict | None]] = {}
        self._people: dict[tuple[str, str], tuple[float, Person]] = {}
        # Lookups under way, shared by who asks meanwhile.
        self._remembering: InFlight[tuple[str, str, str | None, str | None], Person]
        self._remembering = InFlight()
        self._addresses: dict[tuple[str, str], tuple[str, str]] = {}
        self._channels: dict[tuple[str, str], tuple[str, str]] = {}
        self._cards: dict[CardKey, _CardQueue] = {}
        # Seconds a click on that card takes lately: in its turn, then until its card is kept.
        self._pace: dict[CardKey, tuple[float, float]] = {}
        self._turns: dict[int, _Turn] = {}  # by the clicked activity's id(): its turn
        chat.inbox.handle(INBOX_JOB, self.process)

    # ------------------------------------------------------------------ entry points

    async def message(self, incoming: Incoming) -> None:
        """A message: kept, acknowledged at once, answered from a background task."""
        with _bound(incoming):
            row = await self._hold(incoming)
            self._spawn(self._then_done(row, self._message(incoming, row.sent)), incoming)

    async def installed(self, incoming: Incoming) -> None:
        """The bot was added to a personal scope, a team or a group chat: say hello."""
        with _bound(incoming):
            row = await self._hold(incoming)
            self._spawn(self._then_done(row, self._installed(incoming)), incoming)

    async def process(self, job: Job) -> None:
        """A kept activity whose process died before it was done (its lease ran out):
        handled now, in whichever process claimed it, without what that process sent. The
        turn Teams waited on is over, so a click's answer goes out as messages, as a late
        click's does."""
        tenant = job.payload.get("tenant")
        incoming = translate.parse_activity(
            job.payload.get("body"), default_tenant=tenant if isinstance(tenant, str) else None
        )
        sent = self._chat.inbox.sent(job)
        with _bound(incoming):
            click = translate.click_of(incoming) if incoming.name == translate.CARD_ACTION else None
            if click is not None:
                work = asyncio.ensure_future(self._click(incoming, click))
                await self._finish_late(incoming, work, sent)
            elif incoming.installs_bot:
                await self._installed(incoming, kept=True)
            else:
                await self._message(incoming, sent, kept=True)

    async def _hold(self, incoming: Incoming) -> Held:
        """The activity as a row before Teams gets its answer, held by this process: if it
        dies before the row is done, another process handles it (``process``)."""
        named = incoming.id or secrets.token_hex(12)
        key = f"{INBOX_JOB}:{incoming.tenant}:{named}"[:300]
        payload = {"body": incoming.raw, "tenant": incoming.tenant}
        return await self._chat.inbox.hold(INBOX_JOB, key, payload)

    async def _then_done(self, row: Held, work: Awaitable[None]) -> None:
        """Do ``work``, then complete its row (not when cancelled at shutdown: then the row
        is handed back, and handled again elsewhere)."""
        await work
        await row.done()

    async def card_action(self, incoming: Incoming) -> JsonDict:
        """A click on an ``Action.Execute`` button: the invoke response's body."""
        with _bound(incoming):
            return await self._card_action(incoming)

    async def _card_action(self, incoming: Incoming) -> JsonDict:
        click = translate.click_of(incoming)
        if click is None:
            return translate.message_response("That button isn't one of mine.")
        # A resent click runs again (core books once, whichever copy gets there first); its
        # private messages are sent once per activity and person (see TeamsTransport).
        # Whoever awaits the work reports its failure: the answer below, or _finish_late.
        row = await self._hold(incoming)
        work = self._work.spawn(self._click(incoming, click), limited=False, on_error=_awaited)
        if not await self._answered_in_time(incoming, work):
            self._spawn(
                self._then_done(row, self._finish_late(incoming, work, row.sent)),
                incoming,
                limited=False,
            )
            if not incoming.private:
                # Everyone shares this card: it stays as it is (its update is on its way),
                # and what only the clicker should see goes to their personal chat.
                return translate.message_response(COUNTING)
            # Teams stops waiting at about 5 s: show progress, replace it when done.
            return translate.card_response(cards.working())
        try:
            ctx, outcome = work.result()
        except Exception as error:  # noqa: BLE001 - any failure becomes a friendly answer
            _log_failure(incoming, error)
            await row.done()
            return translate.message_response(cards.FRIENDLY_ERROR)
        body, rest = self._invoke_body(incoming, outcome)
        if not rest.effects():  # a vote: its card update is kept already
            await row.done()
            return body
        if rest.reply is None:
            # The answer is the invoke response's body: recorded as sent before it goes,
            # since nothing here learns whether Teams got it.
            await row.sent.record(ANSWER)
        self._spawn(
            self._then_done(row, self._delivered(ctx, rest, self._transport(incoming), row.sent)),
            incoming,
            limited=False,
        )
        return body

    async def idle(self) -> None:
        """Return once every acknowledged activity has been worked on (tests, benchmarks)."""
        await self._work.idle()

    async def close(self, grace: float = 5.0) -> None:
        """Let running work finish for ``grace`` seconds, then cancel the rest."""
        await self._work.close(grace)

    # ------------------------------------------------------------------ messages

    async def _message(self, incoming: Incoming, sent: Sent, *, kept: bool = False) -> None:
        if not kept and not await self._first_time(incoming):
            log.info("activity %s seen before; ignored", incoming.id)
            return
        click = translate.click_of(incoming)
        # An Action.Submit (the fallback of our Action.Execute) answers in place of its card.
        transport = self._transport(incoming, replace_id=incoming.reply_to_id if click else None)
        try:
            ctx = await self._context(incoming)
            if click is not None:
                outcome = await self._counted(incoming, ctx, click)
            else:
                resolved = await self._mentioned(incoming)
                text = translate.command_text(incoming, resolved)
                outcome = self._placed(
                    incoming, ctx, await self._chat.scheduler.handle_text(ctx, text)
                )
        except Exception as error:  # noqa: BLE001 - any failure becomes a friendly message
            _log_failure(incoming, error)
            await _quietly(incoming, transport.apologise())
            return
        await self._delivered(ctx, outcome, transport, sent)

    async def _installed(self, incoming: Incoming, *, kept: bool = False) -> None:
        if not kept and not await self._first_time(incoming):
            return
        try:
            ctx = await self._context(incoming)
            prompt: ConnectPrompt | Notice | None = None
            if incoming.private:
                reply = (await self._chat.scheduler.connect(ctx, None)).reply
                prompt = reply if isinstance(reply, ConnectPrompt | Notice) else None
            admin = incoming.private and await self._chat.scheduler.may_open_console(ctx)
            card = cards.welcome(prompt, self._options(incoming), admin=admin)
            reference = translate.conversation_reference(incoming) | {"activityId": None}
            await self._outbox.post(
                reference, translate.message_activity(card, cards.WELCOME_LINES[0])
            )
        except Exception as error:  # noqa: BLE001 - a failed welcome must not break the install
            _log_failure(incoming, error)

    # ------------------------------------------------------------------ clicks

    async def _click(self, incoming: Incoming, click: Click) -> tuple[Context, Outcome]:
        ctx = await self._context(incoming)
        return ctx, await self._counted(incoming, ctx, click)

    async def _counted(self, incoming: Incoming, ctx: Context, click: Click) -> Outcome:
        """The click's outcome, its card updates already queued (and so left out of it).

        Clicks on one shared card take turns to be counted; the card's drawing that follows
        is shared with the clicks counted meanwhile (the turn ends as it is asked for). Its
        job keeps the newest version, so the newest update is the exact tally.
        """
        key = _shared_card(incoming)
        if key is None:
            outcome = await self._outcome(ctx, click)
            await self._messenger.apply(outcome.updates)
        else:
            async with self._card_turn(key) as turn:
                self._turns[id(incoming)] = turn  # see _answered_in_time
                try:
                    # The turn ends once the vote is counted, when its card's drawing is
                    # asked for: the next clicks are counted meanwhile and share it.
                    with taking_turns(turn.end):
                        outcome = await self._outcome(ctx, click)
                    turn.end()
                    # Out of turn: the card's job keeps the newest version, whatever the order.
                    await self._messenger.apply(outcome.updates)
                finally:
                    self._turns.pop(id(incoming), None)
        return self._placed(incoming, ctx, replace(outcome, updates=()))

    async def _outcome(self, ctx: Context, click: Click) -> Outcome:
        scheduler = self._chat.scheduler
        toggled: Outcome | None = None
        for reference in click.toggles:  # a draft's ticked required attendees, first
            toggled = await scheduler.act(ctx, reference)
        if click.reference is not None:
            return await scheduler.act(ctx, click.reference, value=click.value)
        if click.apply:
            return toggled or Outcome(Notice(NOTHING_TICKED))
        return await scheduler.handle_text(ctx, click.say or "help")

    @contextlib.asynccontextmanager
    async def _card_turn(self, key: CardKey) -> AsyncIterator[_Turn]:
        """A click's turn on a shared card, then (its turn ended) the wait for its card;
        how long each took goes into the card's pace."""
        queue = self._cards.setdefault(key, _CardQueue())
        turn = _Turn(queue, self._timer)
        queue.counting += 1
        try:
            await queue.lock.acquire()
            turn.started = self._timer.now()
            yield turn
            turn.end()
            counted, drawn = self._pace.get(key, (self._budget.pace, 0.0))
            took = turn.took()
            self._pace[key] = (0.8 * counted + 0.2 * took[0], 0.8 * drawn + 0.2 * took[1])
        finally:
            turn.leave()
            if not queue.counting and not queue.drawing:
                del self._cards[key]
            if len(self._pace) > 10_000:
                self._pace = {k: v for k, v in self._pace.items() if k in self._cards}

    async def _answered_in_time(self, incoming: Incoming, work: asyncio.Future[Any]) -> bool:
        """Wait for ``work`` while Teams waits for the invoke's answer; on a shared card, only
        while the clicks queued there leave time for a quick answer."""
        key = _shared_card(incoming)
        deadline = self._timer.now() + self._budget.seconds
        while (left := deadline - self._timer.now()) > 0:
            if key is not None and (self._busy(key) or self._drawn_late(incoming)):
                return False
            step = left if key is None else min(left, self._budget.check)
            done, _ = await asyncio.wait({work}, timeout=step)
            if done:
                return True
        return work.done()

    def _drawn_late(self, incoming: Incoming) -> bool:
        """Whether this click, counted, has waited for its card's drawing longer than a quick
        answer allows (a drawing waits up to a quarter second for the clicks to share it)."""
        turn = self._turns.get(id(incoming))
        ended = turn.ended if turn is not None else None
        return ended is not None and self._timer.now() - ended >= self._budget.quick

    def _busy(self, key: CardKey) -> bool:
        """Whether the clicks queued on this shared card, and the drawing of the card that
        clicks already counted wait for, will take longer than a quick answer allows (then
        the clicker gets COUNTING at once, and the receipt later)."""
        queue = self._cards.get(key)
        counted, drawn = self._pace.get(key, (self._budget.pace, 0.0))
        wait = 0.0 if queue is None else queue.counting * counted + bool(queue.drawing) * drawn
        # At or beyond: with no quick answer allowed at all, no click waits for its turn.
        return wait >= self._budget.quick

    def _placed(self, incoming: Incoming, ctx: Context, outcome: Outcome) -> Outcome:
        """What only the speaker may see goes to their personal chat when they spoke in a
        shared conversation: a poll's draft (anyone could press its buttons), connect links."""
        view = outcome.reply
        if incoming.private or view is None:
            return outcome
        if isinstance(view, PollDraftView):
            note = DRAFT_SENT
        elif isinstance(view, ConnectPrompt):
            note = LINKS_SENT
        else:
            return outcome
        return replace(
            outcome,
            reply=Notice(note),
            replaces_original=False,
            direct=(DirectMessage(ctx.person.id, view), *outcome.direct),
        )

    def _invoke_body(self, incoming: Incoming, outcome: Outcome) -> tuple[JsonDict, Outcome]:
        """The answer to a click Teams is still waiting for, as the invoke response, and the
        rest of ``outcome``, to deliver after it."""
        view = outcome.reply
        rest = replace(outcome, reply=None)
        if view is None:
            return translate.message_response("Done."), rest
        if outcome.replaces_original:
            return translate.card_response(cards.render(view, self._options(incoming))), rest
        if isinstance(view, Notice) and not view.buttons:
            return translate.message_response(view.text), rest
        # A new view with buttons of its own: a message of its own, the clicked card stays.
        return translate.message_response(POSTED_ELSEWHERE), outcome

    async def _finish_late(
        self, incoming: Incoming, work: asyncio.Future[tuple[Context, Outcome]], sent: Sent
    ) -> None:
        try:
            ctx, outcome = await work
        except Exception as error:  # noqa: BLE001 - any failure becomes a friendly card
            _log_failure(incoming, error)
            transport = LateTransport(
                self._messenger,
                incoming.program,
                self._conversation(incoming),
                speaker=None,
                told_privately=False,
                card=_shared_card(incoming),
            )
            await _quietly(incoming, transport.apologise())
            return
        transport = LateTransport(
            self._messenger,
            ctx.program,
            self._conversation(incoming),
            speaker=ctx.person.id,
            told_privately=ctx.person.id in outcome.told
            or any(m.person == ctx.person.id for m in outcome.direct),
            card=_shared_card(incoming),
        )
        await self._delivered(ctx, outcome, transport, sent)

    # ------------------------------------------------------------------ who is speaking

    async def _context(self, incoming: Incoming) -> Context:
        program = incoming.program
        person = await self._remember(incoming, incoming.sender, zone=incoming.local_timezone)
        await self._keep_address(incoming, incoming.sender)
        channel = translate.channel_of(incoming)
        if channel is not None:
            await self._keep_channel(incoming, channel)
            if self._channel_members is not None:
                self._channel_members.heard(program, channel, incoming.members_conversation)
        return await self._chat.scheduler.context(
            program,
            person,
            incoming.identity,
            zone=incoming.local_timezone,
            private=incoming.private,
            channel=channel,
            sent_at=incoming.sent_at,
            event_id=incoming.id,
        )

    async def _remember(
        self, incoming: Incoming, account: Account, *, zone: str | None = None
    ) -> Person:
        """The person behind ``account``, created or refreshed; their email comes from the
        conversation's roster the first time (it lets an imported roster match them)."""
        key = (incoming.program, account.stable_id)
        cached = self._people.get(key)
        if (
            cached is not None
            and self._timer.now() - cached[0] < PEOPLE_TTL
            and cached[1].name == (account.name or cached[1].name)
            and (zone is None or cached[1].timezone == zone)
        ):
            return cached[1]
        # One lookup for the clicks of one person that come at once (a burst on a card):
        # each would read and write the same rows, and queue on SQLite's one writer.
        person = await self._remembering.run(
            (*key, account.name, zone), lambda: self._profile(incoming, account, zone=zone)
        )
        self._people[key] = (self._timer.now(), person)
        if len(self._people) > 50_000:  # a big tenant's worth: start again rather than grow
            self._people.clear()
        return person

    async def _profile(self, incoming: Incoming, account: Account, *, zone: str | None) -> Person:
        identity = ChatIdentity(Platform.TEAMS, incoming.tenant, account.stable_id)
        known = await self._chat.scheduler.identify(identity, None)
        email = known.email if known else None
        if email is None:
            member = await self._roster_entry(incoming, account)
            email = translate.member_profile(member)[0] if member else None
        return await self._chat.scheduler.identify(
            identity, translate.profile(account, email, zone, known)
        )

    async def _mentioned(self, incoming: Incoming) -> dict[str, str]:
        """The stable ids of the people mentioned, each remembered (so that "find a time
        with @Maria" works before Maria has spoken to Pairtime) and reachable later."""
        resolved: dict[str, str] = {}
        for account in translate.people_mentioned(incoming):
            person = account
            if person.aad_object_id is None:
                member = await self._roster_entry(incoming, account)
                aad = translate.member_profile(member)[1] if member else None
                if aad:
                    person = replace(account, aad_object_id=aad)
            resolved[account.id] = person.stable_id
            await self._remember(incoming, person)
            await self._keep_address(incoming, person)
        return resolved

    async def _roster_entry(self, incoming: Incoming, account: Account) -> JsonDict | None:
        key = (incoming.tenant, account.id)
        cached = self._roster.get(key)
        now = self._timer.now()
        if cached is not None and now - cached[0] < ROSTER_TTL:
            return cached[1]
        reference = translate.conversation_reference(incoming) | {"activityId": None}
        try:
            member = await self._outbox.member(reference, incoming.members_conversation, account.id)
        except DeliveryFailed:
            member = None
        self._roster[key] = (now, member)
        return member

    async def _keep_address(self, incoming: Incoming, account: Account) -> None:
        """Store how to reach ``account`` privately: their personal chat when they speak in
        it, else (once) their address for opening one."""
        program = incoming.program
        conversations = self._chat.addresses
        key = (program, account.stable_id)
        private = incoming.private and account.id == incoming.sender.id
        if private:
            signature = (incoming.conversation_id, incoming.service_url)
            if self._addresses.get(key) == signature:
                return
            reference = translate.personal_reference(incoming)
            await conversations.save(program, account.stable_id, reference, self._chat.clock.now())
            self._addresses[key] = signature
            return
        if key in self._addresses:
            return
        if await conversations.get(program, account.stable_id) is None:
            address = translate.address_of(incoming, account)
            await conversations.save(program, account.stable_id, address, self._chat.clock.now())
        self._addresses[key] = ("", "")

    async def _keep_channel(self, incoming: Incoming, channel: str) -> None:
        """Store how to post into this channel (or group chat) later: a poll asked for in a
        personal chat is posted in its circle's channel, where nobody has just spoken."""
        key = (incoming.program, channel)
        signature = (incoming.service_url, incoming.bot.id)
        if self._channels.get(key) == signature:
            return
        reference = translate.channel_reference(incoming)
        await self._chat.addresses.save(
            incoming.program, translate.channel_key(channel), reference, self._chat.clock.now()
        )
        self._channels[key] = signature
        if len(self._channels) > 50_000:
            self._channels.clear()

    # ------------------------------------------------------------------ answering

    def _conversation(self, incoming: Incoming) -> Conversation:
        return Conversation(
            incoming,
            self._outbox,
            self._chat.addresses,
            self._seen,
            self._chat.base_url,
        )

    def _transport(self, incoming: Incoming, *, replace_id: str | None = None) -> TeamsTransport:
        return TeamsTransport(
            self._messenger,
            incoming.program,
            self._conversation(incoming),
            replace_id=replace_id,
        )

    async def _delivered(
        self, ctx: Context, outcome: Outcome, transport: TeamsTransport, sent: Sent
    ) -> None:
        await deliver(
            outcome,
            transport,
            speaker=ctx.person.id,
            posted=self._chat.scheduler.posted,
            sent=sent,
        )

    def _options(self, incoming: Incoming) -> cards.CardOptions:
        return cards.CardOptions(
            self._chat.base_url, private=incoming.private, twelve_hour=incoming.twelve_hour
        )

    async def _first_time(self, incoming: Incoming) -> bool:
        """Teams resends an activity it thinks was lost: only the first copy acts."""
        if not incoming.id:
            return True
        return await self._seen.first_time(translate.dedupe_key(incoming))

    def _spawn(
        self, work: Coroutine[Any, Any, Any], incoming: Incoming, *, limited: bool = True
    ) -> None:
        self._work.spawn(
            work, limited=limited, on_error=lambda error: _log_failure(incoming, error)
        )


CardKey = tuple[str, str]  # (channel, activity id) of a card in a shared conversation


@dataclass
class _CardQueue:
    """The clicks on one shared card: one counted at a time, the others waiting for their
    turn (``counting``, the one counted among them) or for the card's drawing (``drawing``)."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    counting: int = 0
    drawing: int = 0


@dataclass
class _Turn:
    """One click on a shared card: waiting for its turn, counted (``started``), then waiting
    for the card's drawing once its turn ``ended``, until it ``leave``s."""

    queue: _CardQueue
    timer: Timer
    started: float | None = None
    ended: float | None = None
    left: float | None = None

    def end(self) -> None:
        """The click is counted: the next one's turn (a second call does nothing)."""
        if self.started is None or self.ended is not None:
            return
        self.ended = self.timer.now()
        self.queue.lock.release()
        self.queue.counting -= 1
        self.queue.drawing += 1

    def leave(self) -> None:
        """Done, failed or cancelled, wherever it was."""
        if self.left is not None:
            return
        self.left = self.timer.now()
        if self.started is None:
            self.queue.counting -= 1  # cancelled while waiting for its turn
            return
        self.end()
        self.queue.drawing -= 1

    def took(self) -> tuple[float, float]:
        """Seconds in its turn, and from then until now (its card drawn and kept)."""
        assert self.started is not None
        assert self.ended is not None
        return self.ended - self.started, self.timer.now() - self.ended


def _shared_card(incoming: Incoming) -> CardKey | None:
    """The card clicked in a shared conversation (a poll), or None in a personal chat."""
    channel = translate.channel_of(incoming)
    if channel is None or not incoming.reply_to_id:
        return None
    return (channel, incoming.reply_to_id)


def _log_failure(incoming: Incoming, error: BaseException) -> None:
    status = error.status if isinstance(error, DeliveryFailed) else None
    log.error(
        "Teams activity %s (%s) failed: %s%s",
        incoming.id,
        incoming.type,
        type(error).__name__,
        f" (status {status})" if status else "",
        exc_info=not isinstance(error, DeliveryFailed),
    )


def _bound(incoming: Incoming) -> AbstractContextManager[None]:
    """Log lines about this activity name Teams, the tenant's program and the activity."""
    return logs.bound(
        platform=Platform.TEAMS.value, program=incoming.program, event=incoming.id or None
    )


def _awaited(error: BaseException) -> None:
    """A failure reported by whoever awaits the work that raised it."""
    del error


async def _quietly(incoming: Incoming, apology: Awaitable[None]) -> None:
    """An apology that fails too is logged, and that is all: nothing more can be said."""
    try:
        await apology
    except Exception as error:  # noqa: BLE001 - already failing
        log.warning(
            "could not apologise for Teams activity %s either (%s)",
            incoming.id,
            type(error).__name__,
        )
