"""Mentions, typed names and roles become participants, in order, without the bot."""

from __future__ import annotations

import pytest

from core.commands import Mention, Name, Relation, RelationRef
from core.parsing.participants import find_participants


def people(text, bot_user_id=None):
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
        ("write to maria@example.com", ()),
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
