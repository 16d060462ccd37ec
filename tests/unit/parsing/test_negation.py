"""What a message rules out, and what it only limits, clause by clause."""

from __future__ import annotations

import pytest

from core.parsing.negation import split_negations


def split(text: str) -> tuple[str, tuple[str, ...]]:
    negations = split_negations(text)
    return " ".join(negations.kept.split()), negations.clauses


@pytest.mark.parametrize(
    ("text", "kept", "ruled_out"),
    [
        ("next week, not monday", "next week,", ("monday",)),
        (
            "next week except monday and tuesday, ideally mornings",
            "next week , ideally mornings",
            ("monday and tuesday",),
        ),
        ("anything but mornings", "", ("mornings",)),
        ("don't book friday", "", ("book friday",)),
        ("next week but not friday", "next week", ("friday",)),
        ("tuesday instead of monday", "tuesday", ("monday",)),
        ("i am away tomorrow but free thursday", "but free thursday", ("tomorrow",)),
        ("i'm busy on monday", "", ("on monday",)),
        # Said after the day: the words just before are ruled out.
        ("friday's out", "", ("friday",)),
        ("monday doesn't work for me", "for me", ("monday",)),
        ("fridays i can't do", "", ("fridays i",)),
        ("no meetings on friday", "", ("friday",)),
        ("no poll, find a time", ", find a time", ("poll",)),
    ],
)
def test_ruled_out(text, kept, ruled_out):
    assert split(text) == (kept, ruled_out)


@pytest.mark.parametrize(
    "text",
    [
        "not before 10",
        "no later than friday",
        "not more than an hour",
        "but not after 4pm",
        "no rush, next week",
        "not sure, maybe next week",
        "i don't mind which day next week",
        "whether or not",
        "no worries",
    ],
)
def test_limits_and_figures_of_speech_rule_nothing_out(text):
    assert split(text) == (text, ())


def test_the_text_keeps_its_length():
    text = "find a time next week, not monday please"
    assert len(split_negations(text).kept) == len(text)
