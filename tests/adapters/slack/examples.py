"""Core views filled with the largest realistic data, with real signed references.

Shared by the rendering tests and the Block Kit validator test, so both look
at the same payloads.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from adapters.slack import render
from core.actions import (
    AcceptMeeting,
    Action,
    ActionCodec,
    CancelMeeting,
    Connect,
    DeclineMeeting,
    Disconnect,
    DownloadInvitation,
    EditPoll,
    MoreTimes,
    MoveMeeting,
    OtherTimes,
    PickSlot,
    PollOp,
    ReplayFind,
    SetPlace,
    Vote,
)
from core.commands import Provider
from core.people import PersonId
from core.polls import Choice, PollStatus
from core.program import ProgramSettings
from core.scheduling.info import help_view, settings_view
from core.time import Interval
from core.views import (
    Button,
    ButtonStyle,
    Confirmation,
    ConnectionStatusView,
    ConnectPrompt,
    HomeView,
    Invitation,
    LinkButton,
    MeetingItem,
    MeetingList,
    Notice,
    PartnerView,
    PollDraftView,
    PollOptionView,
    PollView,
    Question,
    SlotChoice,
    SlotPicker,
    TextInput,
    TimeInput,
    Tone,
)

CODEC = ActionCodec([b"a test key that signs like production"])
MADRID = ZoneInfo("Europe/Madrid")
MONDAY = datetime(2026, 11, 30, 8, tzinfo=UTC)
NAMES = (
    "Maria Lopez-Fernández de la Vega",
    "Sam O'Connor",
    "Noor Haddad",
    "Kwame Mensah-Bonsu",
    "Yuki Tanaka",
    "Ana <script> & Lima",
    "Olusegun Adebayo",
    "Priya Raghunathan",
)
OFFER = "Zq3x8PpV1mJ0kQ2rS4tU6w"  # new_reference(): 22 characters


def ref(action: Action) -> str:
    return CODEC.seal(action)


def find_again(duration: int, others: int = 0) -> str:
    """A find-time request carried by a button, for ``others`` people and ``duration``."""
    window = Interval(
        datetime.fromtimestamp(1764460800, UTC), datetime.fromtimestamp(1765670400, UTC)
    )
    people = tuple(PersonId(c * 32) for c in "edcba"[:others])
    return ref(ReplayFind(PersonId("f" * 32), people, duration, window))


def link(provider: Provider) -> LinkButton:
    state = "s" * 43
    return LinkButton(
        f"Connect {provider.label}",
        f"https://pairtime.example.org/connect/{provider.value}?state={state}",
    )


def connect_prompt() -> ConnectPrompt:
    return ConnectPrompt(
        "Connect your calendar so I can see when you're busy. I only read free/busy times, "
        "never your events' details. Each link works once, for you only, for 15 minutes.",
        tuple(link(p) for p in Provider),
    )


def slots(count: int, days: int) -> tuple[SlotChoice, ...]:
    per_day = -(-count // days)
    found = []
    for index in range(count):
        day, position = divmod(index, per_day)
        start = MONDAY + timedelta(days=day, minutes=30 * position)
        found.append(
            SlotChoice(
                start,
                start + timedelta(minutes=45),
                ref(PickSlot(OFFER, start)),
            )
        )
    return tuple(found)


def picker(count: int = 8, days: int = 5) -> SlotPicker:
    notes = (
        *(f"{name} hasn't connected a calendar, so their times are not checked." for name in NAMES),
        "Times are shown in UTC, because your chat profile has no time zone.",
    )
    return SlotPicker(
        title="Times for you, " + ", ".join(NAMES[:-1]) + f" and {NAMES[-1]}",
        zone=MADRID,
        duration_minutes=45,
        slots=slots(count, days),
        more=Button("More times", ref(MoreTimes(OFFER))),
        notes=notes,
        connect=connect_prompt(),
        remaining=57,
    )


NOT_EMAILED = (
    f"{NAMES[1]} has no email address in their chat profile, so no invitation was emailed to "
    "them; they can add the .ics file from their confirmation."
)


def confirmation(*, cancelled: bool = False) -> Confirmation:
    start = MONDAY + timedelta(hours=6)
    return Confirmation(
        headline=f"{NAMES[0]} booked Mentoring circle (8 people) with you.",
        title="Mentoring circle (8 people)",
        start=start,
        end=start + timedelta(minutes=45),
        zone=MADRID,
        with_names=NAMES,
        invitation=Invitation("pairtime-meeting.ics", b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"),
        download=ref(DownloadInvitation(OFFER, PersonId("f" * 32))),
        buttons=()
        if cancelled
        else (
            Button("Move", ref(MoveMeeting(OFFER))),
            Button("Cancel meeting", ref(CancelMeeting(OFFER)), ButtonStyle.DANGER),
        ),
        cancelled=cancelled,
        location="https://meet.example.org/abc-defg-hij?pwd=" + "x" * 60,
        notes=(NOT_EMAILED,),
    )


def proposal() -> Confirmation:
    """What the partner of a pair is asked, with the field for a place (the booker's, in
    real life; both here, to check the largest payload)."""
    start = MONDAY + timedelta(hours=6)
    return Confirmation(
        headline=f"{NAMES[0]} proposes a time for Mentoring: {NAMES[0]} and {NAMES[1]}.",
        title=f"Mentoring: {NAMES[0]} and {NAMES[1]}",
        start=start,
        end=start + timedelta(minutes=30),
        zone=MADRID,
        with_names=(NAMES[0],),
        download=ref(DownloadInvitation(OFFER, PersonId("f" * 32))),
        buttons=(
            Button("Accept", ref(AcceptMeeting(OFFER, 3)), ButtonStyle.PRIMARY),
            Button("Decline", ref(DeclineMeeting(OFFER, 3)), ButtonStyle.DANGER),
            Button("Other times", ref(OtherTimes(OFFER, 3))),
        ),
        pending=True,
        location="Room 4B <north wing> & café",
        place=TextInput(
            "Add a link or a room", ref(SetPlace(OFFER)), "Save", "https://… or Room 4B"
        ),
    )


def meetings(count: int = 30) -> MeetingList:
    """A long "my meetings": more than fit one message."""
    items = tuple(
        MeetingItem(
            title=f"Mentoring: {NAMES[0]} and {NAMES[index % len(NAMES)]}",
            start=MONDAY + timedelta(days=index, hours=6),
            end=MONDAY + timedelta(days=index, hours=6, minutes=45),
            with_names=(NAMES[index % len(NAMES)],),
            status="Confirmed." if index % 2 else f"Waiting for {NAMES[1]}.",
            location="https://meet.example.org/abc" if index % 3 == 0 else None,
            buttons=(
                Button("Move", ref(MoveMeeting(f"{OFFER}{index}"))),
                Button("Cancel meeting", ref(CancelMeeting(f"{OFFER}{index}")), ButtonStyle.DANGER),
            ),
            pending=not index % 2,
        )
        for index in range(count)
    )
    return MeetingList("Your upcoming meetings", MADRID, items[:20], more=max(0, count - 20))


def status(*, reconnect: bool = False) -> ConnectionStatusView:
    return ConnectionStatusView(
        "Your Microsoft 365 / Outlook.com calendar (maria.lopez-fernandez@contoso.example) "
        + ("needs to be reconnected." if reconnect else "is connected."),
        Provider.MICROSOFT,
        needs_reconnect=reconnect,
        connect=connect_prompt() if reconnect else None,
        disconnect=Button("Disconnect", ref(Disconnect(PersonId("f" * 32))), ButtonStyle.DANGER),
    )


def question(options: int = 30) -> Question:
    return Question(
        f"You have {options} mentees. Which one would you like to meet?",
        tuple(
            Button(
                f"{NAMES[i % len(NAMES)]} ({i})",
                find_again(45, 1),
            )
            for i in range(options)
        ),
    )


def notice() -> Notice:
    return Notice(
        "I couldn't find 45 free minutes for you, " + ", ".join(NAMES) + " in that window.",
        Tone.WARNING,
        (
            Button("Look further ahead", find_again(45), ButtonStyle.PRIMARY),
            Button("Try 22 minutes", find_again(22)),
            Button("Any time of day", find_again(45)),
            link(Provider.GOOGLE),
        ),
    )


def poll_options(count: int) -> tuple[PollOptionView, ...]:
    return tuple(
        PollOptionView(
            option=i,
            start=MONDAY + timedelta(days=i),
            end=MONDAY + timedelta(days=i, hours=1),
            yes=i,
            if_need_be=2,
            busy=1,
            vote_yes=Button("Yes", ref(Vote("P" * 22, i, Choice.YES))),
            vote_if_need_be=Button("If need be", ref(Vote("P" * 22, i, Choice.IF_NEED_BE))),
            winner=i == 3,
            tied=i == 5,
        )
        for i in range(count)
    )


def poll() -> PollView:
    return PollView(
        title="Circle meeting in December",
        organizer=NAMES[0],
        zone=MADRID,
        duration_minutes=60,
        options=poll_options(20),
        invitees=8,
        connected=5,
        status=PollStatus.OPEN,
        deadline=MONDAY + timedelta(days=2),
        required=NAMES[:3],
        close=Button("Close the poll", ref(EditPoll("P" * 22, PollOp.CLOSE))),
        cancel=Button(
            "Cancel the poll", ref(EditPoll("P" * 22, PollOp.CANCEL)), ButtonStyle.DANGER
        ),
        connect=Button("Connect my calendar", ref(Connect())),
    )


def poll_draft() -> PollDraftView:
    return PollDraftView(
        title="Circle meeting in December",
        zone=MADRID,
        duration_minutes=60,
        options=tuple(
            (option, Button("Remove", ref(EditPoll("P" * 22, PollOp.REMOVE, option=option.option))))
            for option in poll_options(10)
        ),
        invitees=NAMES,
        connected=5,
        add_time=TimeInput("Add a time", ref(EditPoll("P" * 22, PollOp.ADD))),
        deadlines=tuple(
            Button(f"In {d} days", ref(EditPoll("P" * 22, PollOp.DEADLINE, hours=24 * d)))
            for d in (1, 2, 3, 7)
        ),
        deadline=None,
        required=tuple(
            Button(name, ref(EditPoll("P" * 22, PollOp.REQUIRE, person=PersonId(f"{i:032d}"))))
            for i, name in enumerate(NAMES)
        ),
        required_names=NAMES[:2],
        post=Button("Post the poll", ref(EditPoll("P" * 22, PollOp.POST)), ButtonStyle.PRIMARY),
        cancel=Button("Discard", ref(EditPoll("P" * 22, PollOp.CANCEL))),
        notes=("3 invitees have no calendar connected.",),
    )


def home(*, admin: bool = True) -> HomeView:
    partners = tuple(
        PartnerView(NAMES[i % len(NAMES)], "your mentee", f"U0PARTNER{i:02d}") for i in range(30)
    )
    return HomeView(
        zone=MADRID,
        status=status(reconnect=True),
        meetings=meetings(40),
        partners=partners,
        help=help_view("I didn't catch what you'd like to do."),
        rules=settings_view(
            ProgramSettings(allowed_providers=frozenset(Provider)),
            can_edit=True,
            available=frozenset(Provider),
        )
        if admin
        else None,
        console=admin,
    )


def modal() -> dict[str, Any]:
    return render.find_time_modal(
        zone=MADRID, today=date(2026, 11, 25), default_duration=45, people=["U0MENTEE"]
    )
