"""Core views as Block Kit: what people see, and Slack's limits kept with the largest data."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from adapters.slack import render, translate
from core.actions import ActionCodec, PickSlot
from core.scheduling.info import help_view
from core.views import MeetingList, Notice, Tone
from tests.adapters.slack import examples
from tests.adapters.slack.harness import buttons

DATE_TOKEN = re.compile(r"<!date\^(\d+)\^([^|>]+)\|([^>]+)>")


def all_text(payload: Any) -> str:
    return json.dumps(payload, ensure_ascii=False)


def limits_problems(payload: dict[str, Any], max_blocks: int) -> list[str]:
    """Slack's limits, checked here too so a plain clone (without ../shared) tests them."""
    problems = []
    blocks = payload["blocks"]
    if len(blocks) > max_blocks:
        problems.append(f"{len(blocks)} blocks")
    action_ids = []
    for block in blocks:
        text = (block.get("text") or {}).get("text", "")
        if len(text) > render.SECTION_TEXT:
            problems.append("section text")
        if len(block.get("fields", [])) > render.FIELDS:
            problems.append("fields")
        if block["type"] == "actions" and len(block["elements"]) > render.ACTIONS_ELEMENTS:
            problems.append("actions elements")
        if block["type"] == "context" and len(block["elements"]) > render.CONTEXT_ELEMENTS:
            problems.append("context elements")
    for element in buttons(blocks):
        action_ids.append(element["action_id"])
        if len(element["text"]["text"]) > render.BUTTON_TEXT:
            problems.append("button text")
        if len(element.get("value", "")) > render.BUTTON_VALUE:
            problems.append("button value")
        if len(element["action_id"]) > render.ACTION_ID:
            problems.append("action_id")
    if len(action_ids) != len(set(action_ids)):
        problems.append("duplicate action_id")
    return problems


# ---------------------------------------------------------------------- the slot picker


def test_a_picker_groups_times_by_day_each_with_a_button_carrying_its_reference():
    picker = examples.picker(count=8, days=3)

    payload = render.message(picker)

    picks = [b for b in buttons(payload["blocks"]) if b["action_id"].startswith("pt:pick:")]
    assert [b["value"] for b in picks] == [choice.action for choice in picker.slots]
    assert [b["action_id"] for b in picks] == [f"pt:pick:{i}" for i in range(8)]
    day_headers = [
        block["text"]["text"]
        for block in payload["blocks"]
        if block["type"] == "section" and "{date_long_pretty}" in block["text"]["text"]
    ]
    assert [DATE_TOKEN.search(h).group(3) for h in day_headers] == [  # type: ignore[union-attr]
        "Monday 30 November",
        "Tuesday 1 December",
        "Wednesday 2 December",
    ]


def test_times_are_slack_dates_with_the_viewers_zone_as_fallback():
    picker = examples.picker(count=1, days=1)
    slot = picker.slots[0]  # 08:00 UTC, 09:00 in Madrid

    payload = render.message(picker)

    row = next(b for b in payload["blocks"] if b.get("accessory", {}).get("value") == slot.action)
    tokens = DATE_TOKEN.findall(row["text"]["text"])
    assert tokens == [
        (str(int(slot.start.timestamp())), "{time}", "09:00"),
        (str(int(slot.end.timestamp())), "{time}", "09:45"),
    ]


def test_a_picker_states_the_duration_the_unchecked_calendars_and_more_times():
    payload = render.message(examples.picker())
    text = all_text(payload)

    assert "A meeting of 45 minutes." in text
    assert "Sam O'Connor hasn't connected a calendar, so their times are not checked." in text
    assert "Times are shown in UTC, because your chat profile has no time zone." in text
    more = next(b for b in buttons(payload["blocks"]) if b["action_id"] == "pt:more")
    assert more["text"]["text"] == "More times (57 left)"
    links = [b for b in buttons(payload["blocks"]) if "url" in b]
    assert [b["text"]["text"] for b in links] == [
        "Connect Google",
        "Connect Microsoft 365 / Outlook.com",
        "Connect iCloud",
    ]
    assert all(b["action_id"].startswith(translate.LINK_ACTION) for b in links)


def test_more_times_than_fit_one_message_fall_back_to_rows_of_time_buttons():
    picker = examples.picker(count=120, days=14)

    payload = render.message(picker)

    assert limits_problems(payload, render.MESSAGE_BLOCKS) == []
    picks = [b for b in buttons(payload["blocks"]) if b["action_id"].startswith("pt:pick:")]
    assert len(picks) == 120  # 14 day lines and 14 rows of buttons still fit
    assert picks[0]["text"]["text"] == "09:00"


def test_even_more_times_are_cut_with_a_line_saying_so():
    payload = render.message(examples.picker(count=400, days=40))

    assert limits_problems(payload, render.MESSAGE_BLOCKS) == []
    assert "More times were found than fit here" in all_text(payload)


# ---------------------------------------------------------------------- other views


def test_a_confirmation_shows_when_with_whom_where_and_what_may_be_done():
    view = examples.confirmation()

    payload = render.message(view)

    move, cancel = buttons(payload["blocks"])
    assert (move["text"]["text"], move["value"]) == ("Move", view.buttons[0].action)
    assert cancel["value"] == view.buttons[1].action
    assert cancel["style"] == "danger"
    assert "confirm" not in cancel  # core asks before cancelling, on every platform
    text = all_text(payload)
    assert "{date_short_pretty} {time}|Mon 30 Nov 15:00>" in text
    assert "Ana &lt;script&gt; &amp; Lima" in text  # names cannot inject markup
    assert "<script>" not in text
    assert "attached below" in text
    (where,) = [
        f["text"] for b in payload["blocks"] for f in b.get("fields", []) if "Where" in f["text"]
    ]
    assert where.startswith("*Where*\n<https://meet.example.org/abc-defg-hij")
    assert "no invitation was emailed" in text
    assert payload["text"].startswith(view.headline)


def test_a_proposal_asks_the_partner_and_takes_a_place_with_enter():
    view = examples.proposal()

    payload = render.message(view)

    assert [b["text"]["text"] for b in buttons(payload["blocks"])] == [
        "Accept",
        "Decline",
        "Other times",
    ]
    (field,) = [b for b in payload["blocks"] if b["type"] == "input"]
    assert field["dispatch_action"] is True
    assert field["block_id"] == "pt:" + view.place.action  # type: ignore[union-attr]
    assert field["element"]["action_id"] == "pt:text"
    text = all_text(payload)
    assert ":hourglass:" in text
    assert "Room 4B &lt;north wing&gt; &amp; café" in text


def test_my_meetings_fit_one_message_and_say_how_many_more():
    payload = render.message(examples.meetings(30))
    assert len(payload["blocks"]) <= render.MESSAGE_BLOCKS
    assert "more" in payload["blocks"][-1]["elements"][0]["text"]
    empty = render.message(MeetingList("Your upcoming meetings", examples.MADRID, ()))
    assert "no upcoming meetings" in all_text(empty)


def test_a_cancelled_meeting_is_struck_through_and_has_no_buttons():
    payload = render.message(examples.confirmation(cancelled=True))

    assert buttons(payload["blocks"]) == []
    assert "*When*\\n~<!date^" in all_text(payload)


def test_a_poll_marks_the_winner_and_a_tied_time():
    text = all_text(render.message(examples.poll()))

    assert text.count(":trophy: ") == 1
    assert text.count(" · tied") == 1
    assert text.index(":trophy: ") < text.index(" · tied")  # option 3 wins, 5 tied


def test_help_answers_with_examples_and_the_hint_first():
    payload = render.message(help_view("I didn't catch what you'd like to do."))

    first = payload["blocks"][0]["text"]["text"]
    assert first == "I didn't catch what you'd like to do."
    assert "• `find a time with my mentee next week`" in all_text(payload)
    assert payload["text"] == "I didn't catch what you'd like to do."


def test_a_notice_shows_its_tone_and_buttons():
    payload = render.message(examples.notice())

    assert payload["blocks"][0]["text"]["text"].startswith(":warning: I couldn't find")
    ids = [b["action_id"] for b in buttons(payload["blocks"])]
    assert ids == ["pt:btn:0", "pt:btn:1", "pt:btn:2", "pt:link:btn:3"]
    assert render.failure()["text"] == render.FAILURE


def test_a_question_with_many_answers_uses_several_rows():
    payload = render.message(examples.question(30))

    rows = [b for b in payload["blocks"] if b["type"] == "actions"]
    assert [len(r["elements"]) for r in rows] == [25, 5]
    assert limits_problems(payload, render.MESSAGE_BLOCKS) == []


@pytest.mark.parametrize(
    "view",
    [
        examples.picker(),
        examples.picker(count=120, days=14),
        examples.confirmation(),
        examples.connect_prompt(),
        examples.status(),
        examples.status(reconnect=True),
        examples.question(60),
        examples.notice(),
        examples.poll(),
        examples.poll_draft(),
        help_view("hint"),
        Notice("x" * 5000, Tone.ERROR),
    ],
    ids=lambda view: type(view).__name__,
)
def test_every_message_stays_within_slacks_limits(view):
    assert limits_problems(render.message(view), render.MESSAGE_BLOCKS) == []


# ---------------------------------------------------------------------- App Home and the modal


def test_app_home_shows_status_meetings_partners_help_and_rules_for_admins():
    content = examples.home()

    view = render.home(content)

    assert view["type"] == "home"
    assert limits_problems(view, render.VIEW_BLOCKS) == []
    text = all_text(view)
    assert "needs to be reconnected" in text
    assert "Your upcoming meetings" in text
    assert "…and 30 more. Say “my meetings” in our DM." in text  # 40 meetings, 10 shown
    moves = [b for b in buttons(view["blocks"]) if b["text"]["text"] == "Move"]
    cancels = [b for b in buttons(view["blocks"]) if b["text"]["text"] == "Cancel meeting"]
    assert len(moves) == len(cancels) == render.HOME_MEETINGS
    assert len({b["action_id"] for b in moves + cancels}) == 2 * render.HOME_MEETINGS
    assert "Program rules" in text
    ids = [b["action_id"] for b in buttons(view["blocks"])]
    assert ids[:2] == [translate.HOME_CONNECT, "pt:disconnect"]
    finds = [b for b in buttons(view["blocks"]) if b["action_id"].startswith(translate.HOME_FIND)]
    assert [b["value"] for b in finds] == [f"U0PARTNER{i:02d}" for i in range(render.HOME_PARTNERS)]


def test_app_home_hides_the_rules_from_everyone_else():
    assert "Program rules" not in all_text(render.home(examples.home(admin=False)))


def test_the_modal_asks_for_people_length_days_and_time_of_day_in_the_persons_zone():
    modal = examples.modal()

    assert modal["callback_id"] == translate.FIND_TIME_CALLBACK
    blocks = {block.get("block_id"): block for block in modal["blocks"]}
    assert blocks["people"]["element"]["initial_users"] == ["U0MENTEE"]
    assert blocks["duration"]["element"]["initial_option"]["value"] == "45"
    assert blocks["from"]["element"]["initial_date"] == "2026-11-25"
    assert blocks["until"]["element"]["initial_date"] == "2026-12-08"
    assert [o["value"] for o in blocks["time_of_day"]["element"]["options"]] == [
        "any",
        "morning",
        "afternoon",
        "evening",
    ]
    assert translate.modal_zone(modal["private_metadata"]) == examples.MADRID


def test_a_reference_too_long_for_a_button_is_refused_rather_than_cut():
    codec = ActionCodec([b"k"])
    too_long = codec.seal(PickSlot("x" * 2000, examples.MONDAY))

    with pytest.raises(ValueError, match="longer than Slack accepts"):
        render.button("Choose", "pt:pick:0", value=too_long)


def test_clock_and_day_names_follow_the_zone():
    start = examples.MONDAY.replace(hour=23)  # 23:00 UTC: already Tuesday in Madrid

    assert render.clock(start, examples.MADRID) == "00:00"
    assert render.day_name(start, examples.MADRID) == "Tuesday 1 December"
    assert render.short_time(start, examples.MADRID) == "Tue 1 Dec 00:00"
