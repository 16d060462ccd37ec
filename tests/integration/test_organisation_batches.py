"""Microsoft 365 organisation reads go to Graph as JSON batches of at most 20 people, and
an answer of 429 inside a batch is asked again after its own Retry-After."""

from __future__ import annotations

from core.calendars import BusyTimes, NotConnected
from tests.fakes.microsoft import FakeEvent
from tests.integration.test_organisation_microsoft import World, world, z

__all__ = ["world"]  # the fixture, shared with the reads' other tests


async def test_25_people_are_read_in_two_batches_and_a_throttled_answer_is_asked_again(
    world: World,
):
    people = [await world.person(f"aad-{n}", f"p{n}@contoso.com") for n in range(25)]
    for n in range(25):
        world.microsoft.set_events(f"p{n}@contoso.com", [FakeEvent(z(1, 9), z(1, 10 + n % 3))])
    world.microsoft.add_account("outside@contoso.com")
    outsider = await world.person("aad-out", "outside@contoso.com")
    world.microsoft.app_scope = frozenset(
        {"mentoring@contoso.com", *(f"p{n}@contoso.com" for n in range(25))}
    )
    await world.connect()
    world.microsoft.calls.clear()
    world.microsoft.fail_next(429, on="calendarView", retry_after=0, times=2)

    found = await world.busy(*people, outsider)

    for n, person in enumerate(people):
        result = found[person.id]
        assert isinstance(result, BusyTimes), (n, result)
        assert [(b.start, b.end) for b in result.intervals] == [(z(1, 9), z(1, 10 + n % 3))]
    assert isinstance(found[outsider.id], NotConnected)  # 403 inside the batch: not covered
    batches = world.microsoft.calls_to("batch")
    sizes = sorted(len(call.json["requests"]) for call in batches)
    # 26 people in batches of 20 and 6, then the two throttled answers asked again.
    assert sizes[-2:] == [6, 20]
    assert sum(sizes) == 26 + 2
    assert max(sizes) <= 20
    assert len(world.microsoft.calls_to("calendarView")) == 26 + 2
