"""What people see, as chat-neutral values that Slack, Teams and the web render.

Views carry times as UTC datetimes plus the viewer's zone, and text as plain
English sentences: no platform markup. Every button carries a signed action
reference (see ``core.actions``) or, for links, a URL.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from core.commands import Provider
from core.people import PersonId
from core.polls import PollStatus


class Tone(StrEnum):
    INFO = "info"
    SUCCESS = "success"
    WARNING = "warning"
    ERROR = "error"


class ButtonStyle(StrEnum):
    DEFAULT = "default"
    PRIMARY = "primary"
    DANGER = "danger"


@dataclass(frozen=True, slots=True)
class Button:
    label: str
    action: str  # a signed action reference
    style: ButtonStyle = ButtonStyle.DEFAULT


@dataclass(frozen=True, slots=True)
class LinkButton:
    label: str
    url: str


@dataclass(frozen=True, slots=True)
class SlotChoice:
    start: datetime
    end: datetime
    action: str


@dataclass(frozen=True, slots=True)
class ConnectPrompt:
    """One button per allowed calendar service, each a single-use link for this person."""

    text: str
    links: tuple[LinkButton, ...]


@dataclass(frozen=True, slots=True)
class SlotPicker:
    title: str  # "Times for you and Maria Lopez"
    zone: ZoneInfo  # the viewer's
    duration_minutes: int
    slots: tuple[SlotChoice, ...]
    more: Button | None = None
    # Plain sentences: whose calendar was not checked, an assumed time zone, ...
    notes: tuple[str, ...] = ()
    connect: ConnectPrompt | None = None  # when the viewer has no calendar connected
    remaining: int = 0  # free times not shown yet

    def days(self) -> list[tuple[date, list[SlotChoice]]]:
        """The slots grouped by the viewer's local day, in order."""
        grouped: dict[date, list[SlotChoice]] = {}
        for choice in self.slots:
            grouped.setdefault(choice.start.astimezone(self.zone).date(), []).append(choice)
        return list(grouped.items())


@dataclass(frozen=True, slots=True)
class Invitation:
    """An iCalendar file to attach."""

    filename: str
    content: bytes
    media_type: str = "text/calendar"


@dataclass(frozen=True, slots=True)
class TextInput:
    """A one-line text field: its value comes back with ``action`` as the ``value`` of
    :meth:`Scheduler.act` (a meeting's link or room)."""

    label: str
    action: str
    submit_label: str = "Save"
    placeholder: str = ""


@dataclass(frozen=True, slots=True)
class Confirmation:
    """A meeting, as one participant sees it: booked, proposed (``pending``: waiting for an
    answer), moved, declined or cancelled (``cancelled``: it is off).

    ``buttons`` are what this person may do now (accept, decline, other times, move,
    cancel); ``place`` asks the booker for a link or a room when the program says so.
    """

    headline: str
    title: str
    start: datetime
    end: datetime
    zone: ZoneInfo
    with_names: tuple[str, ...]
    invitation: Invitation | None = None
    # A signed token for downloading the invitation at BASE_URL/invitations/{token}.ics,
    # for platforms that cannot attach files.
    download: str | None = None
    buttons: tuple[Button, ...] = ()
    cancelled: bool = False
    pending: bool = False
    location: str | None = None  # a join link or a room
    notes: tuple[str, ...] = ()  # who was not emailed, ...
    place: TextInput | None = None


@dataclass(frozen=True, slots=True)
class MeetingItem:
    """One upcoming meeting in a list: ``status`` in words ("Waiting for Sam's answer")."""

    title: str
    start: datetime
    end: datetime
    with_names: tuple[str, ...]
    status: str
    location: str | None = None
    buttons: tuple[Button, ...] = ()
    pending: bool = False


@dataclass(frozen=True, slots=True)
class MeetingList:
    """A person's upcoming meetings, each with what they may do with it."""

    title: str
    zone: ZoneInfo
    meetings: tuple[MeetingItem, ...]
    empty: str = "You have no upcoming meetings booked through Pairtime."
    more: int = 0  # meetings not listed (only the first ones are)


@dataclass(frozen=True, slots=True)
class ConnectionStatusView:
    text: str  # "Your Google calendar is connected" / "Your calendar is not connected"
    provider: Provider | None
    needs_reconnect: bool = False
    connect: ConnectPrompt | None = None
    disconnect: Button | None = None


@dataclass(frozen=True, slots=True)
class HelpView:
    text: str
    examples: tuple[str, ...]
    hint: str | None = None  # what was not understood, when help answers a puzzling message


@dataclass(frozen=True, slots=True)
class SettingsView:
    title: str
    lines: tuple[tuple[str, str], ...]  # (label, value)
    can_edit: bool = False


@dataclass(frozen=True, slots=True)
class Notice:
    text: str
    tone: Tone = Tone.INFO
    buttons: tuple[Button | LinkButton, ...] = ()


@dataclass(frozen=True, slots=True)
class Question:
    """A clarifying question with one button per answer."""

    text: str
    options: tuple[Button, ...]


@dataclass(frozen=True, slots=True)
class TimeInput:
    """A date-and-time field: its value (local ``YYYY-MM-DDTHH:MM`` in the viewer's zone)
    comes back with ``action`` as the ``value`` of :meth:`Scheduler.act`."""

    label: str
    action: str
    submit_label: str = "Add"


@dataclass(frozen=True, slots=True)
class PollOptionView:
    option: int
    start: datetime
    end: datetime
    yes: int
    if_need_be: int
    busy: int  # invitees busy then (their calendar or a Pairtime meeting); never who
    vote_yes: Button | None = None
    vote_if_need_be: Button | None = None
    winner: bool = False
    tied: bool = False  # as many votes as the winner, which was earlier


@dataclass(frozen=True, slots=True)
class PollView:
    """The poll as everyone in the channel sees it."""

    title: str
    organizer: str
    zone: ZoneInfo  # the organiser's: for text where a platform cannot localise per reader
    duration_minutes: int
    options: tuple[PollOptionView, ...]
    invitees: int
    connected: int  # invitees who have connected a calendar
    status: PollStatus  # open, closed or cancelled: a poll's card is never a draft
    deadline: datetime | None = None
    required: tuple[str, ...] = ()
    result: str | None = None  # the outcome, once closed: "Booked Tue 14:00", a tie stated
    close: Button | None = None
    cancel: Button | None = None
    connect: Button | None = None  # answers privately with the person's own links
    version: int = 0  # the poll's state this shows: a higher version is a later state


@dataclass(frozen=True, slots=True)
class PollDraftView:
    """The organiser's private preview: remove or add times, set a deadline, then post."""

    title: str
    zone: ZoneInfo
    duration_minutes: int
    options: tuple[tuple[PollOptionView, Button], ...]  # each with its "remove" button
    invitees: tuple[str, ...]
    connected: int
    add_time: TimeInput
    deadlines: tuple[Button, ...]  # "No deadline", "In 1 day", ...
    deadline: datetime | None
    required: tuple[Button, ...]  # one toggle per invitee
    required_names: tuple[str, ...]
    post: Button
    cancel: Button
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PartnerView:
    name: str
    role: str  # "your mentee", "your mentor"
    chat_user: str | None  # their user id on the viewer's platform, when known there


@dataclass(frozen=True, slots=True)
class HomeView:
    """A person's home: calendar status, upcoming meetings, partners, help; and the
    program's rules when they are an admin."""

    zone: ZoneInfo
    status: ConnectionStatusView
    meetings: MeetingList  # with Move / Cancel (or Accept / Decline) on each
    partners: tuple[PartnerView, ...]
    help: HelpView
    rules: SettingsView | None = None
    console: bool = False  # they may open the admin console ("Open the admin console")


View = (
    SlotPicker
    | Confirmation
    | MeetingList
    | ConnectPrompt
    | ConnectionStatusView
    | HelpView
    | SettingsView
    | Notice
    | Question
    | PollView
    | PollDraftView
)


@dataclass(frozen=True, slots=True)
class DirectMessage:
    person: PersonId
    view: View


@dataclass(frozen=True, slots=True)
class Broadcast:
    """A message for everyone in the conversation where the person spoke (a poll).

    Once posted, the adapter reports where it landed with
    :meth:`Scheduler.posted` and ``key``, so that later changes can update it.
    """

    view: View
    key: str
    # Where to post: a channel id, or None for the conversation where the person spoke.
    channel: str | None = None


@dataclass(frozen=True, slots=True)
class MessageUpdate:
    """Replace a message posted earlier (``message`` is the adapter's own reference).

    ``version`` orders the updates of one message by the state they show: an update older
    than one already applied is dropped, however late it comes (cards never go backwards).
    Adapters may coalesce several updates of one message into the latest.
    """

    message: Mapping[str, str]
    view: View
    version: int = 0


@dataclass(frozen=True, slots=True)
class Answer:
    """The answer where the person spoke; for a click, it replaces the clicked message when
    ``replaces_original``, else it is a private answer."""

    view: View
    replaces_original: bool = False


# One thing delivering an outcome does: what a chat transport performs, and what a durable
# outbox would keep until it is done.
Effect = Answer | Broadcast | DirectMessage | MessageUpdate


@dataclass(frozen=True, slots=True)
class Outcome:
    """Everything a request or a click produces.

    ``reply`` answers where the person spoke (for a click, it replaces the
    clicked message when ``replaces_original``, else it is a private answer);
    ``direct`` are private messages to people, the speaker included;
    ``broadcast`` is posted for everyone in that conversation; ``updates``
    replace messages posted before. ``told`` are the people a change of a meeting tells
    privately through the outbox (``core.scheduling.outbox``): those messages were stored
    with the change, and are not in ``direct``.
    """

    reply: View | None
    direct: tuple[DirectMessage, ...] = field(default=())
    replaces_original: bool = False
    broadcast: Broadcast | None = None
    updates: tuple[MessageUpdate, ...] = ()
    told: tuple[PersonId, ...] = ()

    def effects(self) -> tuple[Effect, ...]:
        """What delivering this outcome does, in order: updates of earlier messages first
        (the newest state shows soonest, in the order outcomes were made), then the answer,
        the broadcast, and the private messages."""
        answer = () if self.reply is None else (Answer(self.reply, self.replaces_original),)
        broadcast = () if self.broadcast is None else (self.broadcast,)
        return (*self.updates, *answer, *broadcast, *self.direct)
