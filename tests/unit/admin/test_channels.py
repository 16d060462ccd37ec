"""A circle's channel: an id, or a link from Slack's or Teams' own hosts, and nothing else."""

from __future__ import annotations

import pytest

from core.admin.roster import channel_id, reference_problem
from core.errors import RosterError


@pytest.mark.parametrize(
    ("given", "found"),
    [
        ("C0123ABCD", "C0123ABCD"),
        ("https://acme.slack.com/archives/C0123ABCD", "C0123ABCD"),
        ("https://acme.slack.com/archives/C0123ABCD/p1700000000000100", "C0123ABCD"),
        ("https://app.slack.com/client/T0123/C0456DEF", "C0456DEF"),
        ("19:abc@thread.tacv2", "19:abc@thread.tacv2"),
        (
            "https://teams.microsoft.com/l/channel/19%3aabc%40thread.tacv2/General?groupId=g",
            "19:abc@thread.tacv2",
        ),
        (
            "https://teams.cloud.microsoft/l/channel/19%3Axyz%40thread.skype/x",
            "19:xyz@thread.skype",
        ),
        ("circle", "circle"),  # the playground's
    ],
)
def test_ids_and_links_from_slack_and_teams_are_read(given, found):
    assert channel_id(given) == found


@pytest.mark.parametrize(
    "given",
    [
        "javascript:alert(1)",
        "JavaScript:alert(document.cookie)",
        "data:text/html,<script>alert(1)</script>",
        "http://acme.slack.com/archives/C0123ABCD",  # not https
        "https://evil.example.com/archives/C0123ABCD",
        "https://slack.com.evil.example/archives/C0123ABCD",
        "https://evilslack.com/archives/C0123ABCD",
        "//acme.slack.com/archives/C0123ABCD",
        "https://teams.microsoft.com.evil.example/l/channel/19%3aabc%40thread.tacv2/x",
        "https://acme.slack.com/messages",
        "https://teams.microsoft.com/l/channel/javascript%3aalert(1)/x",
        "C0123\x00ABCD",
        "<script>",
        "",
    ],
)
def test_anything_else_is_refused(given):
    with pytest.raises(RosterError):
        channel_id(given)


@pytest.mark.parametrize(
    ("reference", "problem"),
    [
        ("ana@example.org", None),
        ("U024BE7LH", None),
        ("ana\x00@example.org", "'ana\\x00@example.org' contains a control character"),
        ("U02\u200b4BE", "'U02\\u200b4BE' contains a control character"),
        ("a" * 320 + "@example.org", "an email address is at most 320 characters"),
        ("two words", "'two words' is neither an email address nor a chat user id"),
    ],
)
def test_people_are_named_by_email_or_chat_user_id_without_control_characters(reference, problem):
    assert reference_problem(reference) == problem
