"""Everything Pairtime sends to Teams: replies, card updates and personal messages.

Sends go through ``CloudAdapter.continue_conversation`` with a stored conversation reference
(the Bot Framework's proactive-message path), or ``create_conversation`` to open a personal
chat with someone Pairtime has only seen in a channel. Teams limits each bot to about 7
messages a second per conversation and answers 429 beyond: sends are paced per conversation,
and a 429 is retried after its ``Retry-After``.

Updates of a posted message (a poll, as votes come in) are sent at most one a second per
message, always the newest card. A versioned update (a poll's card, :attr:`MessageUpdate.version`)
is kept as the message's one card job (``CARD_JOB``, see :meth:`adapters.chat.Inbox.keep`): a
render older than the one kept is dropped, a newer one replaces it, and one process at a time
sends it, so the card never goes backwards, whichever process counted which vote. Other
updates go through a :class:`Coalescer` in the process, where a closed poll's card is never
replaced by an older open one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable, Iterable, Mapping
from typing import Any, Generic, TypeVar

from aiolimiter import AsyncLimiter
from botbuilder.core import TurnContext
from botbuilder.schema import (
    ChannelAccount,
    ConversationParameters,
)
from botframework.connector.models import ErrorResponseException
from cachetools import FIFOCache, LRUCache
from msrest.exceptions import HttpOperationError
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt

from adapters.chat import Inbox
from adapters.teams import cards, schema, translate
from adapters.teams.timing import MonotonicTimer, TeamsTiming, Timer
from adapters.teams.translate import JsonDict
from core.errors import ChatRefused
from core.jobs import Job
from core.people import PersonId, Platform, ProgramId, identity_in
from core.polls import PollStatus
from core.ports import ChatAddresses, Clock, People
from core.views import MessageUpdate, PollView, View

log = logging.getLogger(__name__)
T = TypeVar("T")

PER_SECOND = 7  # Teams: 7 messages per second per conversation (then 8 per 2 s, 60 per 30 s)
MAX_ATTEMPTS = 4
LONGEST_WAIT = 30.0  # seconds: a Retry-After beyond this is not waited for
UPDATE_INTERVAL = 1.0  # seconds between two updates of one message
FINAL_MEMORY = 10_000  # messages remembered as showing a final card (a closed poll)
CONVERSATION_MEMORY = 10_000  # conversations paced, the least recently used forgotten first
CARD_JOB = "teams.card"  # a posted card's newest render, to send
SENT_CARDS_KEPT = 10_000  # cards whose last version sent this process remembers


class DeliveryFailed(ChatRefused):
    """Teams did not take a message; ``status`` is the HTTP status, when there was one."""

    def __init__(self, status: int | None) -> None:
        super().__init__(f"the Bot Framework answered {status}")
        self.status = status


class Pacer:
    """At most ``per_second`` sends a second into any one conversation.

    An ``aiolimiter`` leaky bucket per conversation that holds one send and empties at that
    pace: a bucket of ``per_second`` would let that many through at once and as many again
    before the second is out, which Teams answers with 429s.
    """

    def __init__(self, per_second: int = PER_SECOND) -> None:
        self._period = 1.0 / per_second
        self._limiters: LRUCache[str, AsyncLimiter] = LRUCache(CONVERSATION_MEMORY)

    async def wait(self, conversation_id: str) -> None:
        limiter = self._limiters.get(conversation_id)
        if limiter is None:
            limiter = self._limiters[conversation_id] = AsyncLimiter(1, self._period)
        await limiter.acquire()


class Outbox:
    """The botbuilder calls that write to Teams, with pacing and 429 retries."""

    def __init__(
        self,
        adapter: Any,
        app_id: str | None,
        *,
        pacer: Pacer | None = None,
        timer: Timer | None = None,
    ) -> None:
        self._adapter = adapter
        self._app_id = app_id or None
        self._timer = timer or MonotonicTimer()
        self._pacer = pacer or Pacer()

    async def post(self, reference: Mapping[str, Any], activity: JsonDict) -> str | None:
        """Post ``activity`` where ``reference`` points: a reply to its ``activityId`` when it
        has one (the same thread in a channel), else a new message. Returns the new id."""
        ref = schema.conversation_reference(dict(reference))
        posted: list[str | None] = []

        async def send(turn: TurnContext) -> None:
            outgoing = TurnContext.apply_conversation_reference(schema.activity(activity), ref)
            outgoing.id = None
            responses = await self._retrying(
                ref.conversation.id, lambda: turn.adapter.send_activities(turn, [outgoing])
            )
            posted.append(responses[0].id if responses and responses[0] else None)

        await self._adapter.continue_conversation(ref, send, self._app_id)
        return posted[0] if posted else None

    async def update(
        self, reference: Mapping[str, Any], activity_id: str, activity: JsonDict
    ) -> None:
        """Replace the message ``activity_id`` (a card that was clicked) with ``activity``."""
        ref = schema.conversation_reference(dict(reference))

        async def update(turn: TurnContext) -> None:
            outgoing = TurnContext.apply_conversation_reference(schema.activity(activity), ref)
            outgoing.id = activity_id
            outgoing.reply_to_id = None
            await self._retrying(ref.conversation.id, lambda: turn.update_activity(outgoing))

        await self._adapter.continue_conversation(ref, update, self._app_id)

    async def member(
        self, reference: Mapping[str, Any], conversation_id: str, user_id: str
    ) -> JsonDict | None:
        """A roster entry (name, email, UPN, AAD object id), or None when Teams has none."""
        ref = schema.conversation_reference(dict(reference))
        found: list[JsonDict] = []

        async def look_up(turn: TurnContext) -> None:
            client = turn.turn_state[self._adapter.BOT_CONNECTOR_CLIENT_KEY]
            member = await client.conversations.get_conversation_member(conversation_id, user_id)
            found.append(member.serialize() | member.additional_properties)

        try:
            await self._adapter.continue_conversation(ref, look_up, self._app_id)
        except ErrorResponseException as error:
            log.info("no roster entry for a member (status %s)", _status(error))
            return None
        return found[0] if found else None

    async def roster_page(
        self,
        reference: Mapping[str, Any],
        conversation_id: str,
        *,
        continuation: str | None = None,
        page_size: int | None = None,
    ) -> tuple[list[JsonDict], str | None]:
        """One page of a team's or chat's roster (``GET .../pagedmembers``), with the token
        for the next page (None on the last); :class:`DeliveryFailed` when Teams refuses."""
        ref = schema.conversation_reference(dict(reference))
        pages: list[tuple[list[JsonDict], str | None]] = []

        async def read(turn: TurnContext) -> None:
            client = turn.turn_state[self._adapter.BOT_CONNECTOR_CLIENT_KEY]
            try:
                page = await client.conversations.get_teams_conversation_paged_members(
                    conversation_id, page_size, continuation
                )
            except HttpOperationError as error:  # said as a status: the turn logs it at INFO
                raise DeliveryFailed(_status(error)) from error
            members = [m.serialize() | m.additional_properties for m in page.members or []]
            pages.append((members, page.continuation_token or None))

        await self._adapter.continue_conversation(ref, read, self._app_id)
        return pages[0] if pages else ([], None)

    async def open_personal(self, address: Mapping[str, Any]) -> JsonDict:
        """Open (or find) the one-to-one chat with the person ``address`` names; returns the
        chat's conversation reference."""
        tenant = translate.reference_tenant(address)
        user = dict(address.get("user") or {})
        bot = dict(address.get("bot") or {})
        parameters = ConversationParameters(
            is_group=False,
            bot=ChannelAccount(id=bot.get("id"), name=bot.get("name")),
            members=[ChannelAccount(id=user.get("id"))],
            tenant_id=tenant,
            channel_data={"tenant": {"id": tenant}},
        )
        opened: list[str] = []

        async def created(turn: TurnContext) -> None:
            opened.append(turn.activity.conversation.id)

        service_url = str(address.get("serviceUrl"))
        await self._pacer.wait(f"create:{user.get('id')}")
        await self._retrying(
            f"create:{user.get('id')}",
            lambda: self._adapter.create_conversation(
                self._app_id,
                created,
                parameters,
                channel_id=address.get("channelId") or "msteams",
                service_url=service_url,
            ),
            pace=False,
        )
        return {
            "activityId": None,
            "user": user,
            "bot": bot,
            "conversation": {"id": opened[0], "conversationType": "personal", "tenantId": tenant},
            "channelId": address.get("channelId") or "msteams",
            "locale": address.get("locale"),
            "serviceUrl": service_url,
        }

    async def _retrying(
        self, conversation_id: str, call: Callable[[], Awaitable[Any]], *, pace: bool = True
    ) -> Any:
        """``call()``, paced, and again after a 429's ``Retry-After`` (within reason)."""

        async def attempt() -> Any:
            if pace:
                await self._pacer.wait(conversation_id)
            return await call()

        retrying = AsyncRetrying(
            retry=retry_if_exception(_asked_to_wait),
            wait=lambda state: _retry_after(state.outcome.exception() if state.outcome else None),
            stop=stop_after_attempt(MAX_ATTEMPTS),
            sleep=self._timer.sleep,
            before_sleep=lambda state: log.info(
                "Teams asked to slow down (429); retrying in %.1f s", state.upcoming_sleep
            ),
            reraise=True,
        )
        try:
            return await retrying(attempt)
        except ErrorResponseException as error:
            raise DeliveryFailed(_status(error)) from error


class Coalescer(Generic[T]):
    """Sends per key, coalesced: at most one each ``interval`` seconds, always the newest.
    Many votes at once become a few updates of the poll's card (Teams allows a bot about 7
    sends a second per conversation), and the last one sent is the last one submitted.

    A final item (a closed or cancelled poll) is never replaced by one submitted after it:
    a vote counted just before the close may still be on its way with the open poll.
    """

    def __init__(
        self,
        send: Callable[[T], Awaitable[None]],
        *,
        interval: float = UPDATE_INTERVAL,
        timer: Timer | None = None,
    ) -> None:
        self._send = send
        self._interval = interval
        self._timer = timer or MonotonicTimer()
        self._pending: dict[Hashable, T] = {}
        self._workers: dict[Hashable, asyncio.Task[None]] = {}
        self._sent_at: dict[Hashable, float] = {}
        self._final: FIFOCache[Hashable, bool] = FIFOCache(FINAL_MEMORY)
        self._flushing = asyncio.Event()
        self.sent = 0  # sends made, for tests and the benchmark

    def submit(self, key: Hashable, item: T, *, final: bool = False) -> None:
        """Queue ``item`` as the next one for ``key``; returns at once."""
        if key in self._final and not final:
            return
        if final:
            self._final[key] = True
        self._pending[key] = item
        if key not in self._workers:
            self._workers[key] = asyncio.ensure_future(self._run(key))

    async def flush(self) -> None:
        """Send what is pending now, and from then on without waiting out the interval: for
        shutdown, so that the last version of every card goes out."""
        self._flushing.set()
        await self.idle()

    @property
    def flushing(self) -> bool:
        return self._flushing.is_set()

    @property
    def flushed(self) -> asyncio.Event:
        """Set once :meth:`flush` was called: waits for the interval end there."""
        return self._flushing

    async def idle(self) -> None:
        """Return once everything submitted has been sent (or has failed, logged)."""
        while self._workers:
            await asyncio.gather(*self._workers.values(), return_exceptions=True)

    async def _run(self, key: Hashable) -> None:
        try:
            while key in self._pending:
                last = self._sent_at.get(key)
                wait = 0.0 if last is None else last + self._interval - self._timer.now()
                if wait > 0 and not self._flushing.is_set():
                    await self._timer.sleep(wait, until=self._flushing)
                item = self._pending.pop(key)
                try:
                    await self._send(item)
                    self.sent += 1
                except DeliveryFailed as error:
                    log.warning("a coalesced send was not delivered (status %s)", error.status)
                except Exception:  # one failure must not stop the sends after it
                    log.exception("a coalesced send failed")
                self._sent_at[key] = self._timer.now()
        finally:
            self._workers.pop(key, None)
            if len(self._sent_at) > FINAL_MEMORY:
                now = self._timer.now()
                for old in [k for k, at in self._sent_at.items() if now - at > self._interval]:
                    self._sent_at.pop(old, None)


class TeamsMessenger:
    """Private messages to people, through their stored references, and updates of the
    messages Pairtime posted (polls), coalesced."""

    def __init__(
        self,
        outbox: Outbox,
        people: People,
        addresses: ChatAddresses,
        *,
        clock: Clock,
        base_url: str,
        timing: TeamsTiming | None = None,
        inbox: Inbox | None = None,
    ) -> None:
        timing = timing or TeamsTiming()
        self._outbox = outbox
        self._people = people
        self._addresses = addresses
        self._clock = clock
        self._base_url = base_url
        self.updates: Coalescer[tuple[Mapping[str, str], View]] = Coalescer(
            self._update, interval=timing.update_interval, timer=timing.timer
        )
        self.late: Coalescer[tuple[ProgramId, PersonId, View]] = Coalescer(
            self._late, interval=timing.late_answer_interval, timer=timing.timer
        )
        self._inbox = inbox
        self._timer = timing.timer
        self._interval = timing.update_interval
        # card -> (version, when) sent last by this process
        self._cards_sent: LRUCache[tuple[str, str], tuple[int, float]] = LRUCache(SENT_CARDS_KEPT)
        # card -> the newest version this process keeps as its job, and that keeping
        self._cards_kept: LRUCache[tuple[str, str], tuple[int, asyncio.Future[bool]]] = LRUCache(
            SENT_CARDS_KEPT
        )
        self._last_card: tuple[View, JsonDict] | None = None  # see _card_activity

    async def apply(self, updates: Iterable[MessageUpdate]) -> None:
        """Queue each update for its message; returns once it is queued. A versioned one is
        kept as the card's job (committed when this returns), the others are coalesced here."""
        for update in updates:
            message = update.message
            if translate.message_reference(message) is None:
                log.info("an update for a message Pairtime did not post in Teams; skipped")
                continue
            key = (message["conversation"], message["activity"])
            if self._inbox is not None and update.version > 0:
                await self._keep_card(self._inbox, key, update)
                continue
            final = isinstance(update.view, PollView) and update.view.status is not PollStatus.OPEN
            self.updates.submit(key, (message, update.view), final=final)

    async def _keep_card(self, inbox: Inbox, key: tuple[str, str], update: MessageUpdate) -> None:
        """The card's render kept as its job, once per version and process: the votes drawn
        together share one drawing, and so one write, which each of them awaits (its row is
        completed only once the card showing it is kept). A version at or below one kept
        here already is not written again: the job holds it or a newer one."""
        kept = self._cards_kept.get(key)
        if kept is not None and kept[0] >= update.version:
            keeping = kept[1]
            if not keeping.done():
                await asyncio.shield(keeping)
                return
            if not keeping.cancelled() and keeping.exception() is None:
                return
        payload = {
            "message": dict(update.message),
            "version": update.version,
            "activity": self._card_activity(update.view),
        }
        keeping = asyncio.ensure_future(
            inbox.keep_newest(
                CARD_JOB, f"{CARD_JOB}:{key[0]}:{key[1]}"[:300], payload, update.version
            )
        )
        self._cards_kept[key] = (update.version, keeping)
        await asyncio.shield(keeping)

    def _card_activity(self, view: View) -> JsonDict:
        """A shared card's activity; the votes drawn together share one view, rendered once."""
        last = self._last_card
        if last is not None and last[0] is view:
            return last[1]
        card = cards.render(view, cards.CardOptions(self._base_url, private=False))
        activity = translate.message_activity(card, cards.summary(view))
        self._last_card = (view, activity)
        return activity

    async def send_card(self, job: Job) -> None:
        """The card job's handler: the render it holds, sent, at most one each
        ``update_interval`` per card from this process (renders kept meanwhile replace the
        job, and the newest runs next). A refusal Teams explains (the message was deleted)
        is logged and not retried; the network failing is."""
        message = job.payload["message"]
        reference = translate.message_reference(message)
        if reference is None:
            log.warning("a card job names no Teams message; not sent")
            return
        key = (str(message["conversation"]), str(message["activity"]))
        version = int(job.payload["version"])
        sent = self._cards_sent.get(key)
        if sent is not None:
            if sent[0] >= version:
                return  # this state went out already (renders of one state replace each other)
            wait = sent[1] + self._interval - self._timer.now()
            if wait > 0 and not self.updates.flushing:
                await self._timer.sleep(wait, until=self.updates.flushed)
        try:
            await self._outbox.update(reference, key[1], job.payload["activity"])
        except DeliveryFailed as error:
            log.warning("a card update was not delivered (status %s)", error.status)
            return
        self._cards_sent[key] = (version, self._timer.now())

    def answer_later(
        self, program: ProgramId, person: PersonId, about: Hashable, view: View
    ) -> None:
        """A click's answer that came too late for Teams' reply: to the person's personal
        chat, at most one each ``late_answer_interval`` about one card, the newest."""
        self.late.submit((program, person, about), (program, person, view))

    async def post_shared(self, reference: Mapping[str, Any], view: View) -> dict[str, str]:
        """Post ``view`` for everyone where ``reference`` points (a poll into its channel);
        returns where it landed, as core keeps it (:func:`translate.posted_message`)."""
        options = cards.CardOptions(
            self._base_url,
            private=False,
            twelve_hour=translate.twelve_hour_clock(reference.get("locale")),
        )
        activity = translate.message_activity(cards.render(view, options), cards.summary(view))
        posted = await self._outbox.post(reference, activity)
        if not posted:
            raise DeliveryFailed(None)
        return translate.posted_message(reference, posted)

    async def close(self) -> None:
        await self.updates.flush()
        await self.late.flush()

    async def _update(self, item: tuple[Mapping[str, str], View]) -> None:
        message, view = item
        reference = translate.message_reference(message)
        if reference is None:  # pragma: no cover - apply() lets none of these in
            return
        card = cards.render(view, cards.CardOptions(self._base_url, private=False))
        activity = translate.message_activity(card, cards.summary(view))
        await self._outbox.update(reference, message["activity"], activity)

    async def _late(self, item: tuple[ProgramId, PersonId, View]) -> None:
        await self.send(*item)

    async def person(self, program: ProgramId, user_id: str) -> PersonId | None:
        """The person Pairtime knows as ``user_id`` (a Teams stable id) in ``program``."""
        found = await self._people.by_chat_user(program, user_id)
        return found.id if found is not None else None

    async def send(self, program: ProgramId, person: PersonId, view: View) -> bool:
        """Write to ``person`` privately; False when Pairtime has no way to reach them."""
        identity = identity_in(program, await self._people.identities(person))
        if identity is None or identity.platform is not Platform.TEAMS:
            log.info("no Teams identity to write to in %s", program)
            return False
        reference = await self._addresses.get(program, identity.user_id)
        if reference is None:
            log.info("no conversation reference yet for a person in %s", program)
            return False
        if not translate.has_conversation(reference):
            reference = await self._outbox.open_personal(reference)
            await self._addresses.save(program, identity.user_id, reference, self._clock.now())
        options = cards.CardOptions(
            self._base_url,
            private=True,
            twelve_hour=translate.twelve_hour_clock(reference.get("locale")),
        )
        card = cards.render(view, options)
        await self._outbox.post(reference, translate.message_activity(card, cards.summary(view)))
        return True


def _status(error: HttpOperationError) -> int | None:
    response = getattr(error, "response", None)
    status = getattr(response, "status_code", None)
    return status if isinstance(status, int) else None


def _asked_to_wait(error: BaseException) -> bool:
    """A 429 whose ``Retry-After`` is worth waiting for."""
    return (
        isinstance(error, ErrorResponseException)
        and _status(error) == 429
        and _retry_after(error) <= LONGEST_WAIT
    )


def _retry_after(error: BaseException | None) -> float:
    response = getattr(error, "response", None)
    headers = getattr(response, "headers", None) or {}
    try:
        return max(0.0, float(headers.get("Retry-After", 1)))
    except (TypeError, ValueError):  # an HTTP date: wait a second and see
        return 1.0
