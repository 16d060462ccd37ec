"""Core views as Adaptive Cards: what they say, and that Teams would take and render them."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from adapters.teams import cards, translate
from adapters.teams.cards import CardOptions
from core.actions import (
    AcceptMeeting,
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
from core.commands import Provider, TimeOfDay
from core.people import PersonId
from core.polls import Choice, PollStatus
from core.program import ProgramSettings
from core.scheduling.info import help_view, settings_view
from core.time import DayTime, Interval
from core.views import (
    Button,
    ButtonStyle,
    Confirmation,
    ConnectionStatusView,
    ConnectPrompt,
    LinkButton,
    MeetingItem,
    MeetingList,
    Notice,
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
from tests.adapters.teams import card_reading
from tests.adapters.teams.card_reading import actions, of_type
from tests.support import validate, validators

CODEC = ActionCodec([b"k" * 32])
BERLIN = ZoneInfo("Europe/Berlin")
KATHMANDU = ZoneInfo("Asia/Kathmandu")
MONDAY = datetime(2026, 3, 2, 8, tzinfo=UTC)  # 09:00 in Berlin
BASE = "https://pairtime.example.org"
PRIVATE = CardOptions(BASE)
SHARED = CardOptions(BASE, private=False)
# The longest names people put in Entra ID are around 60 characters.
NAMES = [f"Maximiliane Alexandra {n} von Hohenlohe-Schillingsfürst" for n in "ABCDEFGHIJKL"]
OFFER = "Q0FGRUJBQkVERUFEQkVFRg"  # new_reference(): 22 characters
PERSON_IDS = [f"{n:032x}" for n in range(12)]  # uuid4().hex


def pick(start: datetime) -> str:
    return CODEC.seal(PickSlot(OFFER, start))


def find_again() -> str:
    window = Interval(datetime.fromtimestamp(1, UTC), datetime.fromtimestamp(2, UTC))
    hours = TimeOfDay(DayTime(540), DayTime(720))
    people = tuple(PersonId(p) for p in PERSON_IDS[1:])
    return CODEC.seal(ReplayFind(PersonId(PERSON_IDS[0]), people, 60, window, hours))


def connect_links() -> tuple[LinkButton, ...]:
    state = "s" * 43  # secrets.token_urlsafe(32)
    return tuple(
        LinkButton(f"Connect {p.label}", f"{BASE}/connect/{p.value}?state={state}")
        for p in Provider
    )


PROMPT = ConnectPrompt(
    "Connect your calendar so I can see when you're busy. I only read free/busy times, never "
    "your events' details. Each link works once, for you only, for 15 minutes.",
    connect_links(),
)


def largest_picker(zone: ZoneInfo = BERLIN) -> SlotPicker:
    """A circle of twelve, eight times over eight days, a note for everyone, connect links."""
    slots = tuple(
        SlotChoice(start, start + timedelta(minutes=90), pick(start))
        for start in (MONDAY + timedelta(days=day, hours=day % 3) for day in range(8))
    )
    notes = (
        *(f"{name} hasn't connected a calendar, so their times are not checked." for name in NAMES),
        f"Times are shown in {zone.key}, because your chat profile has no time zone.",
    )
    return SlotPicker(
        title=f"Times for you, {', '.join(NAMES[:-1])} and {NAMES[-1]}",
        zone=zone,
        duration_minutes=90,
        slots=slots,
        more=Button("More times", CODEC.seal(MoreTimes(OFFER))),
        notes=notes,
        connect=PROMPT,
        remaining=214,
    )


def confirmation(*, cancelled: bool = False) -> Confirmation:
    meeting = "TUVFVElOR1JFRkVSRU5DRQ"
    return Confirmation(
        headline=f"{NAMES[0]} booked Mentoring circle (12 people) with you.",
        title="Mentoring circle (12 people)",
        start=MONDAY,
        end=MONDAY + timedelta(hours=1),
        zone=BERLIN,
        with_names=tuple(NAMES[1:]),
        download=CODEC.seal(DownloadInvitation(meeting, PersonId(PERSON_IDS[0]))),
        buttons=()
        if cancelled
        else (
            Button("Accept", CODEC.seal(AcceptMeeting(meeting, 2)), ButtonStyle.PRIMARY),
            Button("Decline", CODEC.seal(DeclineMeeting(meeting, 2)), ButtonStyle.DANGER),
            Button("Other times", CODEC.seal(OtherTimes(meeting, 2))),
        ),
        pending=not cancelled,
        location="https://teams.example.org/l/meetup-join/" + "x" * 120,
        notes=(f"{NAMES[1]} has no email address in their chat profile.",),
        place=None
        if cancelled
        else TextInput("Add a link or a room", CODEC.seal(SetPlace(meeting)), "Save", "Room 4B"),
        cancelled=cancelled,
    )


# A poll at its largest: fifty invitees with the longest names, eight times, ten required.
FIFTY = [f"Maximiliane Alexandra {n:02d} von Hohenlohe-Schillingsfürst" for n in range(50)]
FIFTY_IDS = [f"{n:032x}" for n in range(50)]
POLL = "UE9MTFJFRkVSRU5DRTEyMzQ"  # new_reference()
POLL_TITLE = "Mentoring circle of the Northern Region Leadership Programme"


def poll_options(
    *, votes: bool = True, winner: int | None = None, tied: int | None = None
) -> tuple[PollOptionView, ...]:
    return tuple(
        PollOptionView(
            option=1000 + n,
            start=MONDAY + timedelta(days=n, hours=n % 3),
            end=MONDAY + timedelta(days=n, hours=n % 3, minutes=45),
            yes=37,
            if_need_be=12,
            busy=44,
            vote_yes=Button("Yes", CODEC.seal(Vote(POLL, 1000 + n, Choice.YES))) if votes else None,
            vote_if_need_be=Button(
                "If need be", CODEC.seal(Vote(POLL, 1000 + n, Choice.IF_NEED_BE))
            )
            if votes
            else None,
            winner=n == winner,
            tied=n == tied,
        )
        for n in range(8)
    )


def largest_poll(status: str = "open") -> PollView:
    is_open = status == "open"
    return PollView(
        title=POLL_TITLE,
        organizer=FIFTY[0],
        zone=BERLIN,
        duration_minutes=45,
        options=poll_options(
            votes=is_open,
            winner=2 if status == "closed" else None,
            tied=5 if status == "closed" else None,
        ),
        invitees=50,
        connected=31,
        status=PollStatus(status),
        deadline=MONDAY + timedelta(days=1),
        required=tuple(FIFTY[:10]),
        result={
            "closed": "It tied with another time (marked “tied”); the earliest was booked.",
            "cancelled": "This poll was cancelled.",
        }.get(status),
        close=Button(
            "Close and book", CODEC.seal(EditPoll(POLL, PollOp.CLOSE)), ButtonStyle.PRIMARY
        )
        if is_open
        else None,
        cancel=Button("Cancel poll", CODEC.seal(EditPoll(POLL, PollOp.CANCEL)), ButtonStyle.DANGER)
        if is_open
        else None,
        connect=Button("Connect my calendar", CODEC.seal(Connect())) if is_open else None,
    )


def largest_draft() -> PollDraftView:
    deadlines = ((0, "No deadline"), (24, "In 1 day"), (48, "In 2 days"), (168, "In 1 week"))
    return PollDraftView(
        title=POLL_TITLE,
        zone=BERLIN,
        duration_minutes=45,
        options=tuple(
            (
                option,
                Button("Remove", CODEC.seal(EditPoll(POLL, PollOp.REMOVE, option=option.option))),
            )
            for option in poll_options(votes=False)
        ),
        invitees=tuple(FIFTY),
        connected=31,
        add_time=TimeInput("Add a time of your own", CODEC.seal(EditPoll(POLL, PollOp.ADD))),
        deadlines=tuple(
            Button(
                label,
                CODEC.seal(EditPoll(POLL, PollOp.DEADLINE, hours=hours)),
                ButtonStyle.PRIMARY if hours == 24 else ButtonStyle.DEFAULT,
            )
            for hours, label in deadlines
        ),
        deadline=MONDAY + timedelta(days=1),
        required=tuple(
            Button(
                name,
                CODEC.seal(EditPoll(POLL, PollOp.REQUIRE, person=PersonId(person))),
                ButtonStyle.PRIMARY if n < 10 else ButtonStyle.DEFAULT,
            )
            for n, (name, person) in enumerate(zip(FIFTY, FIFTY_IDS, strict=True))
        ),
        required_names=tuple(FIFTY[:10]),
        post=Button("Post poll", CODEC.seal(EditPoll(POLL, PollOp.POST)), ButtonStyle.PRIMARY),
        cancel=Button("Discard", CODEC.seal(EditPoll(POLL, PollOp.CANCEL)), ButtonStyle.DANGER),
        notes=("31 of 50 invitees have connected calendars.",),
    )


def every_card() -> dict[str, dict[str, Any]]:
    """Each card Pairtime sends to Teams, with the largest data it realistically carries."""
    disconnect = Button(
        "Disconnect", CODEC.seal(Disconnect(PersonId(PERSON_IDS[0]))), ButtonStyle.DANGER
    )
    return {
        "picker": cards.render(largest_picker(), PRIVATE),
        "picker-channel": cards.render(largest_picker(KATHMANDU), SHARED),
        "confirmation": cards.render(confirmation(), PRIVATE),
        "confirmation-cancelled": cards.render(confirmation(cancelled=True), PRIVATE),
        "meetings": cards.render(
            MeetingList(
                "Your upcoming meetings",
                BERLIN,
                tuple(
                    MeetingItem(
                        f"Mentoring: {NAMES[0]} and {NAMES[i % len(NAMES)]}",
                        MONDAY + timedelta(days=i),
                        MONDAY + timedelta(days=i, hours=1),
                        (NAMES[i % len(NAMES)],),
                        "Confirmed.",
                        location="https://teams.example.org/l/meetup-join/abc",
                        buttons=(
                            Button("Move", CODEC.seal(MoveMeeting(f"m{i}"))),
                            Button(
                                "Cancel meeting",
                                CODEC.seal(CancelMeeting(f"m{i}")),
                                ButtonStyle.DANGER,
                            ),
                        ),
                    )
                    for i in range(20)
                ),
                more=4,
            ),
            PRIVATE,
        ),
        "connect": cards.render(PROMPT, PRIVATE),
        "status-reconnect": cards.render(
            ConnectionStatusView(
                "Your Microsoft 365 / Outlook.com calendar (maximiliane.alexandra.von.hohenlohe"
                "@contoso.onmicrosoft.com) needs to be reconnected: its access was revoked or "
                "has expired.",
                Provider.MICROSOFT,
                needs_reconnect=True,
                connect=ConnectPrompt(PROMPT.text, PROMPT.links[1:2]),
                disconnect=disconnect,
            ),
            PRIVATE,
        ),
        "help": cards.render(help_view("I couldn't tell who you want to meet."), PRIVATE),
        "settings": cards.render(
            settings_view(ProgramSettings(), can_edit=True, available=frozenset(Provider)), PRIVATE
        ),
        "nothing-free": cards.render(
            Notice(
                f"I couldn't find 60 free minutes for you, {', '.join(NAMES)} in that window.",
                Tone.WARNING,
                (
                    Button("Look further ahead", find_again(), ButtonStyle.PRIMARY),
                    Button("Try 30 minutes", find_again()),
                    Button("Any time of day", find_again()),
                ),
            ),
            PRIVATE,
        ),
        "question": cards.render(
            Question(
                "More than one person is called “Maximiliane”. Which one did you mean?",
                tuple(Button(name, find_again()) for name in NAMES[:8]),
            ),
            PRIVATE,
        ),
        "poll": cards.render(largest_poll(), SHARED),
        "poll-closed": cards.render(largest_poll("closed"), SHARED),
        "poll-cancelled": cards.render(largest_poll("cancelled"), SHARED),
        "poll-draft": cards.render(largest_draft(), CardOptions(BASE, twelve_hour=True)),
        "welcome": cards.welcome(PROMPT, PRIVATE),
        "welcome-admin": cards.welcome(PROMPT, PRIVATE, admin=True),
        "welcome-team": cards.welcome(None, SHARED),
        "working": cards.working(),
        "error": cards.error(),
    }


def text_of(card: dict[str, Any]) -> str:
    return json.dumps(card, ensure_ascii=False)


# ---------------------------------------------------------------------- content


def test_the_picker_groups_times_by_day_in_the_viewers_zone_and_names_it():
    zone = ZoneInfo("America/New_York")
    starts = [MONDAY + timedelta(hours=h) for h in (5, 6)] + [MONDAY + timedelta(days=1, hours=5)]
    picker = SlotPicker(
        "Times for you and Maria",
        zone,
        30,
        tuple(SlotChoice(s, s + timedelta(minutes=30), pick(s)) for s in starts),
        more=Button("More times", CODEC.seal(MoreTimes(OFFER))),
    )

    us = cards.render(picker, CardOptions(BASE, twelve_hour=True))
    europe = cards.render(picker, CardOptions(BASE))

    blocks = [b["text"] for b in us["body"] if b["type"] == "TextBlock"]
    assert blocks[:3] == [
        "Times for you and Maria",
        "30 minutes · times in America/New_York (UTC\u221205:00)",
        "Monday, March 2",
    ]
    assert "Tuesday, March 3" in blocks
    rows = [b for b in us["body"] if b["type"] == "ActionSet"]
    assert [[a["title"] for a in row["actions"]] for row in rows] == [
        ["8:00 AM", "9:00 AM"],
        ["8:00 AM"],
    ]
    assert "Monday 2 March" in text_of(europe)
    assert [a["title"] for a in actions(europe)] == ["08:00", "09:00", "08:00", "More times"]


def test_buttons_carry_the_signed_reference_with_a_submit_fallback():
    card = cards.render(largest_picker(), PRIVATE)
    execute = [a for a in actions(card) if a["type"] == "Action.Execute"]

    assert len(execute) == 9  # eight times and "More times"
    for action in execute:
        assert action["verb"] == "pairtime"
        assert isinstance(CODEC.open(action["data"]["pt"]), PickSlot | MoreTimes)
        assert action["fallback"] == {
            "type": "Action.Submit",
            "title": action["title"],
            "data": action["data"],
        }


def test_connect_links_show_only_in_a_personal_chat():
    private = cards.render(largest_picker(), PRIVATE)
    shared = cards.render(largest_picker(), SHARED)

    links = [a["url"] for a in actions(private) if a["type"] == "Action.OpenUrl"]
    assert links == [link.url for link in PROMPT.links]
    assert not [a for a in actions(shared) if a["type"] == "Action.OpenUrl"]
    assert cards.CONNECT_IN_PRIVATE in text_of(shared)
    assert "state=" not in text_of(shared)


def test_a_proposal_offers_the_invitation_the_answers_and_a_field_for_the_place():
    card = cards.render(confirmation(), PRIVATE)
    titles = {a["title"]: a for a in actions(card)}
    (facts,) = [b for b in card["body"] if b["type"] == "FactSet"]

    download = titles["Add to calendar (.ics)"]
    assert download["type"] == "Action.OpenUrl"
    assert download["url"].startswith(f"{BASE}/invitations/")
    assert download["url"].endswith(".ics")
    assert isinstance(
        CODEC.open(download["url"].split("/")[-1].removesuffix(".ics")), DownloadInvitation
    )
    assert isinstance(CODEC.open(titles["Accept"]["data"]["pt"]), AcceptMeeting)
    assert titles["Decline"]["style"] == "destructive"
    assert isinstance(CODEC.open(titles["Other times"]["data"]["pt"]), OtherTimes)
    (field,) = [i for i in card_reading.inputs(card) if i["type"] == "Input.Text"]
    assert field["id"] == "ptText"
    assert isinstance(CODEC.open(titles["Save"]["data"]["pt"]), SetPlace)
    shown = {f["title"]: f["value"] for f in facts["facts"]}
    assert shown["When"] == "Monday 2 March, 09:00\u201310:00"
    assert shown["Time zone"] == "Europe/Berlin (UTC+01:00)"
    assert shown["Where"].startswith("https://teams.example.org/")
    cancelled = cards.render(confirmation(cancelled=True), PRIVATE)
    assert [a["title"] for a in actions(cancelled)] == ["Remove from calendar (.ics)"]


def test_my_meetings_list_each_with_its_buttons():
    listing = MeetingList(
        "Your upcoming meetings",
        BERLIN,
        tuple(
            MeetingItem(
                f"Mentoring: {NAMES[0]} and {NAMES[i]}",
                MONDAY + timedelta(days=i),
                MONDAY + timedelta(days=i, hours=1),
                (NAMES[i],),
                "Confirmed.",
                buttons=(
                    Button("Move", CODEC.seal(MoveMeeting(f"m{i}"))),
                    Button(
                        "Cancel meeting", CODEC.seal(CancelMeeting(f"m{i}")), ButtonStyle.DANGER
                    ),
                ),
            )
            for i in range(1, 11)
        ),
    )
    card = cards.render(listing, PRIVATE)
    assert [a["title"] for a in actions(card)] == ["Move", "Cancel meeting"] * 10
    assert cards.size_of(card) < cards.MAX_CARD_BYTES
    empty = cards.render(MeetingList("Your upcoming meetings", BERLIN, ()), PRIVATE)
    assert "You have no upcoming meetings booked through Pairtime." in text_of(empty)


def test_the_welcome_says_what_pairtime_does_in_three_lines():
    personal = cards.welcome(PROMPT, PRIVATE)
    team = cards.welcome(None, SHARED)

    lines = [b["text"] for b in personal["body"] if b["type"] == "TextBlock"]
    assert len(lines) == 3
    assert [a["title"] for a in actions(personal)] == [link.label for link in PROMPT.links]
    (button,) = actions(team)
    assert button["data"] == {"say": "connect"}
    # An admin, in the personal chat, is offered the console: the button says "admin".
    console = actions(cards.welcome(PROMPT, PRIVATE, admin=True))[-1]
    assert console["title"] == "Open the admin console"
    assert console["data"] == {"say": "admin"}
    assert "admin" not in text_of(cards.welcome(None, SHARED, admin=True))


def test_the_poll_shows_each_time_in_every_readers_own_zone():
    card = cards.render(largest_poll(), SHARED)
    text = text_of(card)

    assert "times in your own time zone" in card["body"][1]["text"]
    # Adaptive Cards' DATE/TIME functions: the reader's Teams client writes them in its zone
    assert "{{DATE(2026-03-02T08:00:00Z, SHORT)}}, {{TIME(2026-03-02T08:00:00Z)}}" in text
    assert f"{cards.EN_DASH}{{{{TIME(2026-03-02T08:45:00Z)}}}}" in text
    assert "Voting closes {{DATE(2026-03-03T08:00:00Z, SHORT)}} at" in text
    assert "Europe/Berlin" not in text  # the organiser's zone is nobody else's
    assert text.count("37 yes, 12 if need be, 44 busy") == 8
    assert "31 of 50 invitees have connected calendars." in text


def test_the_poll_votes_and_organiser_buttons_carry_signed_references():
    card = cards.render(largest_poll(), SHARED)
    execute = [a for a in actions(card) if a["type"] == "Action.Execute"]

    titles = [a["title"] for a in execute]
    assert titles == ["Yes", "If need be"] * 8 + [
        "Close and book",
        "Cancel poll",
        "Connect my calendar",
    ]
    kinds = [CODEC.open(a["data"]["pt"]) for a in execute]
    assert kinds[:2] == [Vote(POLL, 1000, Choice.YES), Vote(POLL, 1000, Choice.IF_NEED_BE)]
    assert all(a["fallback"]["data"] == a["data"] for a in execute)
    assert not [a for a in actions(card) if a["type"] == "Action.OpenUrl"]  # links are personal


def test_a_closed_poll_shows_the_winner_and_the_result_without_buttons():
    card = cards.render(largest_poll("closed"), SHARED)
    winners = [b for b in card["body"] if b.get("style") == "good"]

    assert len(winners) == 1
    assert "{{DATE(2026-03-04T10:00:00Z, SHORT)}}" in text_of(winners[0])
    assert "Winner" in text_of(winners[0])
    marked = [b for b in card["body"] if "Tied" in text_of(b)]
    assert len(marked) == 1
    assert "{{DATE(2026-03-07T10:00:00Z, SHORT)}}" in text_of(marked[0])
    assert "This poll is closed." in text_of(card)
    assert "the earliest was booked." in text_of(card)
    assert "Voting closes" not in text_of(card)
    assert not actions(card)
    cancelled = cards.render(largest_poll("cancelled"), SHARED)
    assert text_of(cancelled).count("cancelled") == 1  # core's words, said once
    assert not actions(cancelled)


def test_the_draft_lists_times_in_the_organisers_zone_with_a_field_for_another():
    card = cards.render(largest_draft(), CardOptions(BASE))
    text = text_of(card)

    assert card["body"][0]["text"] == f"Draft poll: {POLL_TITLE}"
    assert "45 minutes · times in Europe/Berlin (UTC+01:00)" in text
    assert f"Mon 2 Mar, 09:00{cards.EN_DASH}09:45" in text  # 08:00 UTC in Berlin
    removes = [a for a in actions(card) if a["title"] == "Remove"]
    assert [CODEC.open(a["data"]["pt"]) for a in removes] == [
        EditPoll(POLL, PollOp.REMOVE, option=n) for n in range(1000, 1008)
    ]
    inputs = {node["id"]: node for node in card_reading.inputs(card)}
    assert inputs[translate.DATE_INPUT]["type"] == "Input.Date"
    assert inputs[translate.TIME_INPUT]["type"] == "Input.Time"
    assert "Europe/Berlin" in inputs[translate.TIME_INPUT]["label"]
    (add,) = [a for a in actions(card) if a["title"] == "Add"]
    assert CODEC.open(add["data"]["pt"]) == EditPoll(POLL, PollOp.ADD)
    assert "Deadline: Tue 3 Mar, 09:00" in text
    assert [a["title"] for a in actions(card)][-2:] == ["Post poll", "Discard"]


def test_the_draft_ticks_the_chosen_deadline_and_lists_required_attendees_to_toggle():
    draft = largest_draft()
    card = cards.render(draft, CardOptions(BASE))
    titles = [a["title"] for a in actions(card)]

    deadlines = [t for t in titles if "deadline" in t or t.startswith(("✓", "In "))]
    assert deadlines == ["No deadline", "✓ In 1 day", "In 2 days", "In 1 week"]
    inputs = {node["id"]: node for node in card_reading.inputs(card)}
    make, release = inputs[translate.REQUIRE_INPUT], inputs[translate.RELEASE_INPUT]
    assert make["isMultiSelect"]
    assert release["isMultiSelect"]
    assert [c["title"] for c in release["choices"]] == FIFTY[:10]  # the ten required now
    assert [c["title"] for c in make["choices"]] == FIFTY[10:]
    # Each choice's value is core's own toggle for that person: ticking one acts as a click
    assert [c["value"] for c in make["choices"]] == [b.action for b in draft.required[10:]]
    assert make["style"] == "compact"  # forty people: a drop-down list
    (update,) = [a for a in actions(card) if a["title"] == "Update required attendees"]
    assert update["data"] == {translate.APPLY: 1}


def test_a_small_draft_shows_check_boxes():
    draft = largest_draft()
    small = replace(draft, required=draft.required[10:14], required_names=())
    card = cards.render(small, CardOptions(BASE))
    inputs = {node["id"]: node for node in card_reading.inputs(card)}

    assert inputs[translate.REQUIRE_INPUT]["style"] == "expanded"
    assert translate.RELEASE_INPUT not in inputs  # nobody is required yet
    assert "Required attendees: nobody" in text_of(card)


# ---------------------------------------------------------------------- Teams' limits


def test_every_card_is_under_teams_size_limit_with_the_largest_data():
    sizes = {name: cards.size_of(card) for name, card in every_card().items()}
    print(json.dumps(sizes))
    assert all(size < cards.MAX_CARD_BYTES for size in sizes.values()), sizes
    assert sizes["picker"] > 5_000  # the data really is large
    assert sizes["poll"] > 10_000  # fifty invitees, eight times
    assert sizes["poll-draft"] > 20_000


def test_no_action_set_holds_more_than_teams_allows():
    for name, card in every_card().items():
        for node in of_type(card, "ActionSet", "AdaptiveCard"):
            assert len(node.get("actions", [])) <= 6, name


@pytest.mark.validators
def test_every_card_renders_cleanly_in_teams_host_config(tmp_path: Path):
    """The official renderer with Teams' host config, plus the Teams card types. PNGs are
    written under $TMPDIR/pairtime-cards/ for a person to look at."""
    if validators() is None:
        pytest.skip("../shared/tools/validators is absent (a plain clone)")
    files = []
    for name, card in every_card().items():
        path = tmp_path / f"teams-{name}.json"
        path.write_text(json.dumps(card, ensure_ascii=False, indent=1), encoding="utf-8")
        files.append(path)

    result = validate("card", *files)

    print(result.stdout)
    assert result.returncode == 0, result.stdout + result.stderr
    out = Path(os.environ.get("TMPDIR", "/tmp")) / "pairtime-cards"
    assert all((out / f"{path.stem}.png").is_file() for path in files)
