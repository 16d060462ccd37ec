"""The scheduling service: one method per intent, and one for every button.

Chat adapters resolve who is speaking into a :class:`Context`, call
:meth:`Scheduler.handle_text` or :meth:`Scheduler.act`, and render the
:class:`~core.views.Outcome` they get back.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Mapping
from datetime import datetime
from typing import Any, assert_never, overload
from zoneinfo import ZoneInfo

from core.actions import (
    AcceptMeeting,
    Action,
    CancelMeeting,
    ConfirmCancel,
    Connect,
    DeclineMeeting,
    Disconnect,
    DownloadInvitation,
    EditPoll,
    ForgetMe,
    InvalidAction,
    KeepMe,
    KeepMeeting,
    MoreTimes,
    MoveMeeting,
    OtherTimes,
    PickSlot,
    ReplayFind,
    ReplayKept,
    SetPlace,
    Vote,
)
from core.commands import Command, Intent, Provider
from core.organisation import OrgProvider
from core.parsing import parse
from core.people import (
    ChatIdentity,
    Person,
    PersonId,
    Profile,
    ProgramId,
    program_name,
    program_of,
)
from core.scheduling import (
    booking,
    connections,
    console,
    directory,
    find_time,
    forget,
    info,
    meetings,
    organisation,
    outbox,
    polls,
    publishing,
)
from core.scheduling.common import TimeTaken
from core.scheduling.context import Context, Ports, zone_of
from core.scheduling.directory import Roster
from core.scheduling.home import home_view
from core.scheduling.identity import identify
from core.views import HomeView, Invitation, MeetingList, Notice, Outcome, Tone

# Characters of a message read on the event loop rather than in a thread (see handle_text).
READ_ON_THE_LOOP = 120
STALE_BUTTON = "That button has expired or isn't valid any more. Ask me again for fresh options."
NOT_YOURS = "That button was meant for someone else."


class Scheduler:
    def __init__(self, ports: Ports) -> None:
        self.ports = ports
        self._programs: set[ProgramId] = set()  # created already, as far as this process knows

    async def context(
        self,
        program: ProgramId,
        person: Person,
        identity: ChatIdentity,
        *,
        zone: str | None = None,
        private: bool = True,
        channel: str | None = None,
        sent_at: datetime | None = None,
        event_id: str | None = None,
    ) -> Context:
        """The speaker's context; ``zone`` (e.g. Teams' ``localTimezone``) beats their profile.

        ``channel`` names the conversation when it is not private (polls are posted there);
        ``sent_at`` and ``event_id`` are the platform's time and id of the interaction.
        """
        settings = await self.ports.programs.settings(program)
        named = zone or person.timezone
        resolved = zone_of(named, settings.default_timezone)
        assumed = named is None or resolved.key != named
        return Context(
            program,
            person,
            identity,
            resolved,
            zone_assumed=assumed,
            private=private,
            channel=channel,
            sent_at=sent_at,
            event_id=event_id,
        )

    @overload
    async def identify(self, identity: ChatIdentity, profile: Profile) -> Person: ...

    @overload
    async def identify(self, identity: ChatIdentity, profile: None) -> Person | None: ...

    async def identify(self, identity: ChatIdentity, profile: Profile | None) -> Person | None:
        """The person speaking as ``identity`` (see :mod:`core.scheduling.identity`); their
        program is created on its first contact with this process."""
        program = program_of(identity)
        if program not in self._programs:
            await self.ports.programs.ensure(program, program_name(identity))
            self._programs.add(program)
        return await identify(self.ports, identity, profile)

    async def roster(self, program: ProgramId) -> Roster:
        """Who is in ``program``: people, roles, circles, calendars (see ``directory``)."""
        return await directory.roster(self.ports, program)

    async def home(self, ctx: Context) -> HomeView:
        """The speaker's home: calendar, next meetings, partners, help (and rules)."""
        return await home_view(self.ports, ctx)

    async def handle_text(
        self, ctx: Context, text: str, *, bot_user_id: str | None = None
    ) -> Outcome:
        """Understand ``text`` and answer it; anything unclear gets help, never an error."""
        settings = await self.ports.programs.settings(ctx.program)
        reading = functools.partial(
            parse,
            text,
            ctx.zone,
            self.ports.clock.now(),
            default_duration=settings.default_duration_minutes,
            bot_user_id=bot_user_id,
        )
        # A long message in a thread: reading costs up to milliseconds per hundred characters
        # (dates go through dateparser), which on the event loop would hold up every other
        # request's acknowledgement while it is read. A short one (a command, under a
        # millisecond) costs less than the hand-off to a thread and back.
        if len(text) <= READ_ON_THE_LOOP:
            return await self.handle(ctx, reading())
        return await self.handle(ctx, await asyncio.to_thread(reading))

    async def handle(self, ctx: Context, command: Command) -> Outcome:
        match command.intent:
            case Intent.FIND_TIME:
                return await self.find_time(ctx, command)
            case Intent.POLL:
                return await self.poll(ctx, command)
            case Intent.MY_MEETINGS:
                return await meetings.my_meetings(self.ports, ctx)
            case Intent.CANCEL_MEETING:
                return await meetings.by_text(self.ports, ctx, command, verb="cancel")
            case Intent.MOVE_MEETING:
                return await meetings.by_text(self.ports, ctx, command, verb="move")
            case Intent.CONNECT:
                return await self.connect(ctx, command.provider)
            case Intent.DISCONNECT:
                return await self.disconnect(ctx)
            case Intent.STATUS if command.participants:
                return await console.status_of(self.ports, ctx, command.participants)
            case Intent.STATUS:
                return await self.status(ctx)
            case Intent.SETTINGS:
                return await self.settings(ctx)
            case Intent.ORGANISATION_OFF:
                return await organisation.opt_out(self.ports, ctx)
            case Intent.ORGANISATION_ON:
                return await organisation.opt_in(self.ports, ctx)
            case Intent.ADMIN:
                return await self.admin_console(ctx)
            case Intent.FORGET_ME:
                return forget.ask(self.ports, ctx)
            case Intent.HELP:
                return self.help()
            case Intent.UNKNOWN:
                return self.help(command.hint)

    async def find_time(self, ctx: Context, command: Command) -> Outcome:
        return await find_time.find_time(self.ports, ctx, command)

    async def poll(self, ctx: Context, command: Command) -> Outcome:
        return await polls.create(self.ports, ctx, command)

    async def posted(self, key: str, message: Mapping[str, str]) -> None:
        """Where an adapter posted a broadcast (a poll), for later updates."""
        await polls.posted(self.ports, key, message)

    async def poll_deadline(self, ref: str) -> tuple[ProgramId, Outcome] | None:
        """A poll's deadline came (its ``poll.close`` job): close and book it."""
        return await polls.deadline(self.ports, ref)

    async def poll_nudge(self, ref: str) -> tuple[ProgramId, Outcome] | None:
        """A poll's reminder time came (its ``poll.nudge`` job): remind who has not voted."""
        return await polls.nudge(self.ports, ref)

    async def reconnect_requests(self) -> list[tuple[ProgramId, Outcome]]:
        """Ask the owners of calendars that miss events marked free to connect again (a
        batch of them, each once); ``bot`` runs it as a recurring job."""
        return await connections.reconnect_requests(self.ports)

    async def admin_console(self, ctx: Context) -> Outcome:
        """ "Open the admin console" (a button, or "admin"): a sign-in link for an admin."""
        return await console.sign_in(self.ports, ctx)

    async def may_open_console(self, ctx: Context) -> bool:
        return await console.may_open_console(self.ports, ctx)

    async def connect(self, ctx: Context, provider: Provider | None) -> Outcome:
        return await connections.connect(self.ports, ctx, provider)

    async def disconnect(self, ctx: Context) -> Outcome:
        return await connections.disconnect(self.ports, ctx)

    async def status(self, ctx: Context) -> Outcome:
        return await connections.status(self.ports, ctx)

    async def settings(self, ctx: Context) -> Outcome:
        return await info.settings(self.ports, ctx)

    def help(self, hint: str | None = None) -> Outcome:
        return info.help_outcome(hint)

    async def act(self, ctx: Context, reference: str, *, value: str | None = None) -> Outcome:
        """A button was clicked (or a field sent, with its ``value``): check the signature,
        then who clicked, then do it."""
        try:
            action = self.ports.actions.open(reference)
        except InvalidAction:
            return Outcome(Notice(STALE_BUTTON, Tone.WARNING))
        return await self.perform(ctx, action, value=value)

    async def perform(self, ctx: Context, action: Action, *, value: str | None = None) -> Outcome:
        """Do what a button asks (its reference already opened); ``value`` is a field's."""
        match action:
            case PickSlot():
                picked = await booking.pick(self.ports, ctx, action)
                if isinstance(picked, TimeTaken):
                    return await find_time.offer_again(self.ports, ctx, picked)
                return picked
            case MoreTimes():
                return await find_time.more_times(self.ports, ctx, action)
            case ReplayFind():
                return await find_time.replay(self.ports, ctx, action)
            case ReplayKept():
                return await find_time.replay_kept(self.ports, ctx, action)
            case CancelMeeting():
                return await meetings.ask_cancel(self.ports, ctx, action)
            case ConfirmCancel():
                return await meetings.confirm_cancel(self.ports, ctx, action)
            case KeepMeeting():
                return await meetings.keep(self.ports, ctx, action)
            case AcceptMeeting():
                return await meetings.accept(self.ports, ctx, action)
            case DeclineMeeting():
                return await meetings.decline(self.ports, ctx, action)
            case OtherTimes():
                return await meetings.other_times(self.ports, ctx, action)
            case MoveMeeting():
                return await meetings.move(self.ports, ctx, action)
            case SetPlace():
                return await meetings.set_place(self.ports, ctx, action, value)
            case EditPoll():
                return await polls.edit(self.ports, ctx, action, value)
            case Vote():
                return await polls.vote(self.ports, ctx, action)
            case Connect():
                return Outcome(await connections.connect_prompt(self.ports, ctx, None))
            case Disconnect():
                if action.requester != ctx.person.id:
                    return Outcome(Notice(NOT_YOURS, Tone.WARNING))
                return await self.disconnect(ctx)
            case ForgetMe():
                return await forget.confirm(self.ports, ctx, action)
            case KeepMe():
                return forget.keep(action)
            case DownloadInvitation():  # a link's token, never a button
                return Outcome(Notice(STALE_BUTTON, Tone.WARNING))
            case _:
                assert_never(action)

    async def organisation_revoked(self, program: ProgramId, provider: OrgProvider) -> Outcome:
        """The message to the program's admins when its organisation connection stopped
        working (sent once, by the job that the read which found it enqueued)."""
        return await organisation.revoked(self.ports, program, provider)

    async def organisation_write_refused(
        self, program: ProgramId, provider: OrgProvider, reason: str
    ) -> Outcome:
        """The message to the program's admins when the program account may not create
        meetings any more (sent once, by the job the refusal enqueued)."""
        return await organisation.write_refused(self.ports, program, provider, reason)

    async def invitation(self, token: str) -> Invitation | None:
        """The .ics behind a confirmation's download token (None when not valid)."""
        return await booking.invitation_for(self.ports, token)

    async def meetings_of(self, person: Person, zone: ZoneInfo) -> MeetingList:
        """``person``'s upcoming meetings, for a home tab or a personal chat's welcome."""
        return await meetings.meeting_list(self.ports, person, zone)

    async def connect_reminder(
        self, payload: Mapping[str, Any]
    ) -> tuple[ProgramId, Outcome] | None:
        """A ``connect.reminder`` job an admin queued in the console: whom to tell what."""
        return await console.connect_reminder(self.ports, payload)

    # ------------------------------------------------------------ the worker's meeting jobs

    async def send_invitation(self, payload: Mapping[str, Any]) -> None:
        """An ``email`` job: :class:`~core.errors.MailRefused` says whether to retry."""
        await meetings.send_invitation(self.ports, payload)

    async def invitation_failed(
        self, payload: Mapping[str, Any]
    ) -> tuple[ProgramId, Outcome] | None:
        """After an ``email`` job's last try: who to tell in chat, and what."""
        return await meetings.invitation_failed(self.ports, payload)

    async def publish_event(self, payload: Mapping[str, Any]) -> tuple[ProgramId, Outcome] | None:
        """A ``meeting.event`` job: the program account's event made to match the meeting;
        :class:`~core.errors.PublishRefused` says whether to retry."""
        return await publishing.publish(self.ports, payload)

    async def publish_failed(
        self, payload: Mapping[str, Any], reason: str
    ) -> tuple[ProgramId, Outcome] | None:
        """After a ``meeting.event`` job's last try: the emails instead, or the organiser told."""
        return await publishing.publish_failed(self.ports, payload, reason)

    async def left_notice(self, payload: Mapping[str, Any]) -> tuple[ProgramId, Outcome] | None:
        """Tell someone their meeting went with a person who was forgotten (a job's)."""
        return await forget.left_notice(self.ports, payload)

    async def forget(self, person: Person) -> forget.Forgotten:
        """Forget ``person`` everywhere (``pairtime people forget``, the console)."""
        return await forget.forget(self.ports, person)

    async def remind(self, payload: Mapping[str, Any]) -> tuple[ProgramId, Outcome] | None:
        """A ``meeting.reminder`` job's message, unless the meeting changed since."""
        return await meetings.remind(self.ports, payload)

    async def remind_pending(self, payload: Mapping[str, Any]) -> tuple[ProgramId, Outcome] | None:
        """A ``meeting.pending`` job's nudge, unless the proposal was answered."""
        return await meetings.remind_pending(self.ports, payload)

    async def tell(self, payload: Mapping[str, Any]) -> tuple[ProgramId, Outcome] | None:
        """A ``meeting.told`` job's private message (the outbox of a meeting's change),
        unless the meeting changed again since."""
        return await outbox.tell(self.ports, payload)

    def calendar_connected(
        self, person: PersonId, provider: Provider, account: str | None
    ) -> Outcome:
        """What to tell a person in chat when their calendar connection succeeds."""
        return connections.calendar_connected(person, provider, account)
