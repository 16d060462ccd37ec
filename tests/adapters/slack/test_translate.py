"""Slack payloads to neutral values, on recorded payloads (tests/adapters/slack/payloads)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from adapters.slack import translate
from core.commands import Intent, Mention
from core.parsing import parse
from core.time import DayTime

PAYLOADS = Path(__file__).parent / "payloads"
NEW_YORK = ZoneInfo("America/New_York")


def payload(name: str) -> Any:
    return json.loads((PAYLOADS / f"{name}.json").read_text())


# ---------------------------------------------------------------------- text


def test_a_slash_command_keeps_mentions_as_user_ids_and_unescapes_what_people_typed():
    command = translate.slash_command(payload("slash_command"))

    assert command.team_id == "T0PAIRTIME"
    assert command.user_id == "U0MENTOR"
    assert command.channel_id == "C0MENTORING"
    assert command.response_url == "https://hooks.slack.com/commands/T0PAIRTIME/1234567890/abcdef"
    assert command.text == "find 45 min with <@U0MENTEE> & <@U0STRANGER> tomorrow afternoon"
    assert translate.mentioned_users(command.text) == ["U0MENTEE", "U0STRANGER"]


def test_the_parser_reads_the_translated_slash_command():
    command = translate.slash_command(payload("slash_command"))
    now = datetime(2026, 11, 25, 15, tzinfo=UTC)

    understood = parse(command.text, NEW_YORK, now)

    assert understood.intent is Intent.FIND_TIME
    assert understood.participants == (Mention("U0MENTEE"), Mention("U0STRANGER"))
    assert understood.duration_minutes == 45


def test_a_mention_reads_channels_and_keeps_the_bot_out_of_the_people():
    event = payload("app_mention")["event"]

    said = translate.message(event)

    assert said.text == (
        "<@U0PAIRBOT> find a time with <@U0MENTEE> next week, see #general \u20393"
    )
    assert said.thread_ts == "1764064700.000050"
    assert said.channel_id == "C0MENTORING"
    assert translate.mentioned_users(said.text, bot_user_id="U0PAIRBOT") == ["U0MENTEE"]


def test_text_past_slacks_own_limit_is_cut_before_anything_reads_it():
    command = translate.slash_command({"text": "x" * 900_000, "user_id": "U1"})
    said = translate.message({"text": "&lt;" * 100_000, "user": "U1"})  # as Slack escapes "<"
    assert len(command.text) == translate.MAX_TEXT
    assert said.text == "\u2039" * (translate.MAX_TEXT // len("&lt;"))  # cut as sent


def test_a_message_mentioning_thousands_is_looked_up_for_its_first_fifty():
    """Each mention costs a users.info call before core reads the message."""
    text = " ".join(f"<@U{n:08d}>" for n in range(3500)) + " <@U00000001>"
    found = translate.mentioned_users(text, bot_user_id="U00000002")
    assert len(found) == translate.MAX_MENTIONS
    assert found[:3] == ["U00000000", "U00000001", "U00000003"]


def test_links_become_their_labels_and_a_typed_mention_names_nobody():
    said = translate.message(payload("message_im")["event"])
    typed = translate.plain_text("meet &lt;@U0ROBBER&gt; at <!here> and <!subteam^S1|@mentors>")

    assert said.text == "connect my calendar the help page or alex@example.org"
    assert typed == "meet \u2039@U0ROBBER\u203a at @here and @mentors"
    assert translate.mentioned_users(typed) == []
    assert translate.plain_text("<mailto:ana@example.org>") == "ana@example.org"
    assert translate.plain_text("<!date^1764064800^{date}|Nov 25>") == "Nov 25"


def test_only_a_persons_own_new_direct_message_is_a_direct_message():
    event = payload("message_im")["event"]

    assert translate.is_direct_message(event)
    assert not translate.is_direct_message(payload("message_im_edited"))
    assert not translate.is_direct_message(event | {"bot_id": "B0OTHER"})
    assert not translate.is_direct_message(event | {"channel_type": "channel"})
    assert not translate.is_direct_message(event | {"subtype": "file_share"})


def test_mentions_are_listed_once_in_order():
    text = "<@U2> and <@U1|one> and <@U2|two> and <@UBOT>"

    assert translate.mentioned_users(text, bot_user_id="UBOT") == ["U2", "U1"]


def test_a_users_info_profile_gives_name_email_zone_and_handle():
    user = payload("users_info")["user"]

    profile = translate.profile_of(user)

    assert (profile.name, profile.email, profile.timezone, profile.handle) == (
        "Maria Lopez",
        "maria@example.org",
        "Europe/Madrid",
        "maria",
    )
    bare = translate.profile_of({"id": "U9", "name": "ghost", "profile": {}})
    assert (bare.name, bare.email, bare.timezone, bare.handle) == ("ghost", None, None, "ghost")


def test_programs_are_workspaces():
    program = translate.program_for("T0PAIRTIME")

    assert program == "slack:T0PAIRTIME"
    assert translate.team_of(program) == "T0PAIRTIME"
    assert translate.team_of(translate.program_for("")) is None


# ---------------------------------------------------------------------- clicks


def test_a_click_in_a_message_carries_its_value_and_where_to_answer():
    clicked = translate.click(payload("block_actions_message"))

    assert clicked is not None
    assert clicked.user_id == "U0MENTEE"
    assert clicked.action_id == "pt:pick:3"
    assert clicked.value == "eyJrIjoicGljayJ9.c2lnbmF0dXJl"
    assert clicked.response_url == "https://hooks.slack.com/actions/T0PAIRTIME/2222/xyz"
    assert (clicked.channel_id, clicked.message_ts) == ("D0MARIADM", "1764065000.000400")
    assert not clicked.in_view


def test_a_click_in_app_home_has_no_response_url():
    clicked = translate.click(payload("block_actions_home"))

    assert clicked is not None
    assert clicked.in_view
    assert clicked.action_id == translate.HOME_CONNECT
    assert clicked.value is None
    assert clicked.response_url is None
    assert clicked.trigger_id == "13345224609.738474920.8088930838d88f008e2"
    assert translate.click({"type": "block_actions", "actions": []}) is None


# ---------------------------------------------------------------------- the modal


def submission_values(**changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = payload("view_submission")["view"]["state"]["values"]
    values.update(changes)
    return values


def test_the_submitted_form_is_read_field_by_field():
    view = payload("view_submission")["view"]

    form = translate.find_time_form(view["state"]["values"])

    assert form == translate.FindTimeForm(
        people=("U0MENTOR", "U0MENTEE"),
        duration_minutes=45,
        first_day=date(2026, 11, 26),
        last_day=date(2026, 11, 27),
        part_of_day="afternoon",
    )
    assert translate.modal_zone(view["private_metadata"]) == NEW_YORK


def test_a_valid_form_becomes_a_find_time_command_in_the_submitters_zone():
    form = translate.find_time_form(submission_values())
    now = datetime(2026, 11, 25, 15, tzinfo=UTC)

    assert translate.form_errors(form, submitter="U0MENTOR", today=date(2026, 11, 25)) == {}
    command = translate.find_time_command(form, submitter="U0MENTOR", zone=NEW_YORK, now=now)

    assert command.intent is Intent.FIND_TIME
    assert command.participants == (Mention("U0MENTEE"),)
    assert (command.duration_minutes, command.duration_given) == (45, True)
    assert command.window is not None
    # Thursday 00:00 to Saturday 00:00 in New York (UTC-5 in November).
    assert command.window.start == datetime(2026, 11, 26, 5, tzinfo=UTC)
    assert command.window.end == datetime(2026, 11, 28, 5, tzinfo=UTC)
    assert command.time_of_day is not None
    assert (command.time_of_day.start, command.time_of_day.end) == (DayTime.of(12), DayTime.of(17))


def test_a_form_starting_today_starts_now():
    form = translate.find_time_form(
        submission_values(
            **{"from": {"date": {"type": "datepicker", "selected_date": "2026-11-25"}}}
        )
    )
    now = datetime(2026, 11, 25, 15, 7, tzinfo=UTC)

    command = translate.find_time_command(form, submitter="U0MENTOR", zone=NEW_YORK, now=now)

    assert command.window is not None
    assert command.window.start == now


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        (
            {"people": {"users": {"selected_users": ["U0MENTOR"]}}},
            {"people": "Choose at least one person other than yourself."},
        ),
        (
            {"until": {"date": {"selected_date": "2026-11-25"}}},
            {"until": "The last day must be on or after the first day."},
        ),
        (
            {
                "from": {"date": {"selected_date": "2026-11-20"}},
                "until": {"date": {"selected_date": "2026-11-21"}},
            },
            {
                "from": "That day has passed. Choose today or a later day.",
                "until": "That day has passed. Choose today or a later day.",
            },
        ),
        (
            {"until": {"date": {"selected_date": "2027-03-01"}}},
            {"until": "Choose at most 62 days."},
        ),
        (
            {"duration": {"minutes": {"selected_option": {"value": "7"}}}, "from": {"date": {}}},
            {"duration": "Choose how long the meeting is.", "from": "Choose the first day."},
        ),
    ],
    ids=["only-yourself", "end-before-start", "past", "too-long", "missing"],
)
def test_invalid_forms_get_an_error_under_each_wrong_field(changes, errors):
    form = translate.find_time_form(submission_values(**changes))

    assert translate.form_errors(form, submitter="U0MENTOR", today=date(2026, 11, 25)) == errors


def test_modal_metadata_round_trips_and_tolerates_garbage():
    assert translate.modal_zone(translate.modal_metadata(NEW_YORK)) == NEW_YORK
    assert translate.modal_zone("not json") == ZoneInfo("UTC")
    assert translate.modal_zone('{"tz": "Mars/Olympus"}', "Europe/Paris") == ZoneInfo(
        "Europe/Paris"
    )
