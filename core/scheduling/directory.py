"""Who is in a program: each person with their chat user id, role, circles' channels and
whether their calendar is connected; the pairs; the circles that meet in a channel.

The playground lists it to choose who to act as; an admin console shows the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from zoneinfo import ZoneInfo

from core.calendars import ConnectionStatus
from core.people import PersonId, ProgramId
from core.scheduling.context import Ports, zone_of


class Role(StrEnum):
    MENTOR = "mentor"
    MENTEE = "mentee"
    CIRCLE = "circle"  # in a circle, paired with nobody


@dataclass(frozen=True, slots=True)
class Member:
    user_id: str  # their chat user id in the program
    name: str
    zone: ZoneInfo
    role: Role
    channels: tuple[str, ...]  # where their circles meet
    email: str | None
    connected: bool


@dataclass(frozen=True, slots=True)
class Circle:
    channel: str
    name: str
    members: tuple[str, ...]  # user ids, by name


@dataclass(frozen=True, slots=True)
class Roster:
    members: tuple[Member, ...]  # by name
    pairs: tuple[tuple[str, str], ...]  # (mentor, mentee) user ids
    circles: tuple[Circle, ...]  # those that meet in a channel

    def member(self, user_id: str) -> Member | None:
        return next((m for m in self.members if m.user_id == user_id), None)


async def roster(ports: Ports, program: ProgramId) -> Roster:
    settings = await ports.programs.settings(program)
    listed = await ports.people.list_program(program)
    user_of = {person.id: user_id for person, user_id in listed}
    pairs = await ports.pairings.all(program)
    mentors = {mentor.id for mentor, _ in pairs}
    mentees = {mentee.id for _, mentee in pairs}
    connected = set()
    for person, _ in listed:
        connection = await ports.connections.get(person.id)
        if connection is not None and connection.status is ConnectionStatus.CONNECTED:
            connected.add(person.id)
    channels: dict[PersonId, list[str]] = {}
    circles: dict[str, tuple[str, list[PersonId]]] = {}
    for person, _ in listed:
        for group in await ports.groups.groups_of(program, person.id):
            if group.channel:
                channels.setdefault(person.id, []).append(group.channel)
                circles.setdefault(group.channel, (group.name, list(group.members)))
    by_name = [person.id for person, _ in listed]  # list_program orders by name
    return Roster(
        members=tuple(
            Member(
                user_id=user_id,
                name=person.name,
                zone=zone_of(person.timezone, settings.default_timezone),
                role=Role.MENTOR
                if person.id in mentors
                else Role.MENTEE
                if person.id in mentees
                else Role.CIRCLE,
                channels=tuple(channels.get(person.id, ())),
                email=person.email,
                connected=person.id in connected,
            )
            for person, user_id in listed
        ),
        pairs=tuple(
            (user_of[mentor.id], user_of[mentee.id])
            for mentor, mentee in pairs
            if mentor.id in user_of and mentee.id in user_of
        ),
        circles=tuple(
            Circle(
                channel,
                name,
                tuple(user_of[p] for p in sorted(people, key=by_name.index) if p in user_of),
            )
            for channel, (name, people) in circles.items()
        ),
    )
