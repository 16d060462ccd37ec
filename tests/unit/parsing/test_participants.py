"""Mentions, typed names and roles become participants, in order, without the bot."""

from __future__ import annotations

import pytest

from core.commands import Mention, Name, Named, ParticipantRef, Relation, RelationRef
from core.parsing.participants import find_participants, find_people


def people(text: str, bot_user_id: str | None = None) -> tuple[ParticipantRef, ...]:
    return find_participants(text, bot_user_id)[0]


def test_mentions_names_and_roles_keep_the_order_they_were_written_in():
    assert people("with <@U024BE7LH|maria>, my mentee, @sam and <@W9>") == (
        Mention("U024BE7LH"),
        RelationRef(Relation.MENTEE),
        Name("sam"),
        Mention("W9"),
    )


def test_each_person_counts_once():
    assert people("<@U1> and <@U1|maria>, my mentee and my mentee") == (
        Mention("U1"),
        RelationRef(Relation.MENTEE),
    )


def test_the_bot_is_nobody_to_meet():
    assert people("<@UBOT> find a time with <@U1>", bot_user_id="UBOT") == (Mention("U1"),)
    assert people("@pairtime find a time with @PairTime and @maria") == (Name("maria"),)


def test_without_the_bot_id_a_leading_mention_is_a_participant():
    assert people("<@UBOT> find a time with <@U1>") == (Mention("UBOT"), Mention("U1"))


def test_teams_ids_rewritten_as_mentions_are_kept_whole():
    assert people("meet <@29:1a-B_c.d>") == (Mention("29:1a-B_c.d"),)


@pytest.mark.parametrize(
    ("text", "relation"),
    [
        ("my mentee", Relation.MENTEE),
        ("My Mentee's calendar", Relation.MENTEE),
        ("my mentees", Relation.MENTEES),
        ("my mentor", Relation.MENTOR),
        ("my mentors", Relation.MENTOR),
        ("our mentoring partner", Relation.PARTNER),
        ("my circle", Relation.GROUP),
        ("my group", Relation.GROUP),
        ("the group", Relation.GROUP),
        ("this circle", Relation.GROUP),
    ],
)
def test_roles(text, relation):
    assert people(text) == (RelationRef(relation),)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("write to maria@example.com", (Named("maria@example.com"),)),
        ("@maria.", (Name("maria"),)),
        ("@maria's calendar", (Name("maria"),)),
        ("@maria.lopez", (Name("maria.lopez"),)),
        ("@here and @channel", ()),
        ("@3pm", ()),
        ("a mentee", ()),
        ("<@>", ()),
    ],
)
def test_names(text, expected):
    assert people(text) == expected


def test_what_is_left_has_no_people_in_it():
    _, rest = find_participants("find <@U1|maria> and my mentee a slot", None)
    assert rest.split() == ["find", "and", "a", "slot"]


def everyone(
    text: str,
) -> tuple[tuple[ParticipantRef, ...], tuple[ParticipantRef, ...], tuple[str, ...]]:
    found = find_people(text, None)
    return found.named, found.without, found.unclear


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("30 min with Sam on Friday", ("Sam",)),
        ("when can I meet Sam?", ("Sam",)),
        ("find a time with Sam Carter next week", ("Sam Carter",)),
        ("with sam carter tomorrow", ("sam carter",)),
        ("find a time with Jan van Dijk", ("Jan van Dijk",)),
        ("find a time with María José", ("María José",)),
        ("with O\u2019Brien", ("O'Brien",)),
        ("with Dr. Patel", ("Dr. Patel",)),
        ("Sam and I need an hour", ("Sam",)),
        ("me and Sam need an hour", ("Sam",)),
        ("Priya, Sam and I", ("Priya", "Sam")),
        ("is Jonas free tomorrow", ("Jonas",)),
        ("when are sam and priya around", ("sam", "priya")),
        ("with Ana, Ben and Chidi", ("Ana", "Ben", "Chidi")),
        ("with sam, priya and jonas", ("sam", "priya", "jonas")),
        ("with sam tomorrow and priya", ("sam", "priya")),
        ("check Sam's calendar", ("Sam",)),
        ("find a time for Sam", ("Sam",)),
        ("with June next week", ("June",)),
    ],
)
def test_names_in_plain_words(text, named):
    assert everyone(text)[0] == tuple(Named(name) for name in named)


@pytest.mark.parametrize(
    "text",
    [
        "find a time for onboarding",
        "with june next week",  # a month, written small
        "find time with them next week",
        "with a 10 minute buffer",
        "book a call with plenty of notice",
        "find 30 minutes with Sam, ideally next week",
        "Hi Sam, can you find a time?",
        "find time with HR",
    ],
)
def test_words_that_name_no_one(text):
    named = everyone(text)[0]
    assert all(ref.text == "Sam" for ref in named if isinstance(ref, Named))
    assert len(named) <= 1


def test_every_named_person_is_kept():
    assert everyone("find a time with my mentee and Jonas")[0] == (
        RelationRef(Relation.MENTEE),
        Named("Jonas"),
    )
    assert everyone("with <@U1> and jonas")[0] == (Mention("U1"), Named("jonas"))
    assert everyone("with @maria & Jonas + Priya")[0] == (
        Name("maria"),
        Named("Jonas"),
        Named("Priya"),
    )


def test_an_email_address_names_someone():
    assert everyone("with sam.carter@example.com and lee@example.org")[0] == (
        Named("sam.carter@example.com"),
        Named("lee@example.org"),
    )


def test_people_can_be_ruled_out():
    assert everyone("my circle except Sam and Jonas") == (
        (RelationRef(Relation.GROUP),),
        (Named("Sam"), Named("Jonas")),
        (),
    )
    assert everyone("my circle without <@U1>")[1] == (Mention("U1"),)
    assert everyone("everyone but Priya")[1] == (Named("Priya"),)
    assert everyone("my mentees but not Priya")[1] == (Named("Priya"),)


def test_someone_who_cannot_be_looked_up_is_reported():
    assert everyone("with the new intern")[2] == ("the new intern",)
    assert everyone("with Sam's manager")[2] == ("Sam's manager",)
    assert everyone("with Sam and his manager") == ((Named("Sam"),), (), ("his manager",))


def test_names_are_taken_out_of_the_text():
    rest = find_people("meet Sam Carter on Friday", None).rest
    assert rest.split() == ["meet", "on", "Friday"]
