"""A person's clicks on one poll option add up to the same vote in whatever order, and
however often, they are handled."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from core.polls import KEPT_CLICKS, Ballot, Choice, Click

NOW = datetime(2026, 12, 5, 12, tzinfo=UTC)


def clicked(*clicks: tuple[float, Choice]) -> list[Click]:
    return [
        Click(choice, NOW + timedelta(seconds=at), f"c{i}") for i, (at, choice) in enumerate(clicks)
    ]


def fold(clicks: list[Click]) -> Ballot:
    ballot = Ballot()
    for click in clicks:
        ballot = ballot.with_click(click) or ballot
    return ballot


def test_a_click_sets_a_second_withdraws_and_a_double_click_counts_once():
    yes, maybe = Choice.YES, Choice.IF_NEED_BE
    assert fold(clicked((0, yes))).vote is yes
    assert fold(clicked((0, yes), (5, yes))).vote is None  # clicked again: withdrawn
    assert fold(clicked((0, yes), (0.5, yes))).vote is yes  # a double-click
    assert (
        fold(clicked((0, yes), (5, yes), (5.3, yes))).vote is None
    )  # a double-click of the withdrawal
    assert fold(clicked((0, yes), (1, maybe))).vote is maybe  # changed, however soon
    assert fold(clicked((0, yes), (1, maybe), (1.5, yes))).vote is yes


def test_a_click_handled_twice_counts_once():
    (first,) = clicked((0, Choice.YES))
    ballot = Ballot().with_click(first)
    assert ballot is not None
    assert ballot.with_click(first) is None


choices = st.sampled_from(list(Choice))
gaps = st.one_of(st.just(0.4), st.floats(min_value=0.5, max_value=60))


@given(st.lists(st.tuples(gaps, choices), min_size=1, max_size=KEPT_CLICKS), st.randoms())
def test_the_order_clicks_are_handled_in_never_changes_the_vote(
    steps: list[tuple[float, Choice]], rng
):
    at = 0.0
    sent = []
    for gap, choice in steps:
        at += gap
        sent.append((at, choice))
    clicks = clicked(*sent)
    in_order = fold(clicks)
    handled = clicks + rng.sample(clicks, len(clicks) // 2)  # some twice, after a crash
    rng.shuffle(handled)
    assert fold(handled).vote is in_order.vote
    assert fold(handled).at == in_order.at


def test_beyond_the_kept_clicks_the_oldest_are_folded_into_the_base():
    clicks = clicked(*((i * 10.0, Choice.YES) for i in range(KEPT_CLICKS + 5)))
    ballot = fold(clicks)
    assert len(ballot.clicks) == KEPT_CLICKS
    assert ballot.last == clicks[4]
    # 25 clicks of "yes", each seconds apart: yes, withdrawn, yes, ... the 25th is yes.
    assert ballot.vote is Choice.YES
