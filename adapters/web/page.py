"""The playground page: a person switcher, the conversation (with each person's inbox and
calendar beside it), and how to try it. Pure: ``templates/page.html`` filled in.

The roster comes from the database (whoever the demo program holds now), so
the instructions stay true after ``pairtime demo reset`` or any change.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from adapters.templates import render
from adapters.web.render import zone_name
from core.scheduling.directory import Member, Role, Roster

GROUP_LABELS = {Role.MENTOR: "Mentors", Role.MENTEE: "Mentees", Role.CIRCLE: "Circle members"}


DIRECT = "dm"  # the conversation with Pairtime, in the page's address and API


@dataclass(frozen=True, slots=True)
class _Group:
    label: str
    members: tuple[Member, ...]


@dataclass(frozen=True, slots=True)
class _Poll:
    channel: str
    organiser: Member
    voters: tuple[Member, ...]


def page(
    roster: Roster, *, person: str | None, place: str, password: str, desk: bool = False
) -> str:
    """The whole page, showing ``person`` (a user id) in ``place`` (``dm`` or a channel);
    ``desk``: the demo's inboxes and calendars are running, so their tabs are shown."""
    showcase = _showcase_pair(roster)
    current = (
        roster.member(person or "")
        or (showcase[0] if showcase else None)
        or (roster.members[0] if roster.members else None)
    )
    if current is not None and place != DIRECT and place not in current.channels:
        place = DIRECT
    groups = [
        _Group(GROUP_LABELS[role], tuple(m for m in roster.members if m.role is role))
        for role in Role
    ]
    return render(
        "adapters.web",
        "page.html",
        groups=[group for group in groups if group.members],
        current=current,
        place=place,
        title="Pairtime" if place == DIRECT else f"#{place}",
        circles=json.dumps({circle.channel: circle.name for circle in roster.circles}),
        pair=showcase,
        unconnected=next((m for m in roster.members if not m.connected and m.email), None),
        poll=_poll(roster),
        password=password,
        desk=desk and current is not None,
        zone_name=zone_name,
        city=_city,
    )


def _poll(roster: Roster) -> _Poll | None:
    if not roster.circles:
        return None
    circle = roster.circles[0]
    members = [m for m in (roster.member(u) for u in circle.members) if m is not None]
    if not members:
        return None
    return _Poll(circle.channel, members[0], tuple(members[1:]))


def _showcase_pair(roster: Roster) -> tuple[Member, Member] | None:
    """A pair to book with: both calendars connected if possible, the first pair otherwise."""
    pairs = [
        (mentor, mentee)
        for mentor, mentee in ((roster.member(a), roster.member(b)) for a, b in roster.pairs)
        if mentor is not None and mentee is not None
    ]
    both = [p for p in pairs if p[0].connected and p[1].connected]
    chosen = both or pairs
    return chosen[0] if chosen else None


def _city(member: Member) -> str:
    return member.zone.key.rsplit("/", 1)[-1].replace("_", " ")
