"""Account identifiers are shown masked: enough for their owner to recognise."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from core.commands import Intent
from core.parsing import parse
from core.privacy import masked, mentions, scrubbed

UTC_ZONE = ZoneInfo("UTC")
NOW = datetime(2026, 12, 5, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    ("identifier", "shown"),
    [
        ("maria@icloud.com", "m•••@icloud.com"),
        (" Ana.Lima@Example.org ", "A•••@Example.org"),
        ("svc-mentoring", "s•••"),
        ("a@b@c.example", "a•••@c.example"),  # the last @ separates the domain
        ("@example.org", "•••"),  # nothing before the domain: nothing of it shown
        ("", "•••"),
    ],
)
def test_an_identifier_keeps_its_first_character_and_domain(identifier: str, shown: str):
    assert masked(identifier) == shown


@pytest.mark.parametrize(
    "text",
    [
        "forget me",
        "Please delete my data",
        "remove me from Pairtime",
        "erase all my data",
        "forget everything about me",
        "delete my account",
        "wipe my profile",
        "remove me from the program, thanks",
        "delete me",
    ],
)
def test_asking_to_be_forgotten_is_understood(text: str):
    assert parse(text, UTC_ZONE, NOW).intent is Intent.FORGET_ME


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("remove my calendar", Intent.DISCONNECT),
        ("forget my google calendar", Intent.DISCONNECT),
        ("remove me from the meeting with @sam", Intent.CANCEL_MEETING),
        ("cancel my meeting with Sam", Intent.CANCEL_MEETING),
    ],
)
def test_removing_something_else_is_not_forgetting(text: str, intent: Intent):
    assert parse(text, UTC_ZONE, NOW).intent is intent


def test_a_forgotten_name_is_scrubbed_whole_and_in_any_case():
    text = "Pair Maria Lopez → Ben; maria@example.org asked; MARIA said hi; Mariachi band"
    names = ("Maria Lopez", "maria@example.org", "Maria")
    assert scrubbed(text, names) == (
        "Pair a former participant → Ben; a former participant asked; "
        "a former participant said hi; Mariachi band"
    )


def test_a_name_is_mentioned_only_as_a_whole_word():
    names = ("Sam Lee", "sam@example.org", "U0SAM")
    assert mentions('{"to": "SAM@example.org"}', names)
    assert mentions("Mentoring: Ana and Sam Lee", names)
    assert not mentions("Mentoring: Ana and Samantha Leeds", names)
    assert not mentions('{"user": "U0SAMUEL"}', names)
