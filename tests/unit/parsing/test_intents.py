"""Intent keywords, their order of precedence, and calendar providers."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from core.commands import Intent, Provider
from core.parsing import parse
from core.parsing.intents import (
    intent_named,
    meeting_change,
    provider_named,
    unsupported_request,
)
from core.parsing.text import normalize


def intent(text: str, has_participants: bool = False) -> Intent | None:
    return intent_named(normalize(text), has_participants=has_participants)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", Intent.HELP),
        ("?", Intent.HELP),
        ("hey, thanks!", Intent.HELP),
        ("help", Intent.HELP),
        ("how does this work", Intent.HELP),
        ("help me find a time", Intent.FIND_TIME),
        ("how do I connect my calendar?", Intent.CONNECT),
        ("is my calendar connected?", Intent.STATUS),
        ("connect my calendar", Intent.CONNECT),
        ("disconnect my calendar", Intent.DISCONNECT),
        ("remove my google calendar", Intent.DISCONNECT),
        ("create a poll to find a time", Intent.POLL),
        ("what are the scheduling rules?", Intent.SETTINGS),
        ("when are we both free?", Intent.FIND_TIME),
        ("book a 1:1", Intent.FIND_TIME),
        ("sometime next week", None),
    ],
)
def test_intents(text, expected):
    assert intent(text) is expected


def test_weak_connect_verbs_need_a_message_without_people():
    assert intent("add my google calendar") is Intent.CONNECT
    assert intent("find a time and add it to my calendar", has_participants=True) is (
        Intent.FIND_TIME
    )
    assert intent("sync my outlook calendar", has_participants=True) is Intent.FIND_TIME
    assert intent("connect my outlook calendar", has_participants=True) is Intent.CONNECT
    # No keyword: parse() makes it find_time because it names someone.
    assert intent("connect with my mentee", has_participants=True) is None


@pytest.mark.parametrize(
    ("text", "provider"),
    [
        ("google", Provider.GOOGLE),
        ("gmail", Provider.GOOGLE),
        ("g suite", Provider.GOOGLE),
        ("outlook", Provider.MICROSOFT),
        ("outlook.com", Provider.MICROSOFT),
        ("office 365", Provider.MICROSOFT),
        ("office365", Provider.MICROSOFT),
        ("microsoft", Provider.MICROSOFT),
        ("exchange", Provider.MICROSOFT),
        ("hotmail", Provider.MICROSOFT),
        ("icloud", Provider.ICLOUD),
        ("ical", Provider.ICLOUD),
        ("apple", Provider.ICLOUD),
        ("my calendar", None),
        ("technical", None),
        ("outlook or google", Provider.MICROSOFT),
    ],
)
def test_providers(text, provider):
    assert provider_named(text) is provider


@pytest.mark.parametrize(
    ("text", "has_people", "intent"),
    [
        ("cancel my meeting with my mentee", True, Intent.CANCEL_MEETING),
        ("call off tomorrow's session", False, Intent.CANCEL_MEETING),
        ("remove the meeting from my calendar", False, Intent.CANCEL_MEETING),
        ("cancel", False, Intent.CANCEL_MEETING),
        ("move my meeting with sam to thursday", True, Intent.MOVE_MEETING),
        ("reschedule our call", False, Intent.MOVE_MEETING),
        ("can we push back the 1:1", False, Intent.MOVE_MEETING),
        ("delete my calendar", False, None),
        ("cancel the poll", False, None),
        ("find a time to meet", False, None),
        ("move forward with the plan", False, None),
    ],
)
def test_cancelling_and_moving_are_not_finding_a_time(text, has_people, intent):
    assert meeting_change(text, has_participants=has_people) is intent


def test_cancelling_a_poll_is_its_buttons_job():
    assert unsupported_request("cancel the poll") is not None
    assert unsupported_request("cancel my meeting") is None


@pytest.mark.parametrize(
    "text",
    ["my meetings", "what meetings do i have?", "show me my bookings", "upcoming sessions"],
)
def test_asking_for_my_meetings(text):
    assert intent_named(text, has_participants=False) is Intent.MY_MEETINGS


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("don't use my organisation calendar", Intent.ORGANISATION_OFF),
        ("Please do not read my company calendar", Intent.ORGANISATION_OFF),
        ("stop using my work calendar", Intent.ORGANISATION_OFF),
        ("opt me out of the organization calendar", Intent.ORGANISATION_OFF),
        ("use my organisation calendar", Intent.ORGANISATION_ON),
        ("use my organization calendar again", Intent.ORGANISATION_ON),
        ("opt back in to my org calendar", Intent.ORGANISATION_ON),
        # Personal calendars keep their own intents.
        ("stop using my google calendar", Intent.DISCONNECT),
        ("use my google calendar", Intent.CONNECT),
        ("don't book Friday with my mentee", Intent.FIND_TIME),
    ],
)
def test_opting_out_of_and_back_into_the_organisation_calendar(text, expected):
    assert parse(text, ZoneInfo("UTC"), datetime(2026, 11, 25, tzinfo=UTC)).intent is expected
