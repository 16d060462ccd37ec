"""How activity is counted from meetings and polls: booked, held, the rates and waits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.admin.activity import MeetingFact, PollFact, monday, stats
from core.people import PersonId

NOW = datetime(2026, 12, 9, 12, tzinfo=UTC)  # a Wednesday
ANA, BEN, CAT = PersonId("ana"), PersonId("ben"), PersonId("cat")
HOUR = timedelta(hours=1)


def meeting(ref: str, start: datetime, status: str = "confirmed") -> MeetingFact:
    return MeetingFact(ref, start, start + HOUR, status, frozenset({ANA, BEN}), None, start - HOUR)


def poll(ref: str, answered: set[PersonId], booked_after: timedelta | None) -> PollFact:
    created = NOW - timedelta(days=5)
    return PollFact(
        ref,
        ANA,
        None,
        "closed",
        created,
        frozenset({BEN, CAT}),
        frozenset(answered),
        created + booked_after if booked_after else None,
    )


def test_booked_held_cancelled_declined_and_the_dates_around_now():
    found = stats(
        [
            meeting("a", NOW - timedelta(days=10)),
            meeting("b", NOW - timedelta(days=3)),
            meeting("c", NOW - timedelta(days=2), "cancelled"),
            meeting("d", NOW - timedelta(days=1), "declined"),
            meeting("e", NOW + timedelta(days=4)),
            meeting("f", NOW + timedelta(days=2), "proposed"),
            meeting("g", NOW - timedelta(minutes=30)),  # under way: booked, not held
        ],
        [],
        NOW,
    )
    assert (found.booked, found.held, found.cancelled, found.declined) == (4, 2, 1, 1)
    assert found.last == NOW - timedelta(days=3)
    assert found.next == NOW + timedelta(days=2)  # a proposal is the next meeting too
    assert found.days_since == 2  # since the meeting held ended: 3 days minus its hour
    assert found.polls == 0
    assert found.response_rate is None
    assert found.poll_to_booking is None


def test_response_rate_and_the_median_wait_from_poll_to_booking():
    drafted = PollFact("x", ANA, None, "draft", NOW, frozenset({BEN}), frozenset(), None)
    found = stats(
        [],
        [
            poll("p", {BEN, CAT}, HOUR),
            poll("q", {BEN}, 3 * HOUR),
            poll("r", set(), 10 * HOUR),
            poll("s", {CAT, ANA}, None),  # the organiser's own vote is not a response
            drafted,
        ],
        NOW,
    )
    assert found.polls == 4
    assert found.response_rate == 4 / 8
    assert found.poll_to_booking == 3 * HOUR
    assert found.last is None
    assert found.days_since is None


def test_weeks_start_on_monday():
    assert monday(NOW.date()).isoformat() == "2026-12-07"
    assert monday(datetime(2026, 12, 7, tzinfo=UTC).date()).isoformat() == "2026-12-07"
