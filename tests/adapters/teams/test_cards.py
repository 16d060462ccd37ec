"""Core views as Adaptive Cards: what they say, and that Teams would take and render them."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from adapters.teams import cards
from adapters.teams.cards import CardOptions
from core.actions import ActionCodec
from core.commands import Provider
from core.program import ProgramSettings
from core.scheduling.info import help_view, settings_view
from core.views import (
    Button,
    ButtonStyle,
    Confirmation,
    ConnectionStatusView,
    ConnectPrompt,
    LinkButton,
    Notice,
    Question,
    SlotChoice,
    SlotPicker,
    Tone,
)
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
    return CODEC.seal("pick", o=OFFER, s=int(start.timestamp()))


def find_again() -> str:
    return CODEC.seal("find", r=PERSON_IDS[0], p=PERSON_IDS[1:], d=60, w=[1, 2], t=[540, 720])


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
        more=Button("More times", CODEC.seal("more", o=OFFER)),
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
        download=CODEC.seal("ics", m=meeting, p=PERSON_IDS[0]),
        cancel=None
        if cancelled
        else Button("Cancel meeting", CODEC.seal("cancel", m=meeting), ButtonStyle.DANGER),
        cancelled=cancelled,
    )


def every_card() -> dict[str, dict]:
    """Each card Pairtime sends to Teams, with the largest data it realistically carries."""
    disconnect = Button("Disconnect", CODEC.seal("disconnect", r=PERSON_IDS[0]), ButtonStyle.DANGER)
    return {
        "picker": cards.render(largest_picker(), PRIVATE),
        "picker-channel": cards.render(largest_picker(KATHMANDU), SHARED),
        "confirmation": cards.render(confirmation(), PRIVATE),
        "confirmation-cancelled": cards.render(confirmation(cancelled=True), PRIVATE),
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
        "settings": cards.render(settings_view(ProgramSettings(), can_edit=True), PRIVATE),
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
        "welcome": cards.welcome(PROMPT, PRIVATE),
        "welcome-team": cards.welcome(None, SHARED),
        "working": cards.working(),
        "error": cards.error(),
    }


def all_actions(card: dict) -> list[dict]:
    found: list[dict] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if str(node.get("type", "")).startswith("Action."):
                found.append(node)
            for key, value in node.items():
                if key != "fallback":
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(card)
    return found


def text_of(card: dict) -> str:
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
        more=Button("More times", CODEC.seal("more", o=OFFER)),
    )

    us = cards.render(picker, CardOptions(BASE, twelve_hour=True))
    europe = cards.render(picker, CardOptions(BASE))

    blocks = [b["text"] for b in us["body"] if b["type"] == "TextBlock"]
    assert blocks[:3] == [
        "Times for you and Maria",
        "30-minute meeting · times in America/New_York (EST)",
        "Monday, March 2",
    ]
    assert "Tuesday, March 3" in blocks
    rows = [b for b in us["body"] if b["type"] == "ActionSet"]
    assert [[a["title"] for a in row["actions"]] for row in rows] == [
        ["8:00 AM", "9:00 AM"],
        ["8:00 AM"],
    ]
    assert "Monday 2 March" in text_of(europe)
    assert [a["title"] for a in all_actions(europe)] == ["08:00", "09:00", "08:00", "More times"]


def test_buttons_carry_the_signed_reference_with_a_submit_fallback():
    card = cards.render(largest_picker(), PRIVATE)
    execute = [a for a in all_actions(card) if a["type"] == "Action.Execute"]

    assert len(execute) == 9  # eight times and "More times"
    for action in execute:
        assert action["verb"] == "pairtime"
        assert CODEC.open(action["data"]["pt"]).kind in {"pick", "more"}
        assert action["fallback"] == {
            "type": "Action.Submit",
            "title": action["title"],
            "data": action["data"],
        }


def test_connect_links_show_only_in_a_personal_chat():
    private = cards.render(largest_picker(), PRIVATE)
    shared = cards.render(largest_picker(), SHARED)

    links = [a["url"] for a in all_actions(private) if a["type"] == "Action.OpenUrl"]
    assert links == [link.url for link in PROMPT.links]
    assert not [a for a in all_actions(shared) if a["type"] == "Action.OpenUrl"]
    assert cards.CONNECT_IN_PRIVATE in text_of(shared)
    assert "state=" not in text_of(shared)


def test_a_confirmation_offers_the_invitation_and_a_cancel_button():
    card = cards.render(confirmation(), PRIVATE)
    actions = all_actions(card)
    (facts,) = [b for b in card["body"] if b["type"] == "FactSet"]

    assert actions[0]["type"] == "Action.OpenUrl"
    assert actions[0]["title"] == "Add to calendar (.ics)"
    assert actions[0]["url"].startswith(f"{BASE}/invitations/")
    assert actions[0]["url"].endswith(".ics")
    assert CODEC.open(actions[0]["url"].split("/")[-1].removesuffix(".ics")).kind == "ics"
    assert actions[1]["title"] == "Cancel meeting"
    assert actions[1]["style"] == "destructive"
    shown = {f["title"]: f["value"] for f in facts["facts"]}
    assert shown["When"] == "Monday 2 March, 09:00\u201310:00"
    assert shown["Time zone"] == "Europe/Berlin (CET)"
    cancelled = cards.render(confirmation(cancelled=True), PRIVATE)
    assert [a["title"] for a in all_actions(cancelled)] == ["Remove from calendar (.ics)"]


def test_zones_with_numeric_abbreviations_read_as_utc_offsets():
    assert cards.zone_label(KATHMANDU, MONDAY) == "Asia/Kathmandu (UTC+05:45)"
    assert cards.zone_label(ZoneInfo("UTC"), MONDAY) == "UTC"
    assert cards.zone_label(BERLIN, MONDAY + timedelta(days=120)) == "Europe/Berlin (CEST)"


def test_the_welcome_says_what_pairtime_does_in_three_lines():
    personal = cards.welcome(PROMPT, PRIVATE)
    team = cards.welcome(None, SHARED)

    lines = [b["text"] for b in personal["body"] if b["type"] == "TextBlock"]
    assert len(lines) == 3
    assert [a["title"] for a in all_actions(personal)] == [link.label for link in PROMPT.links]
    (button,) = all_actions(team)
    assert button["data"] == {"say": "connect"}


def test_views_unknown_to_the_adapter_still_show_their_words():
    class Poster:
        title = "A new kind of view"

    assert cards.render(Poster(), PRIVATE)["body"] == [  # type: ignore[arg-type]
        {"type": "TextBlock", "text": "A new kind of view", "wrap": True}
    ]


# ---------------------------------------------------------------------- Teams' limits


def test_every_card_is_under_teams_size_limit_with_the_largest_data():
    sizes = {name: cards.size_of(card) for name, card in every_card().items()}
    print(json.dumps(sizes))
    assert all(size < cards.MAX_CARD_BYTES for size in sizes.values()), sizes
    assert sizes["picker"] > 5_000  # the data really is large


def test_no_action_set_holds_more_than_teams_allows():
    for name, card in every_card().items():
        for node in _action_sets(card):
            assert len(node["actions"]) <= 6, name


def _action_sets(node: object) -> list[dict]:
    found = []
    if isinstance(node, dict):
        if node.get("type") == "ActionSet" or node.get("type") == "AdaptiveCard":
            found.append({"actions": node.get("actions", [])})
        for value in node.values():
            found.extend(_action_sets(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(_action_sets(item))
    return found


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
