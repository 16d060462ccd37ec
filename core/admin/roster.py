"""A program's roster: people named by email or chat user id, mentoring pairs and circles.

Someone named before they ever talked to Pairtime is recorded with what is
known (an email, or a chat user id); when they first write to the bot their
chat profile completes the record. Every function here is a use case: the
command line prints what it returns, the admin console shows it. Each takes the
acting admin's :class:`~core.admin.access.Scope`: an admin of one track sees and
changes that track's pairs and circles only. Imports are in ``core.admin.imports``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from core.admin.access import Scope
from core.admin.ports import AdminPorts, PairListing
from core.admin.tracks import find_track, track_for
from core.audit import Change
from core.errors import Conflict, NotFound, RosterError
from core.people import (
    ChatIdentity,
    Group,
    Person,
    PersonId,
    Profile,
    ProgramId,
    platform_of,
    workspace_of,
)
from core.time import quoted
from core.tracks import Track, TrackId

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
CHAT_USER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9:_.\-]{1,199}$")
MAX_EMAIL = 320
MAX_CIRCLE_NAME = 200


async def choose_program(ports: AdminPorts, wanted: str | None) -> ProgramId:
    """``--program`` if given (created if new), else the only program there is."""
    if wanted:
        if platform_of(wanted) is None:
            raise RosterError(
                f"--program {quoted(wanted)} is not a program id; use slack:TEAM_ID, "
                "teams:TENANT_ID or web:demo"
            )
        program = ProgramId(wanted)
        await ports.programs.ensure(program, wanted)
        return program
    known = await ports.programs.known()
    if len(known) == 1:
        return known[0]
    if not known:
        raise NotFound(
            "there is no program yet: name one with --program slack:TEAM_ID (or teams:TENANT_ID)"
        )
    raise RosterError(f"several programs exist; choose one with --program ({', '.join(known)})")


def reference_problem(reference: str) -> str | None:
    """Why ``reference`` names nobody (None: it is an email address or a chat user id)."""
    if _has_control(reference):
        return f"{quoted(reference)} contains a control character"
    if EMAIL.match(reference):
        return None if len(reference) <= MAX_EMAIL else "an email address is at most 320 characters"
    if CHAT_USER.match(reference):
        return None
    return f"{quoted(reference)} is neither an email address nor a chat user id"


async def find_or_add(ports: AdminPorts, program: ProgramId, reference: str) -> tuple[Person, bool]:
    """The person named by ``reference`` (an email or a chat user id); True when new."""
    reference = reference.strip()
    problem = reference_problem(reference)
    if problem is not None:
        raise RosterError(problem)
    if EMAIL.match(reference):
        found = await ports.people.by_email(reference)
        if found is not None:
            return found, False
        return await ports.people.add_by_email(reference), True
    found = await ports.people.by_chat_user(program, reference)
    if found is not None:
        return found, False
    platform = platform_of(program)
    if platform is None:
        raise RosterError(f"{program} is not a chat program: name people there by email")
    identity = ChatIdentity(platform, workspace_of(program), reference)
    return await ports.people.remember(program, identity, Profile(reference)), True


PERSON_REF = "person:"  # how the console names someone it listed: "person:" and their id


async def find(ports: AdminPorts, program: ProgramId, reference: str) -> Person:
    reference = reference.strip()
    problem = reference_problem(reference)
    if problem is not None:
        raise RosterError(problem)
    if reference.startswith(PERSON_REF):
        wanted = PersonId(reference.removeprefix(PERSON_REF))
        listed = (await ports.people.many([wanted])).get(wanted)
        if listed is None:
            raise NotFound("that person is no longer known")
        return listed
    found = (
        await ports.people.by_email(reference)
        if EMAIL.match(reference)
        else await ports.people.by_chat_user(program, reference)
    )
    if found is None:
        raise NotFound(f"nobody called {quoted(reference)} is known in {program}")
    return found


def label(person: Person) -> str:
    """How a person is named in messages and the audit log."""
    return (
        f"{person.name} <{person.email}>"
        if person.email and person.email != person.name
        else person.name
    )


# ---------------------------------------------------------------- pairs


async def pairs(ports: AdminPorts, scope: Scope) -> list[PairListing]:
    """Every pair ``scope`` may see, with its track, by mentor then mentee name."""
    return [p for p in await ports.pairings.listing(scope.program) if scope.may(p.track)]


async def add_pair(
    ports: AdminPorts, scope: Scope, mentor: str, mentee: str, track: str | None = None
) -> tuple[PairListing, bool]:
    """Pair two people named by email or chat user id (recorded if new) in ``track``;
    False when they were paired already."""
    into = await track_for(ports, scope, track)
    for reference in (mentor, mentee):
        problem = reference_problem(reference.strip())
        if problem is not None:
            raise RosterError(problem)
    if mentor.strip().lower() == mentee.strip().lower():
        raise RosterError("a person cannot mentor themselves")
    first, _ = await find_or_add(ports, scope.program, mentor)
    second, _ = await find_or_add(ports, scope.program, mentee)
    if first.id == second.id:
        raise RosterError("a person cannot mentor themselves")
    added = await ports.pairings.pair(scope.program, first.id, second.id, into.id)
    if added:
        subject = f"pair {label(first)} → {label(second)}"
        await ports.audit.record(
            scope.program,
            scope.actor,
            [Change(subject, None, into.name, into.id)],
            ports.clock.now(),
        )
    return PairListing(first, second, into.id), added


async def _find_pair(ports: AdminPorts, scope: Scope, mentor: str, mentee: str) -> PairListing:
    first = await find(ports, scope.program, mentor)
    second = await find(ports, scope.program, mentee)
    for listed in await ports.pairings.listing(scope.program):
        if listed.mentor.id == first.id and listed.mentee.id == second.id:
            scope.check(listed.track)
            return listed
    raise NotFound(f"{label(first)} is not paired with {label(second)}")


async def remove_pair(ports: AdminPorts, scope: Scope, mentor: str, mentee: str) -> PairListing:
    """Unpair two people (both stay in the program)."""
    found = await _find_pair(ports, scope, mentor, mentee)
    await ports.pairings.unpair(scope.program, found.mentor.id, found.mentee.id)
    names = await _track_names(ports, scope.program)
    subject = f"pair {label(found.mentor)} → {label(found.mentee)}"
    change = Change(subject, names.get(found.track, "no track"), None, found.track)
    await ports.audit.record(scope.program, scope.actor, [change], ports.clock.now())
    return found


async def move_pair(
    ports: AdminPorts, scope: Scope, mentor: str, mentee: str, track: str
) -> PairListing:
    """Put a pair in another track (the admin must run both)."""
    found = await _find_pair(ports, scope, mentor, mentee)
    into = await track_for(ports, scope, track)
    if found.track == into.id:
        return found
    await ports.pairings.move(scope.program, found.mentor.id, found.mentee.id, into.id)
    names = await _track_names(ports, scope.program)
    subject = f"pair {label(found.mentor)} → {label(found.mentee)}"
    change = Change(subject, names.get(found.track, "no track"), into.name, into.id)
    await ports.audit.record(scope.program, scope.actor, [change], ports.clock.now())
    return PairListing(found.mentor, found.mentee, into.id)


async def _track_names(ports: AdminPorts, program: ProgramId) -> dict[TrackId | None, str]:
    return {t.id: t.name for t in await ports.tracks.all(program)}


# ---------------------------------------------------------------- circles


SLACK_HOSTS = ("slack.com",)  # and its subdomains: acme.slack.com, app.slack.com
TEAMS_HOSTS = (
    "teams.microsoft.com",
    "teams.cloud.microsoft",
    "teams.live.com",
    "gov.teams.microsoft.us",
    "dod.teams.microsoft.us",
)
# A bare id: Slack's C0123ABCD, Teams' 19:…@thread.tacv2, the playground's "circle".
BARE_CHANNEL = re.compile(
    r"^(?:19:[\w.\-]{1,150}@thread\.[a-z0-9]{1,20}|[A-Za-z0-9][\w.\-]{0,99})$"
)


def _host_in(host: str, hosts: tuple[str, ...]) -> bool:
    return any(host == h or host.endswith("." + h) for h in hosts)


def channel_id(text: str) -> str:
    """The channel id in ``text``: an id as it is, or the id inside a channel's link as
    Slack ("Copy link": https://acme.slack.com/archives/C0123ABCD) and Teams ("Get link to
    channel": https://teams.microsoft.com/l/channel/19%3a…%40thread.tacv2/Name?…) give
    them. Only https links from Slack's and Teams' own hosts are read: anything else
    (``javascript:``, another site) is refused, and so is an id with other characters."""
    text = text.strip()
    if _has_control(text):
        raise RosterError("a channel cannot contain control characters")
    if len(text) > 2000:
        raise RosterError("a channel's link is at most 2,000 characters")
    parsed = urlsplit(text)
    if parsed.scheme or text.startswith("//"):
        host = (parsed.hostname or "").lower()
        if parsed.scheme.lower() != "https" or not (
            _host_in(host, SLACK_HOSTS) or _host_in(host, TEAMS_HOSTS)
        ):
            if parsed.scheme.lower() == "19":  # a bare Teams id reads as a scheme
                return _bare(text)
            raise RosterError(
                f"{quoted(text)} is not a link to a Slack or Teams channel: copy the "
                "channel's link in Slack or Teams, or give its id"
            )
        parts = [unquote(part) for part in parsed.path.split("/") if part]
        markers = ("archives", "client") if _host_in(host, SLACK_HOSTS) else ("channel",)
        for marker in markers:
            if marker in parts[:-1]:
                index = parts.index(marker) + 1
                # Slack's client links carry the workspace first: /client/T0123/C0456.
                if marker == "client" and len(parts) > index + 1:
                    index += 1
                return _bare(parts[index])
        raise RosterError(f"{quoted(text)} is not a link to a Slack or Teams channel")
    return _bare(text)


def _bare(text: str) -> str:
    if not BARE_CHANNEL.match(text):
        raise RosterError(
            f"{quoted(text)} is not a channel id: use the id (C0123ABCD on Slack) or the "
            "channel's link"
        )
    return text


def _has_control(text: str) -> bool:
    """Control, format (zero-width), private or unassigned characters, and spaces other
    than the plain one: what ``str.isprintable`` refuses, in one pass in C."""
    return not text.isprintable()


async def link_circle(ports: AdminPorts, scope: Scope, name: str, channel: str | None) -> Group:
    """Link the circle called ``name`` to ``channel`` (an id or a link; None: unlink);
    refused when another circle has it."""
    circle = await find_circle(ports, scope, name)
    found = channel_id(channel) if channel else None
    if found == circle.channel:
        return circle
    if found is not None:
        await _channel_free(ports, scope.program, found, circle)
    try:
        await ports.circles.link(circle.id, found)
    except Conflict:
        raise Conflict(f"{found} was just linked to another circle") from None
    change = Change(f"channel of {circle.name}", circle.channel, found, _track(circle))
    await ports.audit.record(scope.program, scope.actor, [change], ports.clock.now())
    return Group(circle.id, circle.program, circle.name, circle.members, found, circle.track)


def _track(circle: Group) -> TrackId | None:
    return TrackId(circle.track) if circle.track else None


async def _channel_free(
    ports: AdminPorts, program: ProgramId, channel: str, circle: Group | None
) -> None:
    other = await ports.circles.by_channel(program, channel)
    if other is not None and (circle is None or other.id != circle.id):
        raise Conflict(f"{channel} is already the channel of the circle {other.name!r}")


async def find_circle(ports: AdminPorts, scope: Scope, name: str) -> Group:
    circle = await ports.circles.named(scope.program, name.strip())
    if circle is None:
        known = [g.name for g in await ports.circles.all(scope.program) if scope.may(_track(g))]
        hint = f" (circles: {', '.join(known)})" if known else ""
        raise NotFound(f"there is no circle called {quoted(name)} in {scope.program}{hint}")
    scope.check(_track(circle))
    return circle


async def add_circle(ports: AdminPorts, scope: Scope, name: str, track: str | None = None) -> Group:
    """A new, empty circle in ``track``; Conflict when the name is taken."""
    into = await track_for(ports, scope, track)
    name = " ".join(name.split())
    if not name or len(name) > MAX_CIRCLE_NAME or _has_control(name):
        raise RosterError("a circle's name is 1 to 200 characters, without control characters")
    created = await ports.circles.create(scope.program, name, track=into.id)
    change = Change(f"circle {name}", None, into.name, into.id)
    await ports.audit.record(scope.program, scope.actor, [change], ports.clock.now())
    return created


async def add_member(ports: AdminPorts, scope: Scope, name: str, reference: str) -> bool:
    """Add the person ``reference`` names to a circle; False when they were in it."""
    circle = await find_circle(ports, scope, name)
    person, _ = await find_or_add(ports, scope.program, reference)
    added = await ports.circles.add_member(circle.id, person.id)
    if added:
        change = Change(f"member of {circle.name}", None, label(person), _track(circle))
        await ports.audit.record(scope.program, scope.actor, [change], ports.clock.now())
    return added


async def remove_circle(ports: AdminPorts, scope: Scope, name: str) -> Group:
    """Forget the circle called ``name`` (its members stay in the program); the circle."""
    circle = await find_circle(ports, scope, name)
    await ports.circles.remove(circle.id)
    change = Change(
        f"circle {circle.name}", f"{len(circle.members)} member(s)", None, _track(circle)
    )
    await ports.audit.record(scope.program, scope.actor, [change], ports.clock.now())
    return circle


async def move_circle(ports: AdminPorts, scope: Scope, name: str, track: str) -> Group:
    circle = await find_circle(ports, scope, name)
    into: Track = await track_for(ports, scope, track)
    if circle.track == into.id:
        return circle
    await ports.circles.move(circle.id, into.id)
    old = await find_track(ports, scope, circle.track) if circle.track else None
    change = Change(f"circle {circle.name}", old.name if old else "no track", into.name, into.id)
    await ports.audit.record(scope.program, scope.actor, [change], ports.clock.now())
    return Group(circle.id, circle.program, circle.name, circle.members, circle.channel, into.id)


@dataclass(frozen=True, slots=True)
class CircleListing:
    circle: Group
    members: tuple[Person, ...]  # by name


async def circles(ports: AdminPorts, scope: Scope) -> list[CircleListing]:
    """Every circle ``scope`` may see, by name, with its members by name."""
    found = [c for c in await ports.circles.all(scope.program) if scope.may(_track(c))]
    people = await ports.people.many(sorted({m for c in found for m in c.members}))
    return [
        CircleListing(
            circle,
            tuple(sorted((people[m] for m in circle.members if m in people), key=_by_name)),
        )
        for circle in found
    ]


def _by_name(person: Person) -> str:
    return person.name.lower()
